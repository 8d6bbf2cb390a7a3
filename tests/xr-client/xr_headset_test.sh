#!/usr/bin/env bash
# `teleop run` with [xr] view = headset (an OpenGL session through a GLX
# context) against the replay runtime, under a private Xvfb, the core
# validation layer on and silent: the session reaches FOCUSED and records
# operator frames at the headset's rate; a scripted session loss mid-run ends
# it as the headless session does (episode kept, `teleop check` passes).
# Usage: with_xvfb.sh xr_headset_test.sh TELEOP_BINARY CHECKER_PY
set -u
teleop=$1
checker=$2
tmp=$(mktemp -d /tmp/teleop-xrview-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
export XR_ENABLE_API_LAYERS=XR_APILAYER_LUNARG_core_validation
export XR_CORE_VALIDATION_EXPORT_TYPE=text
export XR_CORE_VALIDATION_FILE_NAME=$tmp/validation.txt
unset XR_RUNTIME_JSON TELEOP_XR_REPLAY_SCRIPT TELEOP_XR_REPLAY_SOURCE TELEOP_XR_REPLAY_LOOP
[[ -n ${DISPLAY:-} ]] || { echo "xr_headset_test: needs DISPLAY (run under with_xvfb.sh)"; exit 1; }

operator_frames() {
  sqlite3 "file:$1?mode=ro" "select count(*) from samples s join streams t on t.id = s.stream_id where t.name = 'operator'"
}

# run NAME DURATION [config lines...]: sets $episode
run() {
  local name=$1 duration=$2; shift 2
  printf '[session]\nrealtime_priority = false\n[camera]\nwidth = 160\nheight = 120\n[operator]\nsource = xr\n' >"$tmp/$name.ini"
  printf '%s\n' "$@" >>"$tmp/$name.ini"
  printf '[xr]\nview = headset\n' >>"$tmp/$name.ini"
  "$teleop" run --no-console --config "$tmp/$name.ini" --duration "$duration" --out "$tmp/$name" \
    >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?
  episode=$(sed -n 's/^episode: //p' "$tmp/$name.out" | tail -n 1)
  [[ $rc -eq 0 ]] || fail "$name: exit $rc: $(cat "$tmp/$name.err")"
  [[ -n $episode && -f $episode ]] || { fail "$name: no episode"; return 1; }
  "$teleop" check "$episode" >/dev/null || fail "$name: teleop check rejects $episode"
  if [[ -e $XR_CORE_VALIDATION_FILE_NAME ]]; then
    fail "$name: the core validation layer reported: $(head -c 2000 "$XR_CORE_VALIDATION_FILE_NAME")"
    rm -f "$XR_CORE_VALIDATION_FILE_NAME"
  fi
}

if run plain 2; then
  python3 "$checker" count "$episode" xr_session_state FOCUSED 1 || fail "plain: not FOCUSED once"
  n=$(operator_frames "$episode")
  # 2 s at the replay runtime's 90 Hz display: 180 frames, some lost to start-up
  (( n > 120 )) || fail "plain: only $n operator frames"
fi

printf '1.0 session_loss\n' >"$tmp/loss.txt"
if run loss 6 "xr_replay_script = $tmp/loss.txt"; then
  python3 "$checker" events "$episode" xr_session_lost "loss pending" 1.0 1.05 || fail "loss: no xr_session_lost at 1.0 s"
  n=$(operator_frames "$episode")
  (( n > 60 )) || fail "loss: only $n operator frames kept"
fi

if [[ $failures -eq 0 ]]; then
  echo "xr headset: all checks passed"
  exit 0
fi
echo "xr headset: $failures failure(s)"
exit 1
