#!/usr/bin/env bash
# Benchmarks: builds in release mode and runs a session benchmark, then
# verifies its episode with `teleop check`.
#   scripts/bench.sh [SECONDS]            the embedded default session (20 s):
#                                         control-loop rate and jitter, camera and
#                                         encoder rates, recorder throughput
#   scripts/bench.sh recording [SECONDS]  live multi-camera recording (60 s): three
#                                         640x480 30 fps test-pattern cameras with
#                                         motion and noise, 500 Hz state and action,
#                                         the operator stream; per-camera drops,
#                                         deadline misses, recorder+encoder CPU, peak
#                                         RSS, stop-to-final, against the targets
#   scripts/bench.sh upsampling           the bundled motion through the controller
#                                         (no real time): per upsampling method the
#                                         action-velocity power above 45 Hz, velocity
#                                         clamp events, lag, error, overshoot; fails
#                                         (exit 3) if the default misses 2 % or clamps
#   scripts/bench.sh catalog [N]          the catalog index over N (10000) small real
#                                         episodes: cold build, warm listing, filtered
#                                         listing, one-file refresh, against the
#                                         folder's floor; exit 1 when a target is missed
#   scripts/bench.sh review-ui [--targets] the review app in a real window under Xvfb (Mesa
#                                         llvmpipe): open -> first frame drawn, seek -> drawn,
#                                         UI fps playing three 640x480 cameras at 1x, and an
#                                         empty frame's rate; --targets exits 1 when missed
#   scripts/bench.sh upload-sync [SECONDS] the default session (20 s) in 3 alternating pairs, without
#                                         and with station sync uploading the whole time (to s3rver on
#                                         loopback, run at nice 19 like a remote server): dropped
#                                         frames, deadline misses, jitter side by side; exit 3
#                                         when a frame drops or misses grow with upload
#   scripts/bench.sh review-open [SECONDS]  the review player's decode engine on a
#                                         three-camera 640x480 30 fps H.264 episode
#                                         (10 s): open to first frames, seeks, 1x
#                                         playback decode CPU, the plain-decode
#                                         floor; exit 1 when a target is missed
#   scripts/bench.sh console [SECONDS] [PAIRS] [--targets]
#                                         the operator console's cost: the default
#                                         session with and without the console, PAIRS
#                                         (3) times SECONDS (20) each, alternating;
#                                         deadline misses, period p99, camera frames,
#                                         console fps; --targets fails (exit 3) when
#                                         the console adds a miss or 50 us of p99
#                                         (scripts/bench_console.sh; a private Xvfb
#                                         when there is no display)
#   scripts/bench.sh robot-link [SECONDS] [--fifo] [--targets]
#                                         the unitree robot link over CycloneDDS on lo
#                                         against `teleop sim --dds` (SECONDS >= 10, default
#                                         10): operator sample -> rt/arm_sdk latency p50/p99,
#                                         command rate and |interval - 2 ms| jitter next to
#                                         cyclictest's at 2000 us (--fifo: control thread,
#                                         reader and cyclictest at SCHED_FIFO 41); --targets
#                                         exits 3 when missed
#   scripts/bench.sh xr-view [SECONDS] [--targets]
#                                         the headset view (10 s): teleop run with [xr]
#                                         view = headset, the replay runtime at 90 Hz, the
#                                         sim head camera at 30 fps; from the headset_view
#                                         stream: capture/arrival -> layer submitted p50/p99/
#                                         max, frames late, render time, display period
#                                         (scripts/bench_xr_view.sh; a private Xvfb);
#                                         --targets exits 1 when missed
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[[ -d build ]] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
if [[ "${1:-}" == "console" ]]; then
  shift
  if [[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
    exec tests/support/with_xvfb.sh scripts/bench_console.sh build/src/cli/teleop "$@"
  fi
  exec scripts/bench_console.sh build/src/cli/teleop "$@"
fi
if [[ "${1:-}" == "xr-view" ]]; then
  shift
  exec tests/support/with_xvfb.sh --size 640x480x24 scripts/bench_xr_view.sh build/src/cli/teleop "$@"
fi
out=$(mktemp -d /tmp/teleop-bench-XXXXXX)
trap 'rm -rf "$out"' EXIT
status=0
if [[ "${1:-}" == "upsampling" ]]; then
  build/bench/teleop-bench-upsampling --targets
  exit $?
fi
if [[ "${1:-}" == "robot-link" ]]; then
  seconds=10 flags=()
  for a in "${@:2}"; do
    if [[ "$a" == --* ]]; then flags+=("$a"); else seconds=$a; fi
  done
  build/bench/teleop-bench-robot-link --teleop build/src/cli/teleop --seconds "$seconds" "${flags[@]}"
  exit $?
fi
if [[ "${1:-}" == "review-ui" ]]; then
  tests/support/with_xvfb.sh build/bench/teleop-bench-review-ui "${@:2}"
  exit $?
fi
if [[ "${1:-}" == "catalog" ]]; then
  build/bench/teleop-bench-catalog "${2:-10000}" --targets
  exit $?
fi
if [[ "${1:-}" == "review-open" ]]; then
  build/bench/teleop-bench-review-open --seconds "${2:-10}" --targets
  exit $?
fi
if [[ "${1:-}" == "upload-sync" ]]; then
  [[ -d tests/upload/node/node_modules/s3rver ]] ||
    { echo "bench: tests/upload/node/node_modules/s3rver missing: scripts/setup.sh installs it" >&2; exit 1; }
  s3dir=$(mktemp -d /tmp/teleop-bench-s3-XXXXXX)
  mkfifo "$s3dir/in"
  nice -n 19 node --openssl-legacy-provider tests/upload/node/server.mjs "$s3dir/data" bench <"$s3dir/in" >"$s3dir/port" &
  s3pid=$!
  exec 9>"$s3dir/in" # the server stops when this closes
  trap 'exec 9>&-; kill $s3pid 2>/dev/null; wait $s3pid 2>/dev/null; rm -rf "$out" "$s3dir"' EXIT
  port=
  for _ in $(seq 100); do
    port=$(head -n 1 "$s3dir/port")
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  [[ -n "$port" ]] || { echo "bench: s3rver did not start" >&2; exit 1; }
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 \
    build/bench/teleop-bench-upload-sync --url s3://bench/sync --endpoint "http://127.0.0.1:$port" \
    --seconds "${2:-20}" --out "$out/upload" --targets
  exit $?
fi
if [[ "${1:-}" == "recording" ]]; then
  build/bench/teleop-bench-session --cameras 3 --pattern --seconds "${2:-60}" --out "$out" --targets || status=$?
else
  build/bench/teleop-bench-session "${1:-20}" "$out"
fi
ep=$(ls "$out"/*.db | head -n 1)
build/src/cli/teleop check "$ep"
exit $status
