#!/usr/bin/env bash
# Installs the independent parquet readers the export tests use (hyparquet,
# DuckDB, apache-arrow; exact versions in tests/export/node/package-lock.json)
# and the local S3-compatible server the upload tests start (s3rver;
# tests/upload/node/package-lock.json) with `npm ci`. Idempotent: does
# nothing for a folder whose node_modules was installed from the same lock
# file. Needs node and npm (Debian's nodejs/npm packages
# are installed when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "setup_node: node and npm are missing and not root; install nodejs and npm" >&2
    exit 1
  fi
  echo "setup_node: installing nodejs npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

npm_ci() {
  cd "$root/$1"
  local stamp=node_modules/.teleop-lock.sha256
  local want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  echo "setup_node: npm ci in $1" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want" > "$stamp"
}
npm_ci tests/export/node
npm_ci tests/upload/node
