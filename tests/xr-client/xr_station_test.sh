#!/usr/bin/env bash
# The station on the OpenXR operator device: `teleop run` with source = xr
# through the real loader against the replay runtime, the core validation
# layer on and silent. Scripted controller input gives the right operator
# commands and events; lost tracking holds that arm; session loss, instance
# loss and a runtime exit end the session cleanly with the episode kept; an
# episode replayed through the runtime records the same operator stream; and
# xr-probe describes the runtime; [xr] view = headset fails clearly where it
# cannot run.
# Usage: xr_station_test.sh TELEOP_BINARY CHECKER_PY
set -u
teleop=$1
checker=$2
tmp=$(mktemp -d /tmp/teleop-xr-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
export XR_ENABLE_API_LAYERS=XR_APILAYER_LUNARG_core_validation
export XR_CORE_VALIDATION_EXPORT_TYPE=text
export XR_CORE_VALIDATION_FILE_NAME=$tmp/validation.txt
unset XR_RUNTIME_JSON TELEOP_XR_REPLAY_SCRIPT TELEOP_XR_REPLAY_SOURCE TELEOP_XR_REPLAY_LOOP

validation_silent() {
  if [[ -e $XR_CORE_VALIDATION_FILE_NAME ]]; then
    fail "$1: the core validation layer reported: $(head -c 2000 "$XR_CORE_VALIDATION_FILE_NAME")"
    rm -f "$XR_CORE_VALIDATION_FILE_NAME"
  fi
}

# run NAME DURATION [config lines...]: records into $tmp/NAME, sets $episode
run() {
  local name=$1 duration=$2; shift 2
  printf '[session]\nrealtime_priority = false\n[camera]\nwidth = 160\nheight = 120\n[operator]\nsource = xr\n' >"$tmp/$name.ini"
  printf '%s\n' "$@" >>"$tmp/$name.ini"
  "$teleop" run --config "$tmp/$name.ini" --duration "$duration" --out "$tmp/$name" >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?
  episode=$(sed -n 's/^episode: //p' "$tmp/$name.out" | tail -n 1)
  [[ $rc -eq 0 ]] || fail "$name: exit $rc: $(cat "$tmp/$name.err")"
  [[ -n $episode && -f $episode ]] || { fail "$name: no episode"; return 1; }
  "$teleop" check "$episode" >/dev/null || fail "$name: teleop check rejects $episode"
  validation_silent "$name"
  return 0
}
check() { python3 "$checker" "$@" || fail "$*"; }
meta() { sqlite3 "file:$1?mode=ro" "select value from meta where key = '$2'"; }

# --- scripted clutch and record buttons, driving the recording workflow of a
# session of episodes (docs/recording.md): episode A runs from the start to
# the stop-keep press (its record-start press changes nothing, A is already
# recording); B starts there and is discarded by the held Y; C starts there
# and ends with the session, its emergency press inside it. A left
# thumbstick click in A toggles the headset view's wrist panels: recorded,
# nothing else changed.
cat >"$tmp/buttons.txt" <<'EOF'
0.6 /user/hand/left/input/squeeze/value 0.0
0.6 /user/hand/right/input/squeeze/value 0.0
0.9 /user/hand/left/input/thumbstick/click 1
1.0 /user/hand/left/input/thumbstick/click 0
1.2 /user/hand/right/input/squeeze/value 1.0
1.5 /user/hand/right/input/a/click 1
1.7 /user/hand/right/input/a/click 0
2.0 /user/hand/right/input/b/click 1
2.2 /user/hand/right/input/b/click 0
2.4 /user/hand/left/input/y/click 1
3.6 /user/hand/left/input/y/click 0
3.8 /user/hand/left/input/menu/click 1
4.0 /user/hand/left/input/menu/click 0
EOF
if run buttons 4.5 "xr_replay_script = $tmp/buttons.txt" "[recording]" "episodes = 0"; then
  a=$(sed -n 's/^episode: //p' "$tmp/buttons.out" | sed -n 1p)
  c=$(sed -n 's/^episode: //p' "$tmp/buttons.out" | sed -n 2p)
  b=$(sed -n 's/^discarded: //p' "$tmp/buttons.out")
  [[ $(grep -c '^episode: ' "$tmp/buttons.out") -eq 2 && -n $b ]] || fail "buttons: want 2 kept, 1 discarded: $(cat "$tmp/buttons.out")"
  [[ -n $b && ! -e $b ]] || fail "buttons: the discarded episode is still there: $b"
  # a press is seen on the first frame after it, counts after the 30 ms debounce
  # (windows allow a few frames a loaded machine skips)
  check events "$a" operator_command clutch_engage 0.03 0.120
  check events "$a" operator_command clutch_release 0.59 0.671
  check events "$a" operator_command clutch_engage 1.23 1.320
  check events "$a" operator_command record_start 1.53 1.620
  check count "$a" operator_command record_start 1
  check events "$a" operator_command record_stop_keep 2.03 2.120
  check count "$a" operator_command record_stop_keep 1
  check events "$a" operator_command wrist_panels_toggle 0.93 1.020
  check count "$a" operator_command wrist_panels_toggle 1
  # the effect after its cause: the control tick that samples the released
  # frame, one upsampling latency (11.1 ms) after its stamp
  check events "$a" disengaged "" 0.60 0.70
  for s in IDLE READY SYNCHRONIZED VISIBLE FOCUSED; do check count "$a" xr_session_state $s 1; done
  [[ $(meta "$a" outcome) == completed ]] || fail "buttons: A outcome $(meta "$a" outcome)"
  [[ $(meta "$a" operator_source) == xr ]] || fail "buttons: operator_source $(meta "$a" operator_source)"
  meta "$a" operator_device | grep -q "OpenXR runtime 'teleop replay'" || fail "buttons: operator_device meta"
  if [[ -n $c && -f $c ]]; then
    "$teleop" check "$c" >/dev/null || fail "buttons: teleop check rejects $c"
    ab=$(( ($(meta "$c" start_t_ns) - $(meta "$a" end_t_ns)) / 1000000 ))
    (( ab >= 1300 && ab <= 1500 )) || fail "buttons: C starts $ab ms after A ends, want the discard 1.4 s later"
    check count "$c" operator_command record_stop_discard 0
    check count "$c" operator_command emergency_on 1
    check count "$c" emergency_hold "" 1
    # down: VISIBLE SYNCHRONIZED STOPPING IDLE EXITING
    for s in STOPPING IDLE EXITING; do check count "$c" xr_session_state $s 1; done
    check count "$c" xr_exit "requested by teleop" 1
    [[ $(meta "$c" outcome) == completed ]] || fail "buttons: C outcome $(meta "$c" outcome)"
  else
    fail "buttons: no episode C"
  fi
fi

# --- lost tracking holds that arm (the other keeps moving), and is reported
printf '2.0 tracking left_hand lost\n3.5 tracking left_hand found\n' >"$tmp/lost.txt"
if run lost 4 "xr_replay_script = $tmp/lost.txt"; then
  check events "$episode" xr_tracking_lost left_hand 2.0 2.012
  check events "$episode" xr_tracking_found left_hand 3.5 3.512
  check events "$episode" tracking_lost "" 2.0 2.04
  check events "$episode" tracking_regained "" 3.5 3.54
  check hold "$episode" 2.15 3.48
fi

# --- the runtime ends the session: exit, session loss, instance loss
for end in "exit:xr_exit:requested by the runtime" "session_loss:xr_session_lost:loss pending" \
           "instance_loss:xr_instance_lost:loss pending"; do
  IFS=: read -r what kind detail <<<"$end"
  printf '1.5 %s\n' "$what" >"$tmp/$what.txt"
  start=$(date +%s%N)
  if run "$what" 10 "xr_replay_script = $tmp/$what.txt"; then
    took=$(( ($(date +%s%N) - start) / 1000000 ))
    (( took < 6000 )) || fail "$what: the session took $took ms to end"
    check events "$episode" "$kind" "$detail" 1.5 1.55
    [[ $(meta "$episode" outcome) == stopped ]] || fail "$what: outcome $(meta "$episode" outcome)"
    # the episode is kept with the frames up to the end
    n=$(sqlite3 "file:$episode?mode=ro" "select count(*) from samples s join streams t on t.id = s.stream_id where t.name = 'operator'")
    (( n > 100 )) || fail "$what: only $n operator frames kept"
  fi
done

# --- round trip: an episode replayed through the runtime records the same operator stream
if run source 4; then
  src=$episode
  if run replayed 3 "motion = $src"; then
    check roundtrip "$src" "$episode"
    [[ $(meta "$episode" operator_motion) == "$src" ]] || fail "replayed: operator_motion meta"
  fi
fi

# --- xr-probe against the replay runtime; a clear error without a runtime
"$teleop" xr-probe --runtime replay --seconds 1 >"$tmp/probe.out" 2>"$tmp/probe.err" || fail "xr-probe: $(cat "$tmp/probe.err")"
for want in "runtime: teleop replay" "XR_EXT_hand_tracking" "XR_MND_headless" "operator frame in STAGE" \
            "xr_session_state FOCUSED" "oculus/touch_controller" "head              tracked 100.0 %" \
            "xr_exit requested by teleop" "session: EXITING"; do
  grep -qF "$want" "$tmp/probe.out" || fail "xr-probe output lacks '$want'"
done
validation_silent xr-probe
XR_RUNTIME_JSON=$tmp/none.json "$teleop" xr-probe >"$tmp/probe.out" 2>"$tmp/probe.err"
rc=$?
[[ $rc -eq 1 ]] || fail "xr-probe without a runtime: exit $rc"
[[ $(wc -l <"$tmp/probe.err") -eq 1 ]] && grep -q "no runtime available" "$tmp/probe.err" ||
  fail "xr-probe without a runtime: $(cat "$tmp/probe.err")"
printf '[operator]\nsource = xr\nxr_runtime = system\n' >"$tmp/system.ini"
XR_RUNTIME_JSON=$tmp/none.json "$teleop" run --config "$tmp/system.ini" --duration 1 --out "$tmp/system" >"$tmp/sys.out" 2>"$tmp/sys.err"
rc=$?
[[ $rc -eq 1 ]] || fail "run with no system runtime: exit $rc"
grep -q "no runtime available" "$tmp/sys.err" || fail "run with no system runtime: $(cat "$tmp/sys.err")"

# --- [xr] view = headset: one clear line when the runtime has no OpenGL
# support, or (when it has) without an X display; nothing recorded.
printf '[session]\nrealtime_priority = false\n[operator]\nsource = xr\n[xr]\nview = headset\n' >"$tmp/headset.ini"
"$teleop" xr-probe --runtime replay --seconds 1 >"$tmp/probe.out" 2>/dev/null
if grep -qF "XR_KHR_opengl_enable" "$tmp/probe.out"; then
  want="needs an X display"
else
  want="does not offer XR_KHR_opengl_enable, which '[xr] view = headset' needs"
fi
env -u DISPLAY -u WAYLAND_DISPLAY "$teleop" run --config "$tmp/headset.ini" --duration 1 --out "$tmp/headset" \
  >"$tmp/headset.out" 2>"$tmp/headset.err"
rc=$?
[[ $rc -eq 1 ]] || fail "run with view = headset, no display: exit $rc"
# (the validation layer announces itself on stderr once it has seen a call)
[[ $(grep -vc "^Core Validation output type" "$tmp/headset.err") -eq 1 ]] && grep -qF "$want" "$tmp/headset.err" ||
  fail "run with view = headset, no display: $(cat "$tmp/headset.err")"
validation_silent headset-view
printf '[operator]\nsource = xr\n[xr]\nview = glasses\n' >"$tmp/badview.ini"
"$teleop" run --config "$tmp/badview.ini" --duration 1 --out "$tmp/badview" >/dev/null 2>"$tmp/badview.err"
grep -qF "badview.ini:4: [xr] view: 'glasses' is not one of off, headset" "$tmp/badview.err" ||
  fail "view = glasses: $(cat "$tmp/badview.err")"

if [[ $failures -eq 0 ]]; then
  echo "xr station: all checks passed"
  exit 0
fi
echo "xr station: $failures failure(s)"
exit 1
