#!/bin/sh
# `teleop export --check` from the command line: exit codes 0 (valid),
# 1 (invalid, one line per problem on stdout), 2 (usage, nothing at the path); HDF5 in export-check-hdf5.
#   check_cli.sh TELEOP LEROBOT_FIXTURE
set -u
teleop=$1 fixture=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/teleop-check-cli-XXXXXX")
trap 'rm -rf "$dir"' EXIT
fails=0
expect() { # expect CODE NEEDLE -- ARGS...
  want=$1 needle=$2; shift 3
  out=$("$teleop" "$@" 2>&1); got=$?
  if [ "$got" != "$want" ]; then echo "FAIL: teleop $* exited $got, expected $want:"; echo "$out"; fails=$((fails + 1));
  elif ! printf '%s\n' "$out" | grep -qF -- "$needle"; then echo "FAIL: teleop $*: no \"$needle\" in:"; echo "$out"; fails=$((fails + 1));
  else echo "ok: teleop $* -> $got"; fi
}
"$fixture" "$dir/v30" 3.0 || exit 1
"$fixture" "$dir/v21" 2.1 || exit 1
expect 0 "LeRobot v3.0, 2 episodes, 50 frames, 2 tasks, 1 video files: valid" -- export --check "$dir/v30"
expect 0 "LeRobot v2.1, 2 episodes, 50 frames, 2 tasks, 2 video files: valid" -- export --check="$dir/v21"
rm "$dir/v21/videos/chunk-000/observation.images.front/episode_000000.mp4"
expect 1 "$dir/v21/videos/chunk-000/observation.images.front/episode_000000.mp4: missing video" -- export --check "$dir/v21"
expect 2 "--check needs a DATASET folder" -- export --check
expect 2 "$dir/episodes.hdf5: No such file or directory" -- export --check "$dir/episodes.hdf5"
echo "not hdf5" > "$dir/text.hdf5"
expect 1 "$dir/text.hdf5: not an HDF5 file" -- export --check "$dir/text.hdf5"
expect 2 "No such file or directory" -- export --check "$dir/nothing"
expect 0 "usage: teleop export --check DATASET" -- export --check --help
[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
