#!/usr/bin/env bash
# The headset view's latency (scripts/bench.sh xr-view): `teleop run` with
# [xr] view = headset against the replay runtime (90 Hz display) for SECONDS
# (10), the embedded default session's head camera (the simulated robot's
# head camera, 640x480 at 30 fps, rendered with Mesa), then
# scripts/bench_xr_view.py on the episode's headset_view stream: capture and
# arrival -> layer submitted p50/p99/max, head_late's distribution, render
# time, the display period predicted and delivered. --targets: exit 1 when a
# target is missed (bench_xr_view.py names it).
# Usage: scripts/bench_xr_view.sh TELEOP [SECONDS] [--targets]
# Needs a display (bench.sh runs it under a private Xvfb).
set -uo pipefail
teleop=$1
shift
secs=10 flags=()
for a in "$@"; do
  if [[ $a == --* ]]; then flags+=("$a"); else secs=$a; fi
done
here=$(dirname "$0")
out=$(mktemp -d /tmp/teleop-bench-xr-view-XXXXXX)
trap 'rm -rf "$out"' EXIT
# The default session's camera (head_camera: sim, 640x480, 30 fps, H.264)
# is the head panel's.
cat >"$out/view.ini" <<INI
[operator]
source = xr
loop = true
[xr]
view = headset
INI
unset XR_RUNTIME_JSON TELEOP_XR_REPLAY_DUMP TELEOP_XR_REPLAY_SCRIPT TELEOP_XR_REPLAY_SOURCE
export TELEOP_XR_REPLAY_HZ=90
if ! "$teleop" run --no-console --config "$out/view.ini" --duration "$secs" --out "$out/rec" >"$out/out" 2>"$out/err"; then
  cat "$out/err" >&2
  echo "bench xr-view: teleop run failed" >&2
  exit 1
fi
episode=$(sed -n 's/^episode: //p' "$out/out" | tail -n 1)
"$teleop" check "$episode" >/dev/null || { echo "bench xr-view: teleop check rejects $episode" >&2; exit 1; }
echo "teleop run: view = headset, replay runtime at 90 Hz, head camera sim 640x480 30 fps, $secs s (load average $(cut -d' ' -f1 /proc/loadavg))"
/usr/bin/python3 "$here/bench_xr_view.py" "$episode" "${flags[@]}"
