#!/usr/bin/env bash
# Issue 10, item 11: `teleop check` on an episode being recorded reads one
# consistent snapshot (no "N packets decoded to M frames" from rows committed
# between two reads) and says it is live. Ten checks while `teleop run`
# records the default session (640x480 H.264 head camera); every one must
# pass, and the finished episode too.
#   live_check_test.sh TELEOP
set -euo pipefail
teleop=$1
dir=$(mktemp -d /tmp/teleop-live-XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
printf '[session]\nrealtime_priority = false\n' > "$dir/station.ini"
"$teleop" run --config "$dir/station.ini" --duration 9 --out "$dir/rec" > "$dir/run.log" 2>&1 &
pid=$!
episode=""
for _ in $(seq 1 200); do
  episode=$(ls "$dir"/rec/episode-*.db 2>/dev/null | head -n 1 || true)
  [[ -n $episode ]] && break
  sleep 0.05
done
[[ -n $episode ]] || { echo "no episode appeared"; cat "$dir/run.log"; exit 1; }
sleep 1
live=0
for i in $(seq 1 10); do
  out=$("$teleop" check "$episode" 2>&1) || { echo "check $i failed on a live episode: $out"; exit 1; }
  [[ $out == *"ok (live: being recorded)" ]] && live=$((live + 1))
  sleep 0.4
done
wait "$pid" || { echo "teleop run failed:"; cat "$dir/run.log"; exit 1; }
(( live >= 5 )) || { echo "only $live of 10 checks saw the episode live"; exit 1; }
out=$("$teleop" check "$episode" 2>&1)
[[ $out == "$episode: ok" ]] || { echo "final check: $out"; exit 1; }
echo "10 checks while recording ($live live) and the final one: ok"
