#!/usr/bin/env bash
# Issue 10, the command-line items: each block names its item. Usage:
# cli_items_test.sh TELEOP_BINARY
set -u
teleop=$1
tmp=$(mktemp -d /tmp/teleop-items-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_rc() { # expected-rc description command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  [[ $rc -eq $want ]] || fail "$what: exit $rc, want $want; stderr: $(head -c 600 "$tmp/err")"
}
one_line() { # description: stderr is exactly one line
  [[ $(wc -l <"$tmp/err") -eq 1 ]] || fail "$1: not one line: $(head -c 600 "$tmp/err")"
}
task_of() { sqlite3 "$1" "select hex(value) from meta where key='task'"; }
hex_of() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F; }

# --- item 1: task text stored whole, byte-identical; beyond 4096 bytes or
# invalid: refused in one line, never cut.
e200=$(/usr/bin/python3 -c "print('\u00e9'*200, end='')")
zh300=$(/usr/bin/python3 -c "print(''.join(chr(0x4e00 + i) for i in range(300)), end='')")
for t in "$e200" "$zh300"; do
  expect_rc 0 "item 1: run with a long UTF-8 task" "$teleop" run --duration 0.5 --out "$tmp/t1" --task "$t"
  ep=$(sed -n 's/^episode: //p' "$tmp/out")
  [[ -f "$ep" ]] || { fail "item 1: no episode: $(cat "$tmp/err")"; continue; }
  [[ $(task_of "$ep") == "$(hex_of "$t")" ]] || fail "item 1: meta.task is not the task given (${#t} characters)"
  /usr/bin/python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('select * from meta').fetchall()" "$ep" ||
    fail "item 1: Python's sqlite3 cannot read meta"
done
big=$(/usr/bin/python3 -c "print('x'*5000, end='')")
expect_rc 2 "item 1: 5000-byte task" "$teleop" run --duration 0.5 --out "$tmp/t1" --task "$big"
grep -q "^teleop run: --task: 5000 bytes, the limit is 4096" "$tmp/err" || fail "item 1: long task message: $(cat "$tmp/err")"
one_line "item 1: long task"
expect_rc 2 "item 1: invalid UTF-8 task" "$teleop" run --duration 0.5 --out "$tmp/t1" --task "$(printf 'ab\377')"
grep -q "^teleop run: --task: is not valid UTF-8 (byte 3)" "$tmp/err" || fail "item 1: invalid task message: $(cat "$tmp/err")"
expect_rc 2 "item 1/17: control bytes in a task" "$teleop" run --duration 0.5 --task "$(printf 'a\033]0;x\007b')"
grep -q "contains a control character" "$tmp/err" || fail "item 1: control task message: $(cat "$tmp/err")"
LC_ALL=C grep -q $'\033' "$tmp/err" && fail "item 17: a raw ESC byte reached the terminal"
# The task command on piped input follows the same rule: a valid text is
# stored whole ('#' included), a long one is refused and the task stays.
(sleep 1; echo "task $zh300 #2"; sleep 0.5; echo "task $big"; sleep 0.5; echo start; sleep 1; echo keep; echo quit) |
  timeout 60 "$teleop" run --episodes 0 --manual --out "$tmp/t1c" >"$tmp/out" 2>"$tmp/err"
ep=$(sed -n 's/^episode: //p' "$tmp/out")
if [[ -f "$ep" ]]; then
  [[ $(task_of "$ep") == "$(hex_of "$zh300 #2")" ]] || fail "item 1: the task command's text is not stored whole"
else
  fail "item 1: task command session: no episode: $(tail -n 3 "$tmp/err")"
fi
grep -q "task text refused: 5000 bytes, the limit is 4096" "$tmp/err" || fail "item 1: long task command not refused: $(grep -i task "$tmp/err" | head -3)"

# --- item 3: piped stdin drives a session (the docs/recording.md example)
start=$(date +%s)
(sleep 1; echo keep; sleep 0.5; echo start; sleep 1.5; echo discard; echo quit) |
  timeout 30 "$teleop" run --episodes 0 --manual --out "$tmp/t3" >"$tmp/out" 2>"$tmp/err"
rc=$?
[[ $rc -eq 0 ]] || fail "item 3: piped session exit $rc (124: it hung): $(tail -n 3 "$tmp/err")"
[[ $(grep -c '^discarded: ' "$tmp/out") -eq 1 ]] || fail "item 3: expected one discarded line: $(cat "$tmp/out")"
[[ $(grep -c '^episode: ' "$tmp/out") -eq 0 ]] || fail "item 3: no episode was kept: $(cat "$tmp/out")"
[[ -z $(ls -A "$tmp/t3" 2>/dev/null) ]] || fail "item 3: the discarded episode is still on disk: $(ls "$tmp/t3")"
# End of input ends reading, not the session: </dev/null with an automatic
# session runs its whole duration.
t0=$(date +%s.%N)
"$teleop" run --duration 1.5 --out "$tmp/t3n" --episode-time 0.5 --episodes 0 </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
t1=$(date +%s.%N)
[[ $rc -eq 0 ]] || fail "item 3: </dev/null session exit $rc: $(tail -n 3 "$tmp/err")"
/usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) >= 1.5 else 1)" "$t0" "$t1" ||
  fail "item 3: end of stdin ended the session early"
