#!/usr/bin/env bash
# The operator console on a live session (run under tests/support/with_xvfb.sh):
#   1. `teleop run --console` (the default simulated session, two episodes,
#      4 s): a screenshot shows the recording state, the status figures and
#      the head camera's live frame, the very frame the episode holds
#      (console_check); the → key sent with xdotool to the console window
#      ends episode 1 and keeps it, episode 2 records to the end.
#   2. The same session with --no-console on the same display, "keep" given
#      on the terminal's command input at the same moment: no window opens,
#      and the episodes come out the same (count, outcomes, episode 1 ended
#      by the key).
#   3. The control loop's deadline misses with the console are no more than
#      without it, plus at most 2 (the tolerance a shared 2-core machine
#      needs: scripts/bench.sh console compares them over longer runs).
# Usage: console_test.sh TELEOP CONSOLE_CHECK WORKDIR
set -uo pipefail
teleop=$1 check=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -n "${DISPLAY:-}" ]] || fail "no DISPLAY: run under tests/support/with_xvfb.sh"
rm -rf "$work"
mkdir -p "$work"
KEY_AT=1.8 # seconds after the session's window (or start) to end episode 1

# ---- 1. with the console
"$teleop" run -v --console --duration 4 --episodes 2 --out "$work/console" \
  --console-screenshot "$work/console.png" --console-screenshot-after 1.0 --commands /dev/null \
  >"$work/console.out" 2>"$work/console.err" &
pid=$!
wid=$(timeout 20 xdotool search --sync --onlyvisible --name '^teleop console$' | head -n 1)
[[ -n "$wid" ]] || { kill "$pid"; cat "$work/console.err" >&2; fail "no console window appeared"; }
sleep "$KEY_AT"
xdotool windowfocus --sync "$wid" key Right || fail "xdotool could not send the key"
wait "$pid" || { cat "$work/console.err" >&2; fail "teleop run --console failed"; }

# ---- 2. the terminal's command instead, no console, the same display
mkfifo "$work/commands"
(sleep "$KEY_AT"; echo keep; exec sleep 60) >"$work/commands" 2>/dev/null &
feeder=$!
"$teleop" run -v --no-console --duration 4 --episodes 2 --out "$work/terminal" --commands "$work/commands" \
  >"$work/terminal.out" 2>"$work/terminal.err" &
pid=$!
sleep 1
if xdotool search --name '^teleop console$' >/dev/null 2>&1; then
  kill "$pid" "$feeder"
  fail "--no-console opened a console window"
fi
wait "$pid"
rc=$?
kill "$feeder" 2>/dev/null
((rc == 0)) || { cat "$work/terminal.err" >&2; fail "teleop run --no-console failed"; }

# ---- the episodes: the same shape either way
for run in console terminal; do
  mapfile -t eps < <(ls "$work/$run"/*.db 2>/dev/null | sort)
  [[ ${#eps[@]} -eq 2 ]] || fail "$run: ${#eps[@]} episodes, expected 2 (one ended by the key)"
  [[ $(grep -c '^episode: ' "$work/$run.out") -eq 2 ]] || fail "$run: not two 'episode:' lines"
  for ep in "${eps[@]}"; do
    "$teleop" check "$ep" >/dev/null || fail "$run: $ep does not pass teleop check"
    outcome=$(sqlite3 "$ep" "select value from meta where key='outcome'")
    [[ $outcome == completed ]] || fail "$run: $ep outcome '$outcome', expected completed"
  done
  # Episode 1 ended by the key: shorter than the session by far.
  len=$(sqlite3 "${eps[0]}" "select (select value from meta where key='end_t_ns') - (select value from meta where key='start_t_ns')")
  echo "$run: episode 1 lasted $((len / 1000000)) ms, episode 2 $(sqlite3 "${eps[1]}" "select ((select value from meta where key='end_t_ns') - (select value from meta where key='start_t_ns')) / 1000000") ms"
  ((len > 500000000 && len < 3200000000)) || fail "$run: episode 1 lasted $len ns: the key did not end it"
done

# ---- the screenshot against episode 1, taken while it was recorded
"$check" "$work/console.png" "$(ls "$work/console"/*.db | sort | head -n 1)" recording || fail "console screenshot"

# ---- deadline misses, with and without the console
misses() { sed -n 's/.* \([0-9][0-9]*\) deadline misses.*/\1/p' "$1" | tail -n 1; }
with=$(misses "$work/console.err") without=$(misses "$work/terminal.err")
[[ -n "$with" && -n "$without" ]] || fail "no deadline-miss figure in the -v output"
echo "deadline misses: $with with the console, $without without"
((with <= without + 2)) || fail "the console run missed $with control deadlines, the run without it $without"
echo "ok"
