#!/usr/bin/env bash
# The main job: install dependencies, build, and run the embedded default
# session (simulated humanoid driven by the bundled operator motion, head
# camera rendered headless) that records one episode; then show and verify it.
# Extra arguments go to `teleop run` (e.g. --duration 5 --task "pick cube").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ ! -d build ]]; then
  meson setup build --buildtype=release >/dev/null
fi
ninja -C build >/dev/null
out=$(build/src/cli/teleop run "$@")
echo "$out"
episode=$(sed -n 's/^episode: //p' <<<"$out" | tail -n 1)
if [[ -n "$episode" ]]; then
  build/src/cli/teleop info "$episode"
  build/src/cli/teleop check "$episode"
fi
