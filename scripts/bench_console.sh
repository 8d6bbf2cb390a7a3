#!/usr/bin/env bash
# The operator console's cost to the session (scripts/bench.sh console): the
# embedded default session run PAIRS times with the console and as often
# without it, alternating, SECONDS each; per run the control loop's deadline
# misses and period p99 (teleop run -v), frames rendered, and the console's
# own frame rate; then the totals. With --targets, exits 3 unless the runs
# with the console missed no more deadlines than the runs without it and
# their period p99 is within 50 us of theirs.
# Usage: scripts/bench_console.sh TELEOP [SECONDS] [PAIRS] [--targets]
# Needs a display (bench.sh starts a private Xvfb when there is none).
set -uo pipefail
teleop=$1
shift
secs=20 pairs=3 targets=false
args=()
for a in "$@"; do
  if [[ $a == --targets ]]; then targets=true; else args+=("$a"); fi
done
[[ ${#args[@]} -ge 1 ]] && secs=${args[0]}
[[ ${#args[@]} -ge 2 ]] && pairs=${args[1]}
out=$(mktemp -d /tmp/teleop-bench-console-XXXXXX)
trap 'rm -rf "$out"' EXIT

declare -A misses p99sum runs frames
misses=([console]=0 [none]=0) p99sum=([console]=0 [none]=0) runs=([console]=0 [none]=0) frames=([console]=0 [none]=0)
printf '%-8s %4s %8s %10s %12s %10s\n' run pair misses "p99 us" "cam frames" "console fps"
for ((i = 1; i <= pairs; i++)); do
  for mode in console none; do
    flag=--no-console
    [[ $mode == console ]] && flag=--console
    rm -rf "$out/rec"
    if ! "$teleop" run -v "$flag" --duration "$secs" --out "$out/rec" --commands /dev/null >/dev/null 2>"$out/err"; then
      cat "$out/err" >&2
      echo "bench console: teleop run $flag failed" >&2
      exit 1
    fi
    line=$(grep 'deadline misses, period median' "$out/err" | tail -n 1)
    m=$(sed -n 's/.* \([0-9][0-9]*\) deadline misses.*/\1/p' <<<"$line")
    p=$(sed -n 's/.* p99 \([0-9.]*\) us.*/\1/p' <<<"$line")
    f=$(sed -n 's/.* \([0-9][0-9]*\) frames rendered.*/\1/p' <<<"$line")
    fps=$(sed -n 's/.*console: [0-9]* frames drawn in .* (\([0-9.]*\) per second).*/\1/p' "$out/err" | tail -n 1)
    printf '%-8s %4d %8d %10s %12d %10s\n' "$mode" "$i" "$m" "$p" "$f" "${fps:--}"
    misses[$mode]=$((misses[$mode] + m))
    frames[$mode]=$((frames[$mode] + f))
    p99sum[$mode]=$(awk -v a="${p99sum[$mode]}" -v b="$p" 'BEGIN { print a + b }')
    runs[$mode]=$((runs[$mode] + 1))
  done
done
p99c=$(awk -v s="${p99sum[console]}" -v n="${runs[console]}" 'BEGIN { printf "%.1f", s / n }')
p99n=$(awk -v s="${p99sum[none]}" -v n="${runs[none]}" 'BEGIN { printf "%.1f", s / n }')
echo "with the console:    ${misses[console]} deadline misses in $pairs x $secs s, period p99 $p99c us (mean), ${frames[console]} camera frames"
echo "without the console: ${misses[none]} deadline misses in $pairs x $secs s, period p99 $p99n us (mean), ${frames[none]} camera frames"
if $targets; then
  ok=true
  if ((misses[console] > misses[none])); then
    echo "TARGET MISSED: the console added $((misses[console] - misses[none])) deadline misses" >&2
    ok=false
  fi
  if awk -v c="$p99c" -v n="$p99n" 'BEGIN { exit !(c > n + 50) }'; then
    echo "TARGET MISSED: the console raised the period p99 by more than 50 us ($p99c vs $p99n)" >&2
    ok=false
  fi
  $ok || exit 3
  echo "targets met"
fi
