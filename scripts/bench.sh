#!/usr/bin/env bash
# Benchmarks: builds in release mode and runs a 20 s session benchmark
# (control-loop rate and jitter, camera/encoder rates, recorder throughput).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[[ -d build ]] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
out=$(mktemp -d /tmp/teleop-bench-XXXXXX)
build/bench/teleop-bench-session "${1:-20}" "$out"
ep=$(ls "$out"/*.db | head -n 1)
build/src/cli/teleop check "$ep"
rm -rf "$out"
