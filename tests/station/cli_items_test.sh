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

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "command-line items: ok"
