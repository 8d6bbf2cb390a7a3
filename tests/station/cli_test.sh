#!/usr/bin/env bash
# End-to-end: `teleop run` records an episode that `check` accepts and `info`
# describes; usage and config errors give the documented exit codes and
# one-line messages. Usage: cli_test.sh TELEOP_BINARY EXAMPLE_CONFIG
set -u
teleop=$1
example_config=$2
tmp=$(mktemp -d /tmp/teleop-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_rc() { # expected-rc description command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  [[ $rc -eq $want ]] || fail "$what: exit $rc, want $want; stderr: $(cat "$tmp/err")"
}

# --- usage errors exit 2, help exits 0
expect_rc 2 "no subcommand" "$teleop"
expect_rc 2 "unknown subcommand" "$teleop" frobnicate
expect_rc 2 "unknown option" "$teleop" run --bogus
expect_rc 2 "bad duration" "$teleop" run --duration abc
grep -q "duration" "$tmp/err" || fail "bad duration message: $(cat "$tmp/err")"
expect_rc 2 "unknown robot link" "$teleop" run --robot nosuch
grep -q "teleop run: --robot: no such link 'nosuch' (known: sim, unitree)" "$tmp/err" || fail "robot link message: $(cat "$tmp/err")"
expect_rc 2 "info without episode" "$teleop" info
expect_rc 2 "recover without a path" "$teleop" recover
for sub in run info check recover; do
  expect_rc 0 "$sub --help" "$teleop" $sub --help
  grep -q "usage: teleop $sub" "$tmp/out" || fail "$sub --help text"
done

# --- config errors name file, line and key; exit 1
printf '[session]\nduration = 2\ncontrol_rate_hz = fast\n' >"$tmp/bad.ini"
expect_rc 1 "bad config value" "$teleop" run --config "$tmp/bad.ini" --out "$tmp/rec"
grep -q "bad.ini:3: \[session\] control_rate_hz: expected a number, got 'fast'" "$tmp/err" ||
  fail "config value message: $(cat "$tmp/err")"
[[ $(wc -l <"$tmp/err") -eq 1 ]] || fail "config error is not one line: $(cat "$tmp/err")"
printf '[session]\ndurration = 2\n' >"$tmp/typo.ini"
expect_rc 1 "unknown config key" "$teleop" run --config "$tmp/typo.ini" --out "$tmp/rec"
grep -q "typo.ini:2: \[session\] durration: unknown key" "$tmp/err" || fail "unknown key message: $(cat "$tmp/err")"
printf '[robot]\nlink = unitree-typo\n' >"$tmp/link.ini"
expect_rc 1 "unknown robot link in config" "$teleop" run --config "$tmp/link.ini" --out "$tmp/rec"
grep -q "link.ini:2: \[robot\] link: " "$tmp/err" || fail "config robot link message: $(cat "$tmp/err")"
expect_rc 1 "missing config" "$teleop" run --config "$tmp/nope.ini"
expect_rc 1 "info on missing file" "$teleop" info "$tmp/nope.db"
grep -q "nope.db" "$tmp/err" || fail "missing episode message names the file"

# --- the documented example config is valid as shipped
expect_rc 0 "example config" "$teleop" run --config "$example_config" --duration 0.5 --no-record
printf '[safety]\nworkspace_min_x = 0.5\nworkspace_max_x = 0.1\n' >"$tmp/ws.ini"
expect_rc 1 "inverted workspace" "$teleop" run --config "$tmp/ws.ini" --duration 0.5 --no-record
grep -q "ws.ini:2: \[safety\] workspace_min_x: workspace_min_x (0.5) must be below workspace_max_x (0.1)" "$tmp/err" || fail "workspace message: $(cat "$tmp/err")"

# --- arm chains chosen by name in the config
printf '[robot]\nleft_arm_tip = left_hand_palm_link\nright_arm_tip = right_hand_palm_link\n' >"$tmp/chain.ini"
expect_rc 0 "chains by name" "$teleop" run --config "$tmp/chain.ini" --duration 0.5 --no-record
printf '[robot]\nleft_arm_tip = right_ee\n' >"$tmp/chain2.ini"
expect_rc 1 "crossed chain" "$teleop" run --config "$tmp/chain2.ini" --duration 0.5 --no-record
grep -q "not the robot's left arm joints" "$tmp/err" || fail "crossed chain message: $(cat "$tmp/err")"
printf '[robot]\narm_base = pelvis\n' >"$tmp/chain3.ini"
expect_rc 1 "unknown base" "$teleop" run --config "$tmp/chain3.ini" --duration 0.5 --no-record
grep -q "base body 'pelvis' not found" "$tmp/err" || fail "unknown base message: $(cat "$tmp/err")"

# --- hand retargeting method chosen in the config, recorded in the episode
printf '[retarget]\nhand_method = vector\n' >"$tmp/vector.ini"
expect_rc 0 "vector hands" "$teleop" run --config "$tmp/vector.ini" --duration 1 --out "$tmp/rec_vector"
vep=$(sed -n 's/^episode: //p' "$tmp/out")
[[ -f "$vep" ]] && sqlite3 "$vep" "select value from meta where key='hand_method'" | grep -qx vector ||
  fail "episode does not record hand_method = vector"
printf '[retarget]\nhand_method = fingers\n' >"$tmp/method.ini"
expect_rc 1 "unknown hand method" "$teleop" run --config "$tmp/method.ini" --duration 0.5 --no-record
grep -q "method.ini:2: \[retarget\] hand_method: 'fingers' is not one of flexion, vector" "$tmp/err" ||
  fail "hand method message: $(cat "$tmp/err")"
printf '[retarget]\nhand_method = vector\nhand_urdf = %s/missing.urdf\n' "$tmp" >"$tmp/hurdf.ini"
expect_rc 1 "missing hand description" "$teleop" run --config "$tmp/hurdf.ini" --duration 0.5 --no-record
grep -q "hurdf.ini:3: \[retarget\] hand_urdf: .*missing.urdf: No such file or directory" "$tmp/err" || fail "hand description message: $(cat "$tmp/err")"

# --- a short recorded session
printf '[session]\ntask = "pick the cube"\n[camera]\ncrf = 28\n' >"$tmp/ok.ini"
start=$(date +%s.%N)
"$teleop" run --config "$tmp/ok.ini" --duration 3 --out "$tmp/rec" >"$tmp/run.out" 2>"$tmp/run.err"
rc=$?
end=$(date +%s.%N)
[[ $rc -eq 0 ]] || fail "teleop run exit $rc: $(cat "$tmp/run.err")"
episode=$(sed -n 's/^episode: //p' "$tmp/run.out")
[[ -f "$episode" ]] || fail "no episode printed/written: $(cat "$tmp/run.out")"
if [[ -f "$episode" ]]; then
  expect_rc 0 "check on fresh episode" "$teleop" check "$episode"
  expect_rc 0 "info" "$teleop" info "$episode"
  grep -q "head_camera" "$tmp/out" || fail "info lacks the camera"
  "$teleop" info --json "$episode" >"$tmp/info.json" || fail "info --json"
  python3 - "$tmp/info.json" <<'PY' || fail "info --json content"
import json, sys
info = json.load(open(sys.argv[1]))
streams = {s["name"]: s for s in info["streams"]}
errors = []
def need(cond, msg):
    if not cond: errors.append(msg)
for name in ("state", "action", "operator", "head_camera"):
    need(name in streams, f"stream {name} missing")
cam = streams.get("head_camera", {})
need(cam.get("kind") == "camera", "camera kind")
need(cam.get("width") == 640 and cam.get("height") == 480, "camera size")
need(cam.get("codec") == "h264", "codec")
# Loose bounds only: the strict rate targets are measured by the benchmark.
need(cam.get("frames", 0) >= 3 * 15, f"frames {cam.get('frames')}")
need(cam.get("fps", 0) > 15, f"fps {cam.get('fps')}")
for name in ("state", "action"):
    s = streams.get(name, {})
    need(s.get("dims") == 28, f"{name} dims")
    need(s.get("kind") == name, f"{name} kind")
    need(s.get("count", 0) >= 3 * 250, f"{name} count {s.get('count')}")
    need(s.get("rate_hz", 0) > 250, f"{name} rate {s.get('rate_hz')}")
op = streams.get("operator", {})
need(op.get("kind") == "operator" and op.get("dims", 0) > 400, "operator stream")
if errors:
    print("\n".join(errors)); sys.exit(1)
PY
  sqlite3 "$episode" "select value from meta where key='task'" | grep -qx "pick the cube" || fail "task not stored"
  # The session returns within 2 s after its duration (plus start-up).
  python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); sys.exit(0 if d < 3 + 2 + 5 else 1)" "$start" "$end" ||
    fail "run took too long"

  # Tampering is caught: time going backwards in the state stream.
  cp "$episode" "$tmp/tampered.db"
  sqlite3 "$tmp/tampered.db" "update samples set t_ns = 0 where seq = 100 and stream_id = (select id from streams where name='state')"
  expect_rc 1 "check on tampered" "$teleop" check "$tmp/tampered.db"
  grep -q "state" "$tmp/err" || fail "tamper report names the stream: $(cat "$tmp/err")"
  # Truncation is caught.
  size=$(stat -c %s "$episode")
  head -c $((size / 2)) "$episode" >"$tmp/truncated.db"
  expect_rc 1 "check on truncated" "$teleop" check "$tmp/truncated.db"

  # Offline retargeting: same video and operator stream, new actions.
  printf '[calibration]\nscale = 0.6\n' >"$tmp/s6.ini"
  expect_rc 0 "offline retarget" "$teleop" retarget "$episode" --config "$tmp/s6.ini" -o "$tmp/re.db"
  expect_rc 0 "check on retargeted" "$teleop" check "$tmp/re.db"
  same=$(sqlite3 "$tmp/re.db" "attach '$episode' as src;
    select (select count(*) from video_packets) = (select count(*) from src.video_packets)
       and not exists (select 1 from video_packets a join src.video_packets b using (seq) where a.data != b.data or a.t_ns != b.t_ns)
       and not exists (select 1 from samples a join src.samples b using (seq)
                       where a.stream_id = (select id from streams where name='operator')
                         and b.stream_id = (select id from src.streams where name='operator') and a.data != b.data)")
  [[ $same == 1 ]] || fail "retargeted episode changed the video or the operator stream"
  differs=$(sqlite3 "$tmp/re.db" "attach '$episode' as src;
    select count(*) from samples a join src.samples b using (seq)
     where a.stream_id = (select id from streams where name='action')
       and b.stream_id = (select id from src.streams where name='action') and a.data != b.data")
  [[ $differs -gt 100 ]] || fail "retargeting with scale 0.6 did not change the actions"
  [[ $(sqlite3 "$tmp/re.db" "select value from meta where key='retargeted_from'") == "$episode" ]] || fail "retargeted_from"
  expect_rc 1 "retarget onto an existing file" "$teleop" retarget "$episode" -o "$tmp/re.db"
  expect_rc 2 "retarget without -o" "$teleop" retarget "$episode"
fi

# Ctrl-C ends a session early and keeps a valid episode marked 'stopped'.
"$teleop" run --duration 60 --out "$tmp/int" >"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
sleep 3
kill -INT $pid
wait $pid
rc=$?
[[ $rc -eq 0 ]] || fail "interrupted run exit $rc: $(cat "$tmp/int.err")"
ep=$(sed -n 's/^episode: //p' "$tmp/int.out")
if [[ -f "$ep" ]]; then
  expect_rc 0 "check on interrupted episode" "$teleop" check "$ep"
  [[ $(sqlite3 "$ep" "select value from meta where key='outcome'") == stopped ]] || fail "outcome is not 'stopped'"
else
  fail "interrupted run printed no episode: $(cat "$tmp/int.out")"
fi

# An output folder that cannot be created is a one-line error, exit 1.
expect_rc 1 "unwritable output" "$teleop" run --duration 1 --out /proc/teleop-no-such-dir
grep -q "/proc/teleop-no-such-dir" "$tmp/err" || fail "unwritable output message: $(cat "$tmp/err")"

# Calibration: measured from a capture, used by a session, recorded in the episode.
motion=$(dirname "$teleop")/../tools/demo_motion.csv
expect_rc 0 "calibrate" "$teleop" calibrate --operator tester --motion "$motion" -o "$tmp/tester.ini"
grep -q '^id = "tester-' "$tmp/tester.ini" || fail "calibration file: $(cat "$tmp/tester.ini")"
id=$(sed -n 's/^id = "\(.*\)"/\1/p' "$tmp/tester.ini")
printf '[calibration]\nfile = %s\n' "$tmp/tester.ini" >"$tmp/cal.ini"
"$teleop" run --config "$tmp/cal.ini" --duration 1 --out "$tmp/cal" >"$tmp/cal.out" 2>"$tmp/cal.err" || fail "run with calibration: $(cat "$tmp/cal.err")"
ep=$(sed -n 's/^episode: //p' "$tmp/cal.out")
[[ -f "$ep" && $(sqlite3 "$ep" "select value from meta where key='calibration'") == "$id" ]] || fail "episode does not record calibration $id"
expect_rc 2 "calibrate without operator" "$teleop" calibrate --motion "$motion"
printf '[calibration]\nfile = %s\n' "$tmp/missing.ini" >"$tmp/cal2.ini"
expect_rc 1 "missing calibration file" "$teleop" run --config "$tmp/cal2.ini" --duration 1 --out "$tmp/cal"
grep -q "cal2.ini:2: \[calibration\] file: .*missing.ini: No such file or directory" "$tmp/err" || fail "missing calibration message: $(cat "$tmp/err")"

# recover: a file that is not an episode is one line and exit 1; a finished
# episode or an empty folder has nothing to recover.
echo "not a database" >"$tmp/junk.db"
expect_rc 1 "recover a non-episode" "$teleop" recover "$tmp/junk.db"
grep -qx "$tmp/junk.db: not an SQLite database" "$tmp/err" || fail "recover message: $(cat "$tmp/err")"
mkdir -p "$tmp/none"
expect_rc 0 "recover an empty folder" "$teleop" recover "$tmp/none"
grep -qx "$tmp/none: nothing to recover" "$tmp/out" || fail "recover empty folder: $(cat "$tmp/out")"

# Free space is checked before each episode; the message names the folder and the figures.
printf '[recording]\nmin_free_mb = 999999999\n' >"$tmp/free.ini"
expect_rc 1 "too little free space" "$teleop" run --config "$tmp/free.ini" --duration 0.5 --out "$tmp/free"
grep -q "$tmp/free: only .* MB free; recording needs at least 999999999.0 MB (recording.min_free_mb)" "$tmp/err" ||
  fail "free space message: $(cat "$tmp/err")"
[[ -z $(ls -A "$tmp/free") ]] || fail "an episode was created without the free space"

echo "cli_test: $failures failure(s)"
[[ $failures -eq 0 ]]
