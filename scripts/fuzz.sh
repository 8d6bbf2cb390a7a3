#!/usr/bin/env bash
# Fuzzes a robot-description loading path with libFuzzer (clang, ASan, UBSan)
# for SECONDS (default 60), starting from the seed corpus:
#   scripts/fuzz.sh [urdf|mjcf|config|episode|parquet|glove] [SECONDS]
#   urdf: our URDF parser and chain extraction (tests/fuzz/fuzz_urdf.c)
#   mjcf: MuJoCo's XML parser through an in-memory file, then our chain
#         extraction (tests/fuzz/fuzz_mjcf.c; MuJoCo itself is not
#         instrumented, our code is)
#   config: a station config through parse, validation and every key table
#         (tp_session_apply_config), then the resolved configuration read
#         back (tests/fuzz/fuzz_config.c); built in build-fuzz/ with clang
#         (meson -Dfuzzing=true), the station library instrumented
#   episode: byte flips of the frozen v2 fixture episode through the reader,
#         check and info (tests/fuzz/fuzz_episode.c); fails when check says
#         ok on changed sample, packet or attachment bytes
#   parquet: arbitrary bytes through the parquet reader's footer, schema
#         and every column's pages (tests/fuzz/fuzz_parquet_read.c)
#   glove: one glove line through the OpenGloves parser under each
#         max_value, and the feedback formatter (tests/fuzz/fuzz_glove.c)
# Exits non-zero on the first crash, leak or undefined behaviour, leaving the
# input in the printed folder.
set -euo pipefail
cd "$(dirname "$0")/.."
target=urdf
if [[ "${1:-}" == urdf || "${1:-}" == mjcf || "${1:-}" == config || "${1:-}" == episode || "${1:-}" == parquet || "${1:-}" == glove ]]; then target=$1; shift; fi
seconds=${1:-60}
command -v clang >/dev/null || { echo "fuzz: needs clang (apt-get install clang libclang-rt-dev)" >&2; exit 1; }
out=$(mktemp -d /tmp/teleop-fuzz-XXXXXX)
flags=(-std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude)
mkdir -p "$out/corpus"
if [[ $target == config ]]; then
  if [[ ! -f build-fuzz/build.ninja ]]; then
    CC=clang meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
      -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" --buildtype=debugoptimized >/dev/null
  fi
  ninja -C build-fuzz tests/fuzz/fuzz_config >/dev/null
  cp build-fuzz/tests/fuzz/fuzz_config "$out/fuzz"
  cp tests/fuzz/corpus-config/* "$out/corpus/"
  extra=(-max_len=4096 -dict=tests/fuzz/config.dict)
elif [[ $target == urdf ]]; then
  clang "${flags[@]}" tests/fuzz/fuzz_urdf.c src/retarget/urdf.c src/retarget/chain.c src/core/pose.c \
    src/core/file.c -lexpat -lm -o "$out/fuzz"
  cp tests/fuzz/corpus/* "$out/corpus/"
  extra=(-max_len=8192 -dict=tests/fuzz/urdf.dict)
elif [[ $target == episode ]]; then
  clang "${flags[@]}" -Isrc/record -DFIXTURE="\"$PWD/tests/data/episode-v2.db\"" tests/fuzz/fuzz_episode.c \
    src/record/episode_reader.c src/record/episode_writer.c src/record/check.c src/record/info.c \
    src/record/sync.c src/record/video.c src/core/file.c src/core/text.c \
    $(pkg-config --cflags --libs sqlite3 libcrypto libavcodec libavutil libswscale) -lm -lpthread -o "$out/fuzz"
  cp tests/fuzz/corpus-episode/* "$out/corpus/"
  extra=(-max_len=80 -timeout=30)
elif [[ $target == glove ]]; then
  clang "${flags[@]}" tests/fuzz/fuzz_glove.c devices/glove/opengloves_encoding.c -o "$out/fuzz"
  cp tests/fuzz/corpus-glove/* "$out/corpus/"
  extra=(-max_len=512 -dict=tests/fuzz/glove.dict)
elif [[ $target == parquet ]]; then
  clang "${flags[@]}" -Isrc/export tests/fuzz/fuzz_parquet_read.c src/export/parquet_read.c \
    $(pkg-config --cflags --libs snappy zlib libzstd) -o "$out/fuzz"
  cp tests/fuzz/corpus-parquet/* "$out/corpus/"
  extra=(-max_len=8192 -rss_limit_mb=2048)
else
  clang "${flags[@]}" -Idevices/robot/sim tests/fuzz/fuzz_mjcf.c devices/robot/sim/mjcf_chain.c \
    src/retarget/chain.c src/core/pose.c -lmujoco -lm -o "$out/fuzz"
  cp tests/fuzz/corpus-mjcf/* "$out/corpus/"
  extra=(-max_len=4096 -dict=tests/fuzz/mjcf.dict)
fi
# The config target resolves relative paths (model, motion files) from here.
"$out/fuzz" -max_total_time="$seconds" -artifact_prefix="$out/" "${extra[@]}" "$out/corpus" > "$out/log" 2>&1 || { grep -v "^#\|^INFO" "$out/log" | head -n 40; exit 1; }
tail -n 3 "$out/log"
echo "fuzz $target: ${seconds} s clean; corpus and binary in $out"
