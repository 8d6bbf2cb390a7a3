#!/bin/bash
# `teleop upload` end to end against a local s3rver on loopback: an episode
# and a LeRobot dataset uploaded and read back byte-identical (curl's own
# SigV4 GET), live/invalid episodes and invalid datasets refused, wrong
# credentials and a 0644 credentials file refused in one line, TLS verified
# (a private CA trusted only through --ca-bundle), the secret and the
# session token never in any output, usage errors.
#   upload_cli.sh TELEOP NODE SERVER_MJS LEROBOT_FIXTURE EPISODE_FIXTURE
set -u
teleop=$1 node=$2 server=$3 fixture=$4 episode=$5
dir=$(mktemp -d "${TMPDIR:-/tmp}/teleop-upload-cli-XXXXXX")
server_pid=
cleanup() {
  exec 3>&- 2>/dev/null
  if [ -n "$server_pid" ]; then
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill "$server_pid" 2>/dev/null
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir "$dir/s3"
mkfifo "$dir/stdin"
"$node" --openssl-legacy-provider "$server" "$dir/s3" bucket < "$dir/stdin" > "$dir/port" &
server_pid=$!
exec 3>"$dir/stdin" # the server runs until this closes
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
port=$(head -1 "$dir/port")
[ -n "$port" ] || { echo "s3rver did not start (scripts/setup_node.sh installs it)"; exit 1; }
endpoint=http://127.0.0.1:$port
echo "s3rver on $endpoint"

unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_CA_BUNDLE
export AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
# s3rver checks the key id, not the signature: a secret of our own is accepted
secret=TopSecret-9f2c51e0 token=SessionToken-77ab3d
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token
export TELEOP_LOG=debug
fails=0
all_output=$dir/all-output
: > "$all_output"
run() { # run CODE NEEDLE -- ARGS... ; output in $out
  want=$1 needle=$2; shift 3
  out=$("$teleop" "$@" 2>&1); got=$?
  printf '%s\n' "$out" >> "$all_output"
  if [ "$got" != "$want" ]; then echo "FAIL: teleop $* exited $got, expected $want:"; echo "$out"; fails=$((fails + 1));
  elif ! printf '%s\n' "$out" | grep -qF -- "$needle"; then echo "FAIL: teleop $*: no \"$needle\" in:"; echo "$out"; fails=$((fails + 1));
  else echo "ok: teleop $* -> $got"; fi
}
get_back() { # get_back KEY FILE: GET with curl's own SigV4 and compare
  curl -sf --aws-sigv4 aws:amz:us-east-1:s3 -u "S3RVER:$secret" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    -o "$dir/back" "$endpoint/bucket/$1" || { echo "FAIL: GET $1"; fails=$((fails + 1)); return; }
  if cmp -s "$dir/back" "$2"; then echo "ok: s3://bucket/$1 is byte-identical to $2"
  else echo "FAIL: s3://bucket/$1 differs from $2"; fails=$((fails + 1)); fi
}

cp "$episode" "$dir/ep-0001.db"
run 0 "s3://bucket/runs/station-a/ep-0001.db: " -- upload "$dir/ep-0001.db" s3://bucket/runs/station-a/ --endpoint "$endpoint"
printf '%s\n' "$out" | grep -qF "verified (ETag " || { echo "FAIL: no verified line"; fails=$((fails + 1)); }
get_back runs/station-a/ep-0001.db "$dir/ep-0001.db"
# its bucket catalog entry (written after the verified upload), listed by
# teleop catalog s3:// with the episode's SHA-256
run 0 "s3://bucket/runs/station-b/ep-0001.db: " -- upload "$dir/ep-0001.db" s3://bucket/runs/station-b --endpoint "$endpoint" --station lab-7 --quiet
run 0 '"station":"lab-7"' -- catalog s3://bucket/runs/station-b --endpoint "$endpoint" --json
sha=$(sha256sum "$dir/ep-0001.db" | cut -d' ' -f1)
printf '%s\n' "$out" | grep -qF "$sha" || { echo "FAIL: the catalog entry has not the episode's SHA-256 $sha: $out"; fails=$((fails + 1)); }
run 0 "verified (ETag " -- upload "$dir/ep-0001.db" s3://bucket/runs/station-c --endpoint "$endpoint" --no-catalog --quiet
entries=$("$teleop" catalog s3://bucket/runs/station-c --endpoint "$endpoint" --json 2>>"$all_output")
[ $? = 0 ] && [ -z "$entries" ] || { echo "FAIL: --no-catalog wrote an entry: $entries"; fails=$((fails + 1)); }
printf '%s\n' "$entries" >> "$all_output"

head -c 100000 /dev/urandom > "$dir/bad.db"
run 1 "refused: teleop check: $dir/bad.db" -- upload "$dir/bad.db" s3://bucket/runs --endpoint "$endpoint" --quiet
cp "$episode" "$dir/live.db"
exec 9<"$dir/live.db"
flock -x 9 # as a recording writer holds its episode
run 1 "$dir/live.db is being recorded" -- upload "$dir/live.db" s3://bucket/runs --endpoint "$endpoint" --quiet
flock -u 9
exec 9<&-
curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 aws:amz:us-east-1:s3 -u "S3RVER:$secret" \
  -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
  -I "$endpoint/bucket/runs/live.db" > "$dir/code"
if [ "$(cat "$dir/code")" = 404 ]; then echo "ok: the refused episodes were not uploaded"
else echo "FAIL: HEAD runs/live.db gave $(cat "$dir/code")"; fails=$((fails + 1)); fi

"$fixture" "$dir/ds" 3.0 || exit 1
run 0 "s3://bucket/datasets/pick/: dataset $dir/ds" -- upload "$dir/ds" s3://bucket/datasets/pick --endpoint "$endpoint" --part-size 5 --parallel 2
get_back datasets/pick/meta/info.json "$dir/ds/meta/info.json"
get_back datasets/pick/data/chunk-000/file-000.parquet "$dir/ds/data/chunk-000/file-000.parquet"
rm "$dir/ds/data/chunk-000/file-000.parquet"
run 1 "refused, not a valid dataset" -- upload "$dir/ds" s3://bucket/datasets/broken --endpoint "$endpoint"

# wrong credentials: one line naming the endpoint and the S3 error code
out=$(AWS_ACCESS_KEY_ID=WRONGKEY TELEOP_LOG=error "$teleop" upload "$dir/ep-0001.db" s3://bucket/runs --endpoint "$endpoint" --quiet 2>&1); got=$?
printf '%s\n' "$out" >> "$all_output"
want="teleop upload: s3 $endpoint: PUT bucket/runs/ep-0001.db: InvalidAccessKeyId (403)"
if [ "$got" = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && printf '%s\n' "$out" | grep -qF "$want"; then
  echo "ok: wrong credentials -> $out"
else echo "FAIL: wrong credentials gave ($got): $out"; fails=$((fails + 1)); fi

# a credentials file others can read is refused, in one line naming it and its mode
printf '[default]\naws_access_key_id = S3RVER\naws_secret_access_key = %s\n' "$secret" > "$dir/credentials"
chmod 644 "$dir/credentials"
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN AWS_SHARED_CREDENTIALS_FILE="$dir/credentials" \
  "$teleop" upload "$dir/ep-0001.db" s3://bucket/runs/f --endpoint "$endpoint" 2>&1); got=$?
printf '%s\n' "$out" >> "$all_output"
if [ "$got" = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && printf '%s\n' "$out" | grep -qF "$dir/credentials has mode 0644"; then
  echo "ok: mode 0644 -> $out"
else echo "FAIL: a 0644 credentials file gave ($got): $out"; fails=$((fails + 1)); fi
chmod 600 "$dir/credentials"
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN AWS_SHARED_CREDENTIALS_FILE="$dir/credentials" \
  "$teleop" upload "$dir/ep-0001.db" s3://bucket/runs/f --endpoint "$endpoint" 2>&1); got=$?
printf '%s\n' "$out" >> "$all_output"
if [ "$got" = 0 ]; then echo "ok: mode 0600 accepted"; else echo "FAIL: a 0600 credentials file gave ($got): $out"; fails=$((fails + 1)); fi

# TLS: always verified; a private CA is trusted only through --ca-bundle
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=teleop-test-ca -keyout "$dir/ca.key" -out "$dir/ca.pem" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$dir/tls.key" -out "$dir/tls.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' > "$dir/san.ext"
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
  -extfile "$dir/san.ext" -out "$dir/tls.pem" >/dev/null 2>&1 || { echo "FAIL: openssl could not make the test CA"; fails=$((fails + 1)); }
mkdir "$dir/s3tls"
mkfifo "$dir/stdin-tls"
S3RVER_TLS_KEY=$dir/tls.key S3RVER_TLS_CERT=$dir/tls.pem \
  "$node" --openssl-legacy-provider "$server" "$dir/s3tls" bucket < "$dir/stdin-tls" > "$dir/port-tls" &
tls_pid=$!
exec 4>"$dir/stdin-tls"
for _ in $(seq 100); do [ -s "$dir/port-tls" ] && break; sleep 0.1; done
tls_endpoint=https://127.0.0.1:$(head -1 "$dir/port-tls")
run 1 "SSL certificate problem" -- upload "$dir/ep-0001.db" s3://bucket/runs --endpoint "$tls_endpoint" --quiet
run 0 "s3://bucket/runs/ep-0001.db: " -- upload "$dir/ep-0001.db" s3://bucket/runs --endpoint "$tls_endpoint" --ca-bundle "$dir/ca.pem"
run 1 "CA bundle $dir/none.pem" -- upload "$dir/ep-0001.db" s3://bucket/runs --endpoint "$tls_endpoint" --ca-bundle "$dir/none.pem"
exec 4>&-
wait "$tls_pid"

run 2 "give the episodes" -- upload s3://bucket/x
run 2 "--part-size '4'" -- upload "$dir/ep-0001.db" s3://bucket/x --part-size 4
run 2 "not an s3://bucket/prefix URL" -- upload "$dir/ep-0001.db" bucket/x
run 2 "give one dataset folder alone" -- upload "$dir/ds" "$dir/ep-0001.db" s3://bucket/x
run 0 "usage: teleop upload" -- upload --help

# secrets never printed nor logged (everything above ran with TELEOP_LOG=debug)
if grep -qF -e "$secret" -e "$token" "$all_output"; then
  echo "FAIL: a secret appears in the output:"; grep -nF -e "$secret" -e "$token" "$all_output"; fails=$((fails + 1))
else echo "ok: neither the secret nor the session token in $(wc -l < "$all_output") lines of output"; fi
[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
