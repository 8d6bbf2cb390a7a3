#!/usr/bin/env bash
# Regenerates the key tables of docs/configuration.md from the key tables in
# the code (`teleop config --doc-keys`), between the GENERATED KEYS markers.
# The config_doc test fails until this is run after a key changes.
#   scripts/config_doc.sh [TELEOP_BINARY]   (default build/src/cli/teleop)
set -euo pipefail
cd "$(dirname "$0")/.."
teleop=${1:-build/src/cli/teleop}
doc=docs/configuration.md
gen=$(mktemp)
trap 'rm -f "$gen"' EXIT
"$teleop" config --doc-keys >"$gen"
awk -v gen="$gen" '
  /<!-- BEGIN GENERATED KEYS/ { print; while ((getline line < gen) > 0) print line; skip = 1; next }
  /<!-- END GENERATED KEYS/ { skip = 0 }
  !skip { print }
' "$doc" >"$doc.new"
mv "$doc.new" "$doc"
echo "config_doc: $doc regenerated"