[[ $(grep -c '^episode: ' "$tmp/out") -ge 2 ]] || fail "item 3: </dev/null session kept $(grep -c '^episode: ' "$tmp/out") episodes, want 3"

# --- item 5: times on the command line are bounded as in the config
for opt in --duration --episode-time --reset-time; do
  for v in 1e20 1e10 1e15 -1 nan inf -inf 86401 1e400 12abc ""; do
    expect_rc 2 "item 5: $opt '$v'" "$teleop" run "$opt" "$v" --out "$tmp/t5"
    grep -q "^teleop run: $opt: expected seconds in [[(]0, 86400\], got '$v'" "$tmp/err" ||
      fail "item 5: $opt $v message: $(cat "$tmp/err")"
    one_line "item 5: $opt $v"
  done
done
[[ -e "$tmp/t5" ]] && fail "item 5: a refused run created its folder"
expect_rc 2 "item 5: zero duration" "$teleop" run --duration 0 --out "$tmp/t5"
expect_rc 0 "item 5: zero episode time is 'no limit'" "$teleop" run --duration 0.3 --episode-time 0 --no-record

# --- item 17: an existing file as the output folder is one line; no
# 'episode:' line for a file never created.
echo "not a folder" >"$tmp/afile"
expect_rc 1 "item 17: --out FILE" "$teleop" run --duration 0.5 --out "$tmp/afile"
grep -qx "teleop run: --out $tmp/afile: not a folder" "$tmp/err" || fail "item 17: --out FILE message: $(cat "$tmp/err")"
one_line "item 17: --out FILE"
grep -q "^episode:" "$tmp/out" && fail "item 17: an episode line for a file never created"
printf '[session]\nout = %s\n' "$tmp/afile" >"$tmp/out.ini"
expect_rc 1 "item 17: [session] out FILE" "$teleop" run --duration 0.5 --config "$tmp/out.ini"
grep -qx "teleop run: \[session\] out $tmp/afile: not a folder" "$tmp/err" || fail "item 17: out key message: $(cat "$tmp/err")"
printf '[session]\ntask = a\033[31mred\n' >"$tmp/ctl.ini"
expect_rc 1 "item 17: control byte in a config" "$teleop" run --duration 0.5 --config "$tmp/ctl.ini"
grep -qx "teleop run: $tmp/ctl.ini:2: control character (byte 0x1B) in the line" "$tmp/err" ||
  fail "item 17: config control byte message: $(cat "$tmp/err")"
LC_ALL=C grep -q $'\033' "$tmp/err" && fail "item 17: a raw ESC byte from a config reached the terminal"
printf '\xef\xbb\xbf[session]\nduration = 0.3\nrecord = false\n' >"$tmp/bom.ini"
expect_rc 0 "item 17: a UTF-8 BOM is accepted" "$teleop" run --config "$tmp/bom.ini"

