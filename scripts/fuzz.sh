#!/usr/bin/env bash
# Fuzzes the URDF loading path with libFuzzer (clang, ASan, UBSan) for
# SECONDS (default 60), starting from tests/fuzz/corpus. Exits non-zero on
# the first crash, leak or undefined behaviour, leaving the input in /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
command -v clang >/dev/null || { echo "fuzz: needs clang (apt-get install clang libclang-rt-dev)" >&2; exit 1; }
out=$(mktemp -d /tmp/teleop-fuzz-XXXXXX)
clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Iinclude tests/fuzz/fuzz_urdf.c src/retarget/urdf.c src/retarget/chain.c src/core/pose.c src/core/file.c \
  -lexpat -lm -o "$out/fuzz_urdf"
mkdir -p "$out/corpus"
cp tests/fuzz/corpus/* "$out/corpus/"
"$out/fuzz_urdf" -max_total_time="$seconds" -max_len=8192 -artifact_prefix="$out/" \
  -dict=tests/fuzz/urdf.dict "$out/corpus" 2>&1 | tail -n 5
echo "fuzz: ${seconds} s clean; corpus and binary in $out"
