#!/usr/bin/env bash
# The operator console on a live session (run under tests/support/with_xvfb.sh):
#   1. `teleop run --console` (the default simulated session, two episodes,
#      4 s): a screenshot shows the recording state, the status figures and
#      the head camera's live frame, the very frame the episode holds
#      (console_check); keys typed with xdotool into the console window set
#      a new task (t, text through GLFW's character input, Enter), then
#      → ends episode 1 and keeps it; episode 2 records to the end with the
#      new task.
#   2. The same session with `[console] enabled = off` on the same display,
#      the same commands given on the terminal's command input ("task ...",
#      "keep"): no window opens, and the episodes come out the same (count,
#      outcomes, episode 1 ended by the key, episode 2's task).
#   3. The control loop's deadline misses with the console are no more than
#      without it, plus at most 5: the noise of a shared 2-core machine. Two
#      runs with the same settings there differ by up to 3 misses either way
#      (measured: with/without the console 3/0, 0/0, 0/0, 2/0, 2/0, 0/3 in
#      4-6 s sessions; misses come in pairs, a late start and its overrun).
#      scripts/bench.sh console compares them over longer runs, strictly.
#   4. The default (auto) opens the console when a display is present;
#      --console without one fails at once with one line; --no-console and
#      --console exclude each other.
# Usage: console_test.sh TELEOP CONSOLE_CHECK WORKDIR
set -uo pipefail
teleop=$1 check=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -n "${DISPLAY:-}" ]] || fail "no DISPLAY: run under tests/support/with_xvfb.sh"
rm -rf "$work"
mkdir -p "$work"
# After the console window appears (or the session starts): the task is typed
# after TASK_AT seconds, episode 1 ended KEEP_AFTER seconds later.
TASK_AT=0.8 KEEP_AFTER=1.6
# ASCII: xdotool types other characters by remapping a key for a moment,
# which races the window's reading of it (test_console_keys feeds the
# console UTF-8 directly).
TASK="stack the cube #2"

# ---- 1. with the console
"$teleop" run -v --console --duration 4 --episodes 2 --out "$work/console" \
  --console-screenshot "$work/console.png" --console-screenshot-after 1.4 --commands /dev/null \
  >"$work/console.out" 2>"$work/console.err" &
pid=$!
wid=$(timeout 20 xdotool search --sync --onlyvisible --name '^teleop console$' | head -n 1)
[[ -n "$wid" ]] || { kill "$pid"; cat "$work/console.err" >&2; fail "no console window appeared"; }
xdotool windowfocus --sync "$wid" || fail "xdotool could not focus the console"
sleep "$TASK_AT"
xdotool key t && xdotool type --delay 30 "$TASK" && xdotool key Return || fail "xdotool could not type"
sleep "$KEEP_AFTER"
xdotool key Right || fail "xdotool could not send the key"
wait "$pid" || { cat "$work/console.err" >&2; fail "teleop run --console failed"; }

# ---- 2. the terminal's command instead, no console, the same display
mkfifo "$work/commands"
(sleep "$TASK_AT"; echo "task $TASK"; sleep "$KEEP_AFTER"; echo keep; exec sleep 60) >"$work/commands" 2>/dev/null &
feeder=$!
printf '[console]\nenabled = off\n' >"$work/no-console.ini"
"$teleop" run -v --config "$work/no-console.ini" --duration 4 --episodes 2 --out "$work/terminal" \
  --commands "$work/commands" \
  >"$work/terminal.out" 2>"$work/terminal.err" &
pid=$!
sleep 1
if xdotool search --name '^teleop console$' >/dev/null 2>&1; then
  kill "$pid" "$feeder"
  fail "[console] enabled = off opened a console window"
fi
wait "$pid"
rc=$?
kill "$feeder" 2>/dev/null
((rc == 0)) || { cat "$work/terminal.err" >&2; fail "teleop run without the console failed"; }

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
  # Episode 1 ended by the key (two episodes, above), after the task was typed.
  len=$(sqlite3 "${eps[0]}" "select (select value from meta where key='end_t_ns') - (select value from meta where key='start_t_ns')")
  echo "$run: episode 1 lasted $((len / 1000000)) ms, episode 2 $(sqlite3 "${eps[1]}" "select ((select value from meta where key='end_t_ns') - (select value from meta where key='start_t_ns')) / 1000000") ms"
  ((len > 500000000)) || fail "$run: episode 1 lasted $len ns: it ended before the key"
  task=$(sqlite3 "${eps[1]}" "select value from meta where key='task'")
  [[ $task == "$TASK" ]] || fail "$run: episode 2's task is '$task', expected '$TASK'"
done

# ---- the screenshot against episode 1, taken while it was recorded
"$check" "$work/console.png" "$(ls "$work/console"/*.db | sort | head -n 1)" recording || fail "console screenshot"

# ---- deadline misses, with and without the console
misses() { sed -n 's/.* \([0-9][0-9]*\) deadline misses.*/\1/p' "$1" | tail -n 1; }
with=$(misses "$work/console.err") without=$(misses "$work/terminal.err")
[[ -n "$with" && -n "$without" ]] || fail "no deadline-miss figure in the -v output"
echo "deadline misses: $with with the console, $without without"
((with <= without + 5)) || fail "the console run missed $with control deadlines, the run without it $without"
# ---- 4. the default with a display; no display; the two flags together
"$teleop" run --no-record --duration 2 --commands /dev/null >/dev/null 2>"$work/auto.err" &
pid=$!
timeout 15 xdotool search --sync --onlyvisible --name '^teleop console$' >/dev/null ||
  { kill "$pid"; fail "no console window by default with a display"; }
wait "$pid" || { cat "$work/auto.err" >&2; fail "teleop run with the default console failed"; }
if DISPLAY= WAYLAND_DISPLAY= "$teleop" run --console --duration 1 --out "$work/none" 2>"$work/none.err"; then
  fail "--console without a display ran"
fi
grep -q "no display" "$work/none.err" || fail "--console without a display: $(cat "$work/none.err")"
[[ $(wc -l <"$work/none.err") -eq 1 && ! -e "$work/none" ]] || fail "--console without a display: not one line before anything"
"$teleop" run --console --no-console --duration 1 2>/dev/null
[[ $? -eq 2 ]] || fail "--console --no-console is not a usage error"
echo "ok"
