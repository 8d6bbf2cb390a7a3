#!/usr/bin/env bash
# The headset view end to end (issue 16): `teleop run` with [xr] view =
# headset, a head camera (the test pattern: every frame differs; without
# sensor noise, as the runtime's PNG dump of noise would hold up the frame
# loop, and the operator input with it, for ~50 ms a dumped frame) and a left
# wrist camera (the simulated robot's, rendered by Mesa), both FFV1
# (lossless), against the replay runtime through the real loader with the
# core validation layer on (its report must stay absent), under a private
# Xvfb. The runtime plays a motion that drives the left arm into its limits
# and past the workspace edge (tests/support/limit_motion.h), a scripted
# menu press sets the emergency hold, a stick click hides the wrist panel,
# and the runtime dumps every Nth submitted frame's
# layers and logs the haptic calls. xr_headset_view_check.py then checks the layers'
# pixels against the recorded camera frames, the overlay's REC and HOLD, the
# haptic pulses, the headset_view latency stream and `teleop check`, and the
# desktop mirror's screenshot against the camera frames it names.
# A second, short run, a stereo head view (one camera per eye), the panels
# world-locked, loses the session mid-way: it ends cleanly.
# Usage: with_xvfb.sh xr_headset_view_test.sh TELEOP CHECK_PY XR_VIEW_PIXELS LIMIT_MOTION_CSV
set -u
teleop=$(realpath "$1")
checker=$(realpath "$2")
pixels=$(realpath "$3")
motion=$(realpath "$4")
tmp=$(mktemp -d /tmp/teleop-xrview-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
export XR_ENABLE_API_LAYERS=XR_APILAYER_LUNARG_core_validation
export XR_CORE_VALIDATION_EXPORT_TYPE=text
export XR_CORE_VALIDATION_FILE_NAME=$tmp/validation.txt
unset XR_RUNTIME_JSON TELEOP_XR_REPLAY_SCRIPT TELEOP_XR_REPLAY_SOURCE TELEOP_XR_REPLAY_LOOP TELEOP_XR_REPLAY_HZ
[[ -n ${DISPLAY:-} ]] || { echo "xr_headset_view_test: needs DISPLAY (run under with_xvfb.sh)"; exit 1; }

every=13 # ~30 of the 5 s session's 450 frames
distance=0.8
width=1.1

# run NAME DURATION SCRIPT PANEL_LOCK [teleop run options]: sets $episode;
# $head_view: the [xr] line choosing the head panel, $more_cameras: more
# [camera.NAME] sections
head_view='head_camera = head'
more_cameras=
run() {
  local name=$1 duration=$2 script=$3 lock=$4
  shift 4
  cat >"$tmp/$name.ini" <<INI
[session]
realtime_priority = false
[camera.head]
driver = pattern
width = 320
height = 240
fps = 30
codec = ffv1
seed = 1
noise = 0
[camera.wrist]
driver = sim
mjcf_camera = left_wrist_camera
width = 160
height = 120
fps = 15
codec = ffv1
$more_cameras
[operator]
source = xr
motion = $motion
xr_replay_script = $script
[xr]
view = headset
$head_view
wrist_cameras = wrist,
panel_lock = $lock
panel_distance = $distance
panel_width = $width
INI
  "$teleop" run --no-console --config "$tmp/$name.ini" --duration "$duration" --out "$tmp/$name" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?
  episode=$(sed -n 's/^episode: //p' "$tmp/$name.out" | tail -n 1)
  [[ $rc -eq 0 ]] || fail "$name: exit $rc: $(cat "$tmp/$name.err")"
  # a clean run prints only its progress on stderr (a view thread's error
  # would be a line); the validation layer's banner and, under ASan, the
  # leak checker's suppression summary aside
  local other
  other=$(grep -v -e '^teleop: episode [0-9]*: ' -e '^\[recording\] ' -e '^Core Validation output type: ' \
    -e '^-*$' -e '^Suppressions used:' -e '^ *count  *bytes  *template' -e '^ *[0-9][0-9]*  *[0-9][0-9]*  *[^ ]*$' \
    "$tmp/$name.err")
  [[ -z $other ]] || fail "$name: stderr: $(head -c 2000 <<<"$other")"
  [[ -n $episode && -f $episode ]] || { fail "$name: no episode"; return 1; }
  "$teleop" check "$episode" >"$tmp/$name.check" 2>&1 || fail "$name: teleop check rejects $episode: $(cat "$tmp/$name.check")"
  if [[ -e $XR_CORE_VALIDATION_FILE_NAME ]]; then
    fail "$name: the core validation layer reported: $(head -c 2000 "$XR_CORE_VALIDATION_FILE_NAME")"
    rm -f "$XR_CORE_VALIDATION_FILE_NAME"
  fi
}

# The emergency hold (the default binding left.menu) at 3.3 s of stream time;
# the wrist panels hidden (the default binding left.stick) at 4.2 s.
printf '3.3 /user/hand/left/input/menu/click 1\n3.5 /user/hand/left/input/menu/click 0\n%s\n%s\n' \
  '4.2 /user/hand/left/input/thumbstick/click 1' '4.4 /user/hand/left/input/thumbstick/click 0' >"$tmp/emergency.txt"
if TELEOP_XR_REPLAY_DUMP=$tmp/dump TELEOP_XR_REPLAY_DUMP_EVERY=$every TELEOP_XR_REPLAY_HAPTICS=$tmp/haptics.txt \
  run view 5 "$tmp/emergency.txt" head --mirror-screenshot "$tmp/mirror.png" --mirror-screenshot-after 2; then
  /usr/bin/python3 "$checker" session "$episode" "$tmp/dump" "$every" "$tmp/haptics.txt" "$pixels" \
    "head,wrist,$distance,$width" || fail "view: the checks above"
  /usr/bin/python3 "$checker" mirror "$episode" "$tmp/mirror.png" "$pixels" || fail "mirror: the checks above"
fi

printf '1.0 session_loss\n' >"$tmp/loss.txt"
# stereo (a second pattern camera for the right eye) and world-locked panels
# this time: placed in the session's base space
head_view='stereo_cameras = head,right'
more_cameras=$(printf '[camera.right]\ndriver = pattern\nwidth = 320\nheight = 240\nfps = 30\ncodec = ffv1\nseed = 3\nnoise = 0')
if TELEOP_XR_REPLAY_DUMP=$tmp/dump-loss TELEOP_XR_REPLAY_DUMP_EVERY=20 run loss 2.5 "$tmp/loss.txt" world; then
  /usr/bin/python3 "$checker" loss "$episode" "$tmp/dump-loss" "$pixels" || fail "loss: the checks above"
fi

if [[ $failures -eq 0 ]]; then
  echo "xr headset view: all checks passed"
  exit 0
fi
echo "xr headset view: $failures failure(s)"
exit 1
