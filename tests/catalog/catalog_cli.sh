#!/usr/bin/env bash
# teleop catalog end to end: the fixture episodes listed (a non-episode
# skipped), JSON lines, sort, usage errors, and an episode listed as
# 'recording' while `teleop run` records it, then 'completed'.
#   catalog_cli.sh TELEOP FIXTURE_DIR
set -euo pipefail
teleop=$1
fixtures=$2
dir=$(mktemp -d /tmp/teleop-catalog-cli-XXXXXX)
pid=""
trap 'if [[ -n $pid ]]; then kill "$pid" 2> /dev/null || true; fi; wait 2> /dev/null || true; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$dir/eps"
cp "$fixtures"/episode-*.db "$dir/eps/"
echo "not an episode" > "$dir/eps/junk.db"
# An hour old, as a recording folder's files: files changed in the last 2 s
# are read once more at the next refresh (racy mtime), which would blur the
# warm count below.
touch -d '1 hour ago' "$dir"/eps/*.db
out=$("$teleop" catalog "$dir/eps" --stats 2> "$dir/stats")
[[ $(wc -l <<< "$out") -eq 4 ]] || fail "want a header and 3 rows: $out"
[[ $(head -n 1 <<< "$out") == DATE*NAME*DURATION*OUTCOME*VERDICT*RATING*TAGS*QA*TASK ]] || fail "header: $out"
grep -q "3 episodes, 4 re-read, 0 removed, 1 skipped" "$dir/stats" || fail "stats: $(cat "$dir/stats")"
[[ -f $dir/eps/.teleop-catalog.sqlite ]] || fail "no index in the folder"
json=$("$teleop" catalog "$dir/eps" --sort name --desc --json)
[[ $(wc -l <<< "$json") -eq 3 ]] || fail "want 3 JSON lines: $json"
[[ $(head -n 1 <<< "$json") == '{"path":"'"$dir"'/eps/episode-v2.db","name":"episode-v2.db",'* ]] || fail "sort name desc: $json"
"$teleop" catalog "$dir/eps" --stats > /dev/null 2> "$dir/stats"
grep -q "3 episodes, 0 re-read, 0 removed, 1 skipped" "$dir/stats" || fail "warm stats: $(cat "$dir/stats")"
# One file named: only it.
[[ $("$teleop" catalog "$dir/eps/episode-v2.db" --json | wc -l) -eq 1 ]] || fail "one file"

set +e
"$teleop" catalog "$dir/eps" --sort bogus 2> "$dir/err"; [[ $? -eq 2 ]] || fail "--sort bogus: want exit 2"
"$teleop" catalog "$dir/eps" --min-rating 9 2> "$dir/err"; [[ $? -eq 2 ]] || fail "--min-rating 9: want exit 2"
"$teleop" catalog "$dir/missing" 2> "$dir/err"; [[ $? -eq 1 ]] || fail "missing folder: want exit 1"
set -e
grep -q "$dir/missing" "$dir/err" || fail "the error names the folder: $(cat "$dir/err")"

# Listed while recorded.
printf '[session]\nrealtime_priority = false\n' > "$dir/station.ini"
"$teleop" run --config "$dir/station.ini" --duration 5 --out "$dir/rec" > "$dir/run.log" 2>&1 &
pid=$!
seen=0
out="(no episode appeared)"
for _ in $(seq 1 600); do # the session starts slowly under sanitizers
  if ls "$dir"/rec/episode-*.db > /dev/null 2>&1; then
    out=$("$teleop" catalog "$dir/rec")
    if grep -q " recording " <<< "$out"; then seen=1; break; fi
  fi
  kill -0 "$pid" 2> /dev/null || break
  sleep 0.1
done
(( seen )) || { cat "$dir/run.log"; fail "never listed as recording: $out"; }
wait "$pid" || { cat "$dir/run.log"; fail "teleop run failed"; }
pid=""
out=$("$teleop" catalog "$dir/rec" --json)
[[ $(wc -l <<< "$out") -eq 1 ]] || fail "one episode: $out"
grep -q '"outcome":"completed"' <<< "$out" || fail "finished: $out"
grep -q '"live":false' <<< "$out" || fail "not live any more: $out"
echo "ok"
