#!/usr/bin/env bash
# Installs teleop's build and test dependencies from Debian 12 packages.
# Idempotent: prints nothing and installs nothing when all are present.
# Runs apt-get as root, or through sudo. Then scripts/setup_node.sh installs
# the npm parquet readers the export tests use (npm ci, skipped when current).
set -euo pipefail

packages=(
  gcc pkg-config meson ninja-build
  libmujoco-dev libegl-dev libgl-dev libegl1 libegl-mesa0 libgl1-mesa-dri
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libsqlite3-dev sqlite3 libexpat1-dev libssl-dev
  libuvc-dev libusb-1.0-0-dev libopenxr-dev libopenxr-loader1 openxr-layer-corevalidation libglfw3-dev libxrandr-dev
  libcurl4-openssl-dev
  libcmocka-dev python3 python3-numpy libsnappy-dev zlib1g-dev libzstd-dev libcjson-dev
  libhdf5-dev hdf5-tools python3-h5py python3-av libjpeg-dev python3-yaml
  libfreetype-dev libfontconfig-dev fonts-noto-cjk xvfb xauth xdotool libpng-dev
  cyclonedds-dev cyclonedds-tools
  rt-tests
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
node_readers() { "$(dirname "$0")/setup_node.sh"; }
[[ ${#missing[@]} -eq 0 ]] && { node_readers; exit 0; }

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup: missing packages (${missing[*]}) and not root; run as root or install sudo" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
node_readers
