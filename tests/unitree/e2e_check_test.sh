#!/usr/bin/env bash
# e2e_check on the simulated station: an episode of the default demo motion
# (6 s, a 64x48 camera to spare the CPU) passes the follow test's wrist
# criterion; a copy whose state rows are stamped 0.3 s late (a robot that
# tracks, but a third of a second behind) fails it with one line.
# Usage: e2e_check_test.sh TELEOP E2E_CHECK MODEL.xml
set -u
teleop=$1 check=$2 model=$3
tmp=$(mktemp -d /tmp/teleop-e2e-check-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

printf '[session]\nrealtime_priority = false\n[camera]\nname = head_camera\nwidth = 64\nheight = 48\nfps = 30\n' \
  >"$tmp/station.ini"
"$teleop" run --config "$tmp/station.ini" --no-console --duration 6 --out "$tmp/rec" </dev/null >"$tmp/run.out" 2>&1 ||
  { cat "$tmp/run.out"; echo "FAIL: teleop run"; exit 1; }
ep=$(ls "$tmp"/rec/*.db)
"$check" "$ep" "$model" >"$tmp/out" 2>&1; rc=$?
cat "$tmp/out"
[[ $rc -eq 0 ]] || fail "the simulated station's episode: exit $rc, want 0"

cp "$ep" "$tmp/late.db"
sqlite3 "$tmp/late.db" \
  "UPDATE samples SET t_ns = t_ns + 300000000 WHERE stream_id = (SELECT id FROM streams WHERE name = 'state')"
"$check" "$tmp/late.db" "$model" >"$tmp/out" 2>"$tmp/err"; rc=$?
cat "$tmp/out" "$tmp/err"
[[ $rc -eq 1 ]] || fail "state 0.3 s late: exit $rc, want 1"
[[ $(wc -l <"$tmp/err") -eq 1 ]] && grep -q "late.db: FAIL: .* wrist: error .* mm" "$tmp/err" ||
  fail "state 0.3 s late: want one line naming the wrist error, got: $(cat "$tmp/err")"

[[ $failures -eq 0 ]] && echo "e2e_check_test: ok"
exit $((failures > 0))
