#!/usr/bin/env bash
# The recording workflow end to end: a session driven by command lines
# through a FIFO (reacting to the session's own lines, so machine load does
# not matter) keeps, discards, re-records and quits; a timed session records
# N episodes of a fixed length with pauses between them. Every kept episode
# passes check; discarded and deleted ones are gone.
# Usage: workflow_cli_test.sh TELEOP_BINARY
set -u
teleop=$1
tmp=$(mktemp -d /tmp/teleop-workflow-XXXXXX)
pid=
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; exec 3>&- 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
wait_for() { # pattern file timeout-s
  local i
  for ((i = 0; i < $3 * 20; i++)); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.05; done
  fail "timed out waiting for '$1' in $2: $(tail -n 5 "$2")"
  return 1
}
count() { grep -c -- "$1" "$2" 2>/dev/null || true; }

# --- a manual session driven by commands
mkfifo "$tmp/cmd"
"$teleop" run --episodes 0 --manual --commands "$tmp/cmd" --task "pick the cube" --out "$tmp/rec" \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/cmd"
wait_for "\[idle\]" "$tmp/err" 60
echo start >&3
wait_for "episode 1: recording" "$tmp/err" 30
sleep 1
echo keep >&3
wait_for "episode 1: kept" "$tmp/err" 30
echo "rerecord   # it was a bad take after all" >&3
wait_for "^deleted: " "$tmp/out" 30
echo "task stack the cubes" >&3
echo start >&3
wait_for "episode 2: recording" "$tmp/err" 30
sleep 0.5
echo discard >&3
wait_for "episode 2: discarded" "$tmp/err" 30
echo rerecord >&3 # after a discard: nothing to delete
echo bogus >&3
echo start >&3
wait_for "episode 3: recording" "$tmp/err" 30
sleep 1
echo quit >&3
wait "$pid"
rc=$?
pid=
exec 3>&-
[[ $rc -eq 0 ]] || fail "manual session exit $rc: $(tail -n 5 "$tmp/err")"
grep -q "unknown command 'bogus'" "$tmp/err" || fail "unknown command not reported"
first=$(sed -n 's/^episode: //p' "$tmp/out" | sed -n 1p)
last=$(sed -n 's/^episode: //p' "$tmp/out" | sed -n 2p)
discarded=$(sed -n 's/^discarded: //p' "$tmp/out")
deleted=$(sed -n 's/^deleted: //p' "$tmp/out")
[[ $(count "^episode: " "$tmp/out") -eq 2 && $(count "^deleted: " "$tmp/out") -eq 1 ]] || fail "want 2 kept lines, 1 deleted: $(cat "$tmp/out")"
[[ -n "$first" && "$deleted" == "$first" ]] || fail "re-record deleted '$deleted', want the first '$first'"
[[ -n "$discarded" && ! -e "$discarded" ]] || fail "discarded episode still on disk: $discarded"
[[ -n "$first" && ! -e "$first" ]] || fail "deleted episode still on disk: $first"
[[ $(ls "$tmp/rec" | grep -c '\.db$') -eq 1 ]] || fail "want one episode left: $(ls "$tmp/rec")"
if [[ -f "$last" ]]; then
  "$teleop" check "$last" >/dev/null || fail "check on the kept episode"
  [[ $(sqlite3 "$last" "select value from meta where key='task'") == "stack the cubes" ]] || fail "task not per episode"
  [[ $(sqlite3 "$last" "select value from meta where key='episode_index'") == 3 ]] || fail "episode_index"
  [[ $(sqlite3 "$last" "select value from meta where key='outcome'") == completed ]] || fail "outcome"
else
  fail "kept episode missing: '$last'"
fi

# --- a timed session: 2 episodes of 1 s, 0.5 s apart, then the session ends
"$teleop" run --episodes 2 --episode-time 1 --reset-time 0.5 --out "$tmp/timed" </dev/null >"$tmp/out2" 2>"$tmp/err2"
rc=$?
[[ $rc -eq 0 ]] || fail "timed session exit $rc: $(tail -n 5 "$tmp/err2")"
[[ $(count "^episode: " "$tmp/out2") -eq 2 ]] || fail "timed session: want 2 episodes: $(cat "$tmp/out2")"
prev_end=0
for ep in $(sed -n 's/^episode: //p' "$tmp/out2"); do
  "$teleop" check "$ep" >/dev/null || fail "check $ep"
  read -r start end < <(sqlite3 -separator ' ' "$ep" "select (select value from meta where key='start_t_ns'), (select value from meta where key='end_t_ns')")
  python3 - "$ep" "$start" "$end" "$prev_end" <<'PY' || fail "timed episode $ep"
import sqlite3, sys
path, start, end, prev_end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
db = sqlite3.connect(path)
errors = []
if abs((end - start) / 1e9 - 1.0) > 1e-6:
    errors.append(f"episode lasts {(end - start) / 1e9} s, want 1 s")
if prev_end and (start - prev_end) / 1e9 < 0.5 - 1e-6:
    errors.append(f"pause {(start - prev_end) / 1e9} s, want 0.5 s")
n, t0, t1 = db.execute("select count(*), min(t_ns), max(t_ns) from samples where stream_id = "
                       "(select id from streams where name = 'state')").fetchone()
if not (start <= t0 and t1 < end):
    errors.append(f"state rows [{t0}, {t1}] outside the episode [{start}, {end})")
if not 450 <= n <= 501:
    errors.append(f"{n} state rows in 1 s at 500 Hz")
first = db.execute("select pts, keyframe, t_ns from video_packets order by seq limit 1").fetchone()
if not first or first[0] != 0 or first[1] != 1 or first[2] < start:
    errors.append(f"first video packet {first}: want pts 0, a keyframe, inside the episode")
last = db.execute("select max(t_ns) from video_packets").fetchone()[0]
if last is None or last >= end:
    errors.append(f"video packet at {last} after the end {end}")
if errors:
    print(path, "; ".join(errors))
    sys.exit(1)
PY
  prev_end=$end
done

# --- bad values are usage errors
"$teleop" run --episodes -1 >/dev/null 2>"$tmp/err3"; [[ $? -eq 2 ]] || fail "--episodes -1 accepted"
"$teleop" run --episode-time soon >/dev/null 2>"$tmp/err3"; [[ $? -eq 2 ]] || fail "--episode-time soon accepted"
grep -q -- "--episode-time: expected seconds in \[0, 86400\], got 'soon'" "$tmp/err3" || fail "message: $(cat "$tmp/err3")"
"$teleop" run --commands "$tmp/none" --no-record >/dev/null 2>"$tmp/err3"; [[ $? -eq 1 ]] || fail "missing --commands file"
grep -q "$tmp/none" "$tmp/err3" || fail "missing commands file not named"

echo "$failures failures"
[[ $failures -eq 0 ]]