# --- item 6 (bench ik part): model and target files must be regular files;
# a FIFO, a device or a folder is one line, never a hang.
cat >"$tmp/chain.urdf" <<'URDF'
<robot name="r"><link name="base"/><link name="a"/><link name="b"/><link name="tip"/>
<joint name="j1" type="revolute"><parent link="base"/><child link="a"/><origin xyz="0 0 0.1"/><axis xyz="0 1 0"/><limit lower="-1" upper="1" velocity="2"/></joint>
<joint name="j2" type="revolute"><parent link="a"/><child link="b"/><origin xyz="0 0 0.2"/><axis xyz="1 0 0"/><limit lower="-1" upper="1" velocity="2"/></joint>
<joint name="j3" type="fixed"><parent link="b"/><child link="tip"/><origin xyz="0.1 0 0"/></joint></robot>
URDF
mkfifo "$tmp/fifo"
mkdir -p "$tmp/dir"
ik=(bench ik --base base --tip tip)
expect_rc 0 "item 6: write targets" "$teleop" "${ik[@]}" --urdf "$tmp/chain.urdf" --write-targets "$tmp/targets.txt" --count 5
for bad in "$tmp/fifo" /dev/null "$tmp/dir"; do
  expect_rc 1 "item 6: --urdf $bad" timeout 10 "$teleop" "${ik[@]}" --urdf "$bad" --targets "$tmp/targets.txt"
  grep -qx "teleop bench ik: --urdf $bad: not a regular file" "$tmp/err" || fail "item 6: --urdf $bad message: $(cat "$tmp/err")"
  expect_rc 1 "item 6: --targets $bad" timeout 10 "$teleop" "${ik[@]}" --urdf "$tmp/chain.urdf" --targets "$bad"
  grep -qx "teleop bench ik: --targets $bad: not a regular file" "$tmp/err" || fail "item 6: --targets $bad message: $(cat "$tmp/err")"
  expect_rc 1 "item 6: --mjcf $bad" timeout 10 "$teleop" "${ik[@]}" --mjcf "$bad" --targets "$tmp/targets.txt"
  one_line "item 6: --mjcf $bad"
done
expect_rc 1 "item 6: --write-targets to a FIFO" timeout 10 "$teleop" "${ik[@]}" --urdf "$tmp/chain.urdf" --write-targets "$tmp/fifo"
grep -qx "teleop bench ik: $tmp/fifo: not a regular file; not written" "$tmp/err" || fail "item 6: write to FIFO: $(cat "$tmp/err")"

# --- item 17: what the keys name inside files is checked before the session,
# and the error names file, line, section and key on one line.
chk() { # config-text expected-message-regex description
  printf "$1" >"$tmp/k.ini"
  expect_rc 1 "item 17: $3" "$teleop" run --config "$tmp/k.ini" --duration 0.3 --no-record
  grep -q "^teleop run: $tmp/k.ini:$2" "$tmp/err" || fail "item 17: $3 message: $(cat "$tmp/err")"
  one_line "item 17: $3"
}
chk '[robot]\nleft_arm_tip = right_ee\n' "2: \[robot\] left_arm_tip: arm chain torso_link -> right_ee: its joints are not the robot's left arm joints" "crossed arm chain"
chk '[robot]\narm_base = pelvis\n' "2: \[robot\] arm_base: .*base body 'pelvis' not found" "unknown arm base"
chk '[robot]\n\nright_arm_tip = nowhere\n' "3: \[robot\] right_arm_tip: " "unknown arm tip"
chk '[camera]\nmjcf_camera = nocam\n' "2: \[camera\] mjcf_camera: camera 'nocam' is not in .*humanoid.xml" "unknown MJCF camera"
chk '[camera.head]\nmjcf_camera = head_camera\n[camera.foo]\ndriver = sim\n' "3: \[camera.foo\] mjcf_camera: camera 'foo' is not in" "camera section without an MJCF camera"
chk "[retarget]\nhand_method = vector\nhand_urdf = $tmp/chain.urdf\n" "3: \[retarget\] hand_urdf: " "hand description without hands"
chk "[robot]\nmodel = $tmp/chain.urdf\n" "2: \[robot\] model: .*chain.urdf: " "model that does not load"
chk "[robot]\nmodel = $tmp/none.xml\n" "2: \[robot\] model: $tmp/none.xml: No such file or directory" "missing model"
chk "[operator]\nsource = motion\nmotion = $tmp/chain.urdf\n" "3: \[operator\] motion: " "motion that does not load"
chk "[operator]\nxr_replay_script = $tmp/none.txt\n" "2: \[operator\] xr_replay_script: $tmp/none.txt: No such file or directory" "missing replay script"
chk '[camera]\npreset = quick\n' "2: \[camera\] preset: 'quick' is not one of ultrafast, superfast, veryfast" "x264 preset"
chk '[controls]\nemergency = right.b\n' "2: \[controls\] emergency: controls.record_stop_keep and controls.emergency are bound to the same input" "control bindings"
chk '[controls]\nemergency = left.q\n' "2: \[controls\] emergency: " "bad binding"
chk '[safety]\nworkspace_max_x = -0.5\n' "2: \[safety\] workspace_max_x: workspace_min_x (-0.1) must be below workspace_max_x (-0.5)" "workspace"
chk '[session]\ntask = "a\tb"\n' "2: \[session\] task: contains a control character" "tab in a task"
LC_ALL=C grep -q $'\t' "$tmp/err" && fail "item 17: a raw tab reached the terminal"

