#!/usr/bin/env bash
# `teleop run --mirror` (the headset view's desktop mirror, docs/devices/xr.md)
# under a private Xvfb, the replay runtime behind [xr] view = headset: what
# this test covers is the plumbing, not the mirror's picture (the view
# thread's tests do that).
#   1. --mirror without [xr] view = headset, and --mirror with --no-mirror,
#      are usage errors (exit 2, one line).
#   2. --mirror --no-console: the session runs on a thread of its own
#      (tp-session) while the main thread processes GLFW's events; it runs
#      to its end (operator frames at the display rate, the episode kept,
#      `teleop check` passes) and the process exits.
#   3. [xr] mirror = true overridden by --no-mirror: the session runs on the
#      main thread as before (no tp-session thread).
#   4. --mirror without a display: one line, before anything is recorded.
# Usage: with_xvfb.sh xr_mirror_test.sh TELEOP_BINARY
set -u
teleop=$1
tmp=$(mktemp -d /tmp/teleop-xrmirror-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
unset XR_RUNTIME_JSON TELEOP_XR_REPLAY_SCRIPT TELEOP_XR_REPLAY_SOURCE TELEOP_XR_REPLAY_LOOP
[[ -n ${DISPLAY:-} ]] || { echo "xr_mirror_test: needs DISPLAY (run under with_xvfb.sh)"; exit 1; }
base='[session]\nrealtime_priority = false\n[camera]\nwidth = 160\nheight = 120\n[operator]\nsource = xr\n'
printf "$base" >"$tmp/headless.ini"
printf "$base[xr]\nview = headset\n" >"$tmp/headset.ini"
printf "$base[xr]\nview = headset\nmirror = true\n" >"$tmp/mirror.ini"

# --- 1. usage errors
usage() { # NAME WANT ARGS...
  local name=$1 want=$2; shift 2
  "$teleop" run "$@" --duration 1 --out "$tmp/$name" >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?
  [[ $rc -eq 2 ]] || fail "$name: exit $rc, want 2 (usage)"
  [[ $(wc -l <"$tmp/$name.err") -eq 1 ]] || fail "$name: not one line: $(cat "$tmp/$name.err")"
  grep -qF -- "$want" "$tmp/$name.err" || fail "$name: '$want' not in: $(cat "$tmp/$name.err")"
  [[ ! -e $tmp/$name ]] || fail "$name: something was recorded"
}
usage no_headset "teleop run: --mirror shows the headset view: it needs [xr] view = headset in the config" \
  --mirror --config "$tmp/headless.ini"
usage both "teleop run: --mirror and --no-mirror exclude each other" --mirror --no-mirror --config "$tmp/headset.ini"

# --- 2, 3. a session with and without the mirror's event loop
# run NAME WANT_SESSION_THREAD ARGS...: 1.5 s; checks where the session ran
run() {
  local name=$1 want_thread=$2; shift 2
  "$teleop" run --no-console "$@" --duration 1.5 --out "$tmp/$name" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  local pid=$! seen=0
  for _ in $(seq 1 100); do # the session thread exists for the whole run: look for it during the first second
    grep -qx tp-session /proc/$pid/task/*/comm 2>/dev/null && { seen=1; break; }
    grep -qx tp-control /proc/$pid/task/*/comm 2>/dev/null && break # the session is running
    sleep 0.02
  done
  wait "$pid"
  local rc=$?
  [[ $rc -eq 0 ]] || { fail "$name: exit $rc: $(cat "$tmp/$name.err")"; return; }
  [[ $seen -eq $want_thread ]] || fail "$name: tp-session thread seen $seen, want $want_thread"
  local episode
  episode=$(sed -n 's/^episode: //p' "$tmp/$name.out" | tail -n 1)
  [[ -n $episode && -f $episode ]] || { fail "$name: no episode"; return; }
  "$teleop" check "$episode" >/dev/null || fail "$name: teleop check rejects $episode"
  local n
  n=$(sqlite3 "file:$episode?mode=ro" \
    "select count(*) from samples s join streams t on t.id = s.stream_id where t.name = 'operator'")
  # 1.5 s at the replay runtime's 90 Hz display: 135 frames, some lost to start-up
  (( n > 80 )) || fail "$name: only $n operator frames"
}
run mirror 1 --mirror --config "$tmp/headset.ini"
run no_mirror 0 --no-mirror --config "$tmp/mirror.ini"

# --- 4. no display
env -u DISPLAY -u WAYLAND_DISPLAY "$teleop" run --no-console --config "$tmp/mirror.ini" --duration 1 \
  --out "$tmp/nodisplay" >"$tmp/nodisplay.out" 2>"$tmp/nodisplay.err"
rc=$?
[[ $rc -eq 1 ]] || fail "nodisplay: exit $rc, want 1"
[[ $(wc -l <"$tmp/nodisplay.err") -eq 1 ]] || fail "nodisplay: not one line: $(cat "$tmp/nodisplay.err")"
grep -qF "teleop run: mirror: '[xr] mirror' needs a display for its window" "$tmp/nodisplay.err" ||
  fail "nodisplay: $(cat "$tmp/nodisplay.err")"
[[ -z $(ls "$tmp/nodisplay" 2>/dev/null) ]] || fail "nodisplay: something was recorded"

if [[ $failures -eq 0 ]]; then
  echo "xr mirror: all checks passed"
  exit 0
fi
echo "xr mirror: $failures failure(s)"
exit 1
