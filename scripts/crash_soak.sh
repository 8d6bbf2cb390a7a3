#!/usr/bin/env bash
# Crash soak: kills `teleop run` with SIGKILL at random moments N times (default
# 200), checks every episode left behind as it is and after recovery, and
# prints the data lost at each kill (max, median). Extra options go to
# tests/station/crash_test.py (--min/--max kill window in s, --seed, --keep DIR).
# Usage: scripts/crash_soak.sh [N] [options]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
shift || true
[[ -d build ]] || meson setup build >/dev/null
ninja -C build >/dev/null
# No operator console (teleop run opens one when a display is present): the
# soak kills hundreds of sessions.
unset DISPLAY WAYLAND_DISPLAY
exec python3 tests/station/crash_test.py build/src/cli/teleop "$n" --max 4.5 --duration 6 "$@"