# --- item 13: bench ik numbers bounded and checked, models checked
expect_rc 0 "item 13: solve targets" "$teleop" "${ik[@]}" --urdf "$tmp/chain.urdf" --targets "$tmp/targets.txt"
grep -q "^warm: solved .*/5 " "$tmp/out" || fail "item 13: bench output: $(cat "$tmp/out")"
for v in 0 -5 abc 12x 1e3 "" 1000001 99999999999999999999; do
  expect_rc 2 "item 13: --count '$v'" "$teleop" "${ik[@]}" --urdf "$tmp/chain.urdf" --write-targets "$tmp/t.txt" --count "$v"
  grep -qx "teleop bench ik: --count: expected an integer in \[1, 1000000\], got '$v' (see 'teleop bench ik --help')" "$tmp/err" ||
    fail "item 13: --count $v message: $(cat "$tmp/err")"
done
for v in 0 -1 x 5ms nan inf 1001 ""; do
  expect_rc 2 "item 13: --budget-ms '$v'" "$teleop" "${ik[@]}" --urdf "$tmp/chain.urdf" --targets "$tmp/targets.txt" --budget-ms "$v"
  grep -qx "teleop bench ik: --budget-ms: expected milliseconds in (0, 1000\], got '$v' (see 'teleop bench ik --help')" "$tmp/err" ||
    fail "item 13: --budget-ms $v message: $(cat "$tmp/err")"
done
sed 's/lower="-1" upper="1"/lower="-1e308" upper="1e308"/' "$tmp/chain.urdf" >"$tmp/huge.urdf"
expect_rc 1 "item 13: ±1e308 limits" "$teleop" "${ik[@]}" --urdf "$tmp/huge.urdf" --write-targets "$tmp/t.txt" --count 5
grep -qx "teleop bench ik: $tmp/huge.urdf: joint 'j1' limits \[-1e+308, 1e+308\] are not finite limits within ±1000" "$tmp/err" ||
  fail "item 13: huge limits message: $(cat "$tmp/err")"
[[ -e "$tmp/t.txt" ]] && grep -qi nan "$tmp/t.txt" && fail "item 13: NaN targets written"
cat >"$tmp/cycle.urdf" <<'URDF'
<robot name="r"><link name="base"/><link name="a"/><link name="tip"/>
<joint name="j1" type="revolute"><parent link="tip"/><child link="a"/><axis xyz="0 1 0"/><limit lower="-1" upper="1" velocity="2"/></joint>
<joint name="j2" type="revolute"><parent link="a"/><child link="tip"/><axis xyz="0 1 0"/><limit lower="-1" upper="1" velocity="2"/></joint>
</robot>
URDF
expect_rc 1 "item 13: a joint cycle" "$teleop" "${ik[@]}" --urdf "$tmp/cycle.urdf" --targets "$tmp/targets.txt"
grep -q "^teleop bench ik: $tmp/cycle.urdf:[0-9]*: the joints form a cycle through link" "$tmp/err" ||
  fail "item 13: cycle message: $(cat "$tmp/err")"
/usr/bin/python3 - "$tmp/long.urdf" <<'PY'
import sys
n = 300
links = "".join(f'<link name="l{i}"/>' for i in range(n))
joints = "".join(
    f'<joint name="j{i}" type="{"revolute" if i < 3 else "fixed"}"><parent link="l{i-1}"/><child link="l{i}"/>'
    f'<origin xyz="0 0 0.01"/><axis xyz="0 1 0"/><limit lower="-1" upper="1" velocity="2"/></joint>'
    for i in range(1, n))
open(sys.argv[1], "w").write(f'<robot name="long">{links}{joints}</robot>')
PY
expect_rc 1 "item 13: a chain of 300 links" "$teleop" bench ik --urdf "$tmp/long.urdf" --base l0 --tip l299 --targets "$tmp/targets.txt"
grep -qx "teleop bench ik: $tmp/long.urdf: robot 'long': chain l0 -> l299 is longer than 256 links" "$tmp/err" ||
  fail "item 13: long chain message: $(cat "$tmp/err")"
