#!/usr/bin/env bash
# Install dependencies, build with warnings as errors, run every test suite.
# --sanitize builds and tests under AddressSanitizer + UndefinedBehaviorSanitizer.
# Ends with the line "N passed, N failed"; exit status 0 only when none failed.
set -uo pipefail
cd "$(dirname "$0")/.."
t_phase=$SECONDS
scripts/setup.sh || exit 1
t_setup=$((SECONDS - t_phase))

builddir=build-test
opts=(-Dwerror=true --buildtype=debugoptimized)
suite_opts=()
if [[ "${1:-}" == "--sanitize" ]]; then
  builddir=build-asan
  opts+=(-Db_sanitize=address,undefined -Db_lundef=false)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  # Memory checking, not coverage, is the point here: the plain run drives
  # the control-path property test with the full million frames.
  export TELEOP_PROPERTY_FRAMES=200000
  # Likewise the kill -9 soak: the plain run kills 20 sessions at random and
  # 10 more between stop and final; here 8 and 4 walk the same recovery
  # paths under the sanitizers.
  export TELEOP_CRASH_TRIALS=8 TELEOP_CRASH_STOP_KILLS=4
  # The Parquet writer's kill test likewise: 8 kills instead of 20 (each one
  # an uninterrupted-length write of 400 000 rows, 3 times slower here).
  export TELEOP_PARQUET_CRASH_KILLS=8
  # The fidelity suite measures real-time behaviour (a 640x480 head camera
  # rendered and encoded at 30 fps beside the 500 Hz loop): sanitized code
  # cannot keep that rate on two cores, and its memory paths are the ones the
  # station, cli and crash suites already run here. The plain run asserts it.
  suite_opts=(--no-suite fidelity)
fi
if [[ -d $builddir ]]; then
  meson setup --reconfigure "$builddir" "${opts[@]}" >/dev/null || exit 1
else
  meson setup "$builddir" "${opts[@]}" >/dev/null || exit 1
fi
t_phase=$SECONDS
ninja -C "$builddir" || { echo "0 passed, 1 failed"; exit 1; }
t_build=$((SECONDS - t_phase))
t_phase=$SECONDS
meson test -C "$builddir" --print-errorlogs --num-processes 2 "${suite_opts[@]}" | tee "$builddir/test-summary.txt"
ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$builddir/test-summary.txt" | tail -n 1)
expfail=$(sed -n 's/^Expected Fail: *\([0-9]*\).*/\1/p' "$builddir/test-summary.txt" | tail -n 1)
fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$builddir/test-summary.txt" | tail -n 1)
unexp=$(sed -n 's/^Unexpected Pass: *\([0-9]*\).*/\1/p' "$builddir/test-summary.txt" | tail -n 1)
timeout=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$builddir/test-summary.txt" | tail -n 1)
passed=$(( ${ok:-0} + ${expfail:-0} ))
failed=$(( ${fail:-0} + ${unexp:-0} + ${timeout:-0} ))
if [[ -z "$ok" ]]; then failed=$((failed + 1)); fi
echo "$builddir: setup ${t_setup} s, build ${t_build} s, tests $((SECONDS - t_phase)) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
