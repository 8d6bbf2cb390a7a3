#!/usr/bin/env bash
# `teleop run` with three file cameras at once (footage written with libav by
# test_file_camera --footage: one looping, one played once, one MJPEG passed
# through), relative paths resolved like [operator] motion; the episode passes
# `teleop check`, the once camera ends with camera_ended while the session
# goes on; a missing file is a one-line error naming the camera's key and file.
# Usage: file_camera_cli_test.sh TELEOP_BINARY TEST_FILE_CAMERA_BINARY
set -u
teleop=$(realpath "$1")
footage=$(realpath "$2")
tmp=$(mktemp -d /tmp/teleop-filecam-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mkdir -p "$tmp/clips"
"$footage" --footage "$tmp/clips/a.mkv" 20 || fail "footage a"
"$footage" --footage "$tmp/clips/b.mkv" 10 || fail "footage b"
"$footage" --footage "$tmp/clips/c.avi" 8 || fail "footage c"
cat >"$tmp/three.ini" <<INI
[session]
task = "file cameras"
[camera.loops]
driver = file
path = clips/a.mkv
loop = true
width = 160
height = 120
fps = 20
preset = ultrafast
[camera.once]
driver = file
path = clips/b.mkv
loop = false
width = 160
height = 120
fps = 20
codec = ffv1
[camera.jpeg]
driver = file
path = clips/c.avi
loop = true
format = mjpeg
codec = mjpeg
width = 160
height = 120
fps = 20
INI
cd "$tmp" || exit 1
"$teleop" run --config three.ini --duration 2 --out rec >run.out 2>run.err
rc=$?
[[ $rc -eq 0 ]] || fail "teleop run exit $rc: $(cat run.err)"
episode=$(sed -n 's/^episode: //p' run.out)
if [[ -f "$episode" ]]; then
  "$teleop" check "$episode" >check.out 2>&1 || fail "teleop check: $(cat check.out)"
  [[ $(sqlite3 "$episode" "select count(*) from events where kind = 'camera_ended' and detail like 'camera once: file played to its end after 10 frames'") == 1 ]] ||
    fail "no camera_ended for the once camera"
  [[ $(sqlite3 "$episode" "select count(*) from events where kind in ('camera_lost', 'camera_gap')") == 0 ]] ||
    fail "file cameras recorded lost or gap events"
else
  fail "no episode: $(cat run.out run.err)"
fi

printf '[camera.front]\ndriver = file\npath = clips/none.mkv\n' >missing.ini
"$teleop" run --config missing.ini --duration 0.5 --no-record >out 2>err
rc=$?
[[ $rc -eq 1 ]] || fail "missing file: exit $rc, want 1"
grep -q "missing.ini:3: \[camera.front\] path: .*clips/none.mkv: No such file or directory" err ||
  fail "missing file message: $(cat err)"
[[ $(wc -l <err) -eq 1 ]] || fail "missing file: more than one line: $(cat err)"

[[ $failures -eq 0 ]] && echo "file camera cli: all passed"
exit $((failures > 0))