expect_rc 0 "item 13: a long tree, short chain" "$teleop" bench ik --urdf "$tmp/long.urdf" --base l0 --tip l3 --write-targets "$tmp/t3.txt" --count 2
# Target-file errors free what they allocated (the sanitizer build's leak
# check fails this otherwise).
printf 'warm 1 2 3\n' >"$tmp/short.txt"
expect_rc 1 "item 13: a short target line" "$teleop" "${ik[@]}" --urdf "$tmp/chain.urdf" --targets "$tmp/short.txt"
grep -qx "teleop bench ik: $tmp/short.txt:1: expected 9 finite numbers after 'warm'" "$tmp/err" || fail "item 13: short line: $(cat "$tmp/err")"
printf 'hot 1\n' >"$tmp/kind.txt"
expect_rc 1 "item 13: a bad target kind" "$teleop" "${ik[@]}" --urdf "$tmp/chain.urdf" --targets "$tmp/kind.txt"
one_line "item 13: bad target kind"

# --- item 14: calibrate --operator takes what its help says
motion=$(dirname "$teleop")/../tools/demo_motion.csv
for op in $'a\nb' 'a#b' 'a=b' '[a]' '-x' '.x' 'a/b' 'a b' $'caf\xe9' $'caf\xc3\xa9' "" "$(printf 'x%.0s' {1..41})"; do
  rm -f "$tmp/cal.ini"
  expect_rc 2 "item 14: --operator '$op'" "$teleop" calibrate --operator "$op" --motion "$motion" -o "$tmp/cal.ini"
  grep -q "^teleop calibrate: --operator '.*' is not a name: " "$tmp/err" || fail "item 14: '$op' message: $(cat "$tmp/err")"
  one_line "item 14: --operator '$op'"
  [[ -e "$tmp/cal.ini" ]] && fail "item 14: a calibration file was written for '$op'"
done
expect_rc 0 "item 14: a good name" "$teleop" calibrate --operator Op_1-b --motion "$motion" -o "$tmp/cal.ini"
grep -qx 'operator = "Op_1-b"' "$tmp/cal.ini" || fail "item 14: calibration file: $(cat "$tmp/cal.ini")"
sed 's/^operator = .*/operator = "a=b"/' "$tmp/cal.ini" >"$tmp/cal_bad.ini"
printf '[calibration]\nfile = %s\n' "$tmp/cal_bad.ini" >"$tmp/usecal.ini"
expect_rc 1 "item 14: a calibration file with a bad operator" "$teleop" run --config "$tmp/usecal.ini" --duration 0.3 --no-record
grep -q "\[calibration\] operator: 'a=b' is not a name" "$tmp/err" || fail "item 14: calibration operator message: $(cat "$tmp/err")"
printf '[session]\noperator = x=y\n' >"$tmp/op.ini"
expect_rc 1 "item 14: config operator" "$teleop" run --config "$tmp/op.ini" --duration 0.3 --no-record
grep -qx "teleop run: $tmp/op.ini:2: \[session\] operator: 'x=y' is not a name: byte 2 is not a letter, digit, '_' or '-' (ASCII)" "$tmp/err" ||
  fail "item 14: config operator message: $(cat "$tmp/err")"

# --- item 18: one mode policy: every file teleop creates is 0644 less the
# umask (never group- or world-writable, even with umask 000).
(
  umask 000
  rm -f "$tmp/u_cal.ini"
  "$teleop" calibrate --operator umask --motion "$motion" -o "$tmp/u_cal.ini" >/dev/null 2>&1
  "$teleop" "${ik[@]}" --urdf "$tmp/chain.urdf" --write-targets "$tmp/u_targets.txt" --count 2 >/dev/null 2>&1
  "$teleop" run --duration 0.5 --out "$tmp/u_rec" </dev/null >"$tmp/u.out" 2>/dev/null
)
uep=$(sed -n 's/^episode: //p' "$tmp/u.out")
for f in "$tmp/u_cal.ini" "$tmp/u_targets.txt" "$uep"; do
  [[ -f "$f" ]] || { fail "item 18: $f not created"; continue; }
  [[ $(stat -c %a "$f") == 644 ]] || fail "item 18: $f has mode $(stat -c %a "$f") with umask 000, want 644"
done
(
  umask 077
  "$teleop" calibrate --operator umask --motion "$motion" -o "$tmp/u_cal2.ini" >/dev/null 2>&1
)
[[ $(stat -c %a "$tmp/u_cal2.ini") == 600 ]] || fail "item 18: umask 077 calibration mode $(stat -c %a "$tmp/u_cal2.ini"), want 600"

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "command-line items: ok"
