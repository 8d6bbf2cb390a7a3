#!/usr/bin/env bash
# Runs a command with DISPLAY set to a private Xvfb server (a free display
# number chosen by the server itself, so parallel tests never collide), then
# stops the server. The command's exit status is this script's.
# Usage: with_xvfb.sh [--size WxHxD] COMMAND [ARGS...]
set -uo pipefail
size=1600x1000x24
if [[ "${1:-}" == --size ]]; then size=$2; shift 2; fi
command -v Xvfb >/dev/null || { echo "with_xvfb: Xvfb not installed (scripts/setup.sh installs xvfb)" >&2; exit 1; }
fifo=$(mktemp -u); mkfifo "$fifo"
Xvfb -displayfd 3 -screen 0 "$size" -nolisten tcp -noreset 3>"$fifo" >/dev/null 2>&1 &
xpid=$!
read -r -t 20 num <"$fifo"
rm -f "$fifo"
[[ -n "${num:-}" ]] || { echo "with_xvfb: Xvfb did not start" >&2; kill "$xpid" 2>/dev/null; exit 1; }
export DISPLAY=":$num"
"$@"
rc=$?
kill "$xpid" 2>/dev/null
wait "$xpid" 2>/dev/null
exit $rc
