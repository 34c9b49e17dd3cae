#!/usr/bin/env bash
# Write-back: an origin whose store of record is a filesystem directory (which other tools,
# e.g. a backup job, can share). Pushes a blob, stops the origin right after the acknowledgement,
# shows the blob in the backend directory (written back from the persisted queue), then serves it
# from a fresh origin with an empty cache. Exits 0 when it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet curl sha256sum head

PORT=15002
build_shoal
mkdir -p "$WORK/backend"
write_config() { # write_config DATA_DIR
  cat >"$WORK/origin.yaml" <<YAML
origin:
  listen: { address: 127.0.0.1, port: $PORT }
  dataDir: $1
  backend: { type: filesystem, root: $WORK/backend }
YAML
}
start_origin() {
  "${SHOAL[@]}" origin --config "$WORK/origin.yaml" >>"$WORK/origin.log" 2>&1 &
  ORIGIN_PID=$!
  PIDS+=("$ORIGIN_PID")
  wait_http "http://127.0.0.1:$PORT/readiness" || { cat "$WORK/origin.log" >&2; return 1; }
}
stop_origin() {
  kill -TERM "$ORIGIN_PID"
  wait "$ORIGIN_PID" || true
}

write_config "$WORK/cache-1"
start_origin
echo "write-back: origin is up, backend at $WORK/backend"

head -c 3000000 /dev/urandom >"$WORK/blob"
hex=$(sha256_of "$WORK/blob")
curl -fsS -X PUT --data-binary "@$WORK/blob" -H 'Content-Type: application/octet-stream' \
  "http://127.0.0.1:$PORT/v1/blobs/sha256:$hex?namespace=demo/app" -o /dev/null
echo "write-back: pushed sha256:$hex (acknowledged once cached and its write-back queued)"
curl -fsS "http://127.0.0.1:$PORT/v1/writeback"; echo

# The write-back runs after the acknowledgement; wait (bounded) for the queue to drain.
for _ in $(seq 1 100); do
  [[ $(curl -fsS "http://127.0.0.1:$PORT/v1/writeback") == *'"depth":0'* ]] && break
  sleep 0.1
done
stop_origin
echo "write-back: origin stopped"

stored="$WORK/backend/blobs/sha256/$hex"
[[ -f $stored ]] || { echo "write-back: $stored is missing" >&2; ls -R "$WORK/backend" >&2; exit 1; }
cmp "$WORK/blob" "$stored"
echo "write-back: the backend directory holds the blob: ${stored#"$WORK/"}"

# A new origin with an empty cache serves it from the shared backend.
write_config "$WORK/cache-2"
start_origin
curl -fsS "http://127.0.0.1:$PORT/v1/blobs/sha256:$hex?namespace=demo/app" -o "$WORK/fetched"
cmp "$WORK/blob" "$WORK/fetched"
echo "write-back: a fresh origin fetched it back from the backend, bytes identical"
echo "write-back: OK"
