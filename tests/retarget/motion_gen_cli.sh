#!/bin/sh
# teleop-motion-gen: exit codes, one-line errors, deterministic output that
# the motion loader accepts (checked by row count and header here; the
# content is checked by test_retarget). Usage: motion_gen_cli.sh GEN
set -u
gen=$1
tmp=$(mktemp -d /tmp/teleop-motion-gen-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { # expect CODE PATTERN CMD...
  code=$1 pat=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
  [ "$got" -eq "$code" ] || fail "$* exited $got, expected $code ($(cat "$tmp/err"))"
  [ -z "$pat" ] || grep -q -- "$pat" "$tmp/err" "$tmp/out" || fail "$*: no '$pat' in: $(cat "$tmp/err")"
  [ "$(wc -l <"$tmp/err")" -le 1 ] || fail "$*: more than one line on stderr"
}
expect 0 "usage: teleop-motion-gen" "$gen" --help
expect 2 "usage" "$gen"
expect 2 "needs a value" "$gen" -o
expect 2 "unknown option '--bogus'" "$gen" --bogus -o "$tmp/x.csv"
expect 2 "got 'abc'" "$gen" --rate abc -o "$tmp/x.csv"
expect 2 "got '0.5'" "$gen" --rate 0.5 -o "$tmp/x.csv"
expect 1 "$tmp/none/x.csv: cannot create" "$gen" -o "$tmp/none/x.csv"
expect 0 "" "$gen" --rate 30 -o "$tmp/a.csv"
expect 0 "" "$gen" --rate 30 -o "$tmp/b.csv"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || fail "two runs differ"
[ "$(wc -l <"$tmp/a.csv")" -eq 602 ] || fail "expected a header and 601 rows at 30 Hz for 20 s"
head -n 1 "$tmp/a.csv" | grep -q '^t_s,head.px,head.py,' || fail "bad header"
tail -n 1 "$tmp/a.csv" | grep -q '^20.000000,' || fail "last row is not at t = 20 s"
echo "ok"
