#!/usr/bin/env bash
# The key tables of docs/configuration.md are the output of
# `teleop config --doc-keys` (so a new key cannot skip the docs), and
# `teleop config` prints a configuration that reads back into itself.
# Usage: config_doc_test.sh TELEOP_BINARY DOC EXAMPLE_CONFIG...
set -u
teleop=$1 doc=$2
shift 2
tmp=$(mktemp -d /tmp/teleop-cfgdoc-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

sed -n '/<!-- BEGIN GENERATED KEYS/,/<!-- END GENERATED KEYS/p' "$doc" | sed '1d;$d' >"$tmp/doc.md"
"$teleop" config --doc-keys >"$tmp/gen.md" || fail "teleop config --doc-keys failed"
[[ -s "$tmp/gen.md" ]] || fail "no generated key tables"
diff -u "$tmp/doc.md" "$tmp/gen.md" >"$tmp/diff" ||
  fail "docs/configuration.md differs from 'teleop config --doc-keys' (regenerate it):
$(cat "$tmp/diff")"

for cfg in "" "$@"; do
  args=()
  [[ -n $cfg ]] && args=(--config "$cfg")
  "$teleop" config "${args[@]}" >"$tmp/a.ini" 2>"$tmp/err" || fail "teleop config ${args[*]}: $(cat "$tmp/err")"
  "$teleop" config --config "$tmp/a.ini" >"$tmp/b.ini" 2>"$tmp/err" || fail "resolved config does not load: $(cat "$tmp/err")"
  cmp -s "$tmp/a.ini" "$tmp/b.ini" || fail "resolved config of '${cfg:-defaults}' does not round-trip: $(diff "$tmp/a.ini" "$tmp/b.ini")"
done
grep -qx 'duration = 20' "$tmp/a.ini" || fail "resolved config lacks the default duration"

# A bad file: one line, exit 1, as `teleop run` says it.
printf '[session]\nduration = 1e20\n' >"$tmp/bad.ini"
"$teleop" config --config "$tmp/bad.ini" >/dev/null 2>"$tmp/err"
[[ $? -eq 1 ]] || fail "bad config: exit status"
grep -qx "teleop config: $tmp/bad.ini:2: \[session\] duration: 1e+20 is out of range \[0.001, 86400\]" "$tmp/err" ||
  fail "bad config message: $(cat "$tmp/err")"

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "config docs and resolved config: ok"
