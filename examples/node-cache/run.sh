#!/usr/bin/env bash
# The node's cache: an agent whose cache may hold 3 MB (agent:eviction:capacity; swept every
# second here, every minute by default). It pulls demo/app:v1 and then demo/app:v2 (2 MB layers):
# past the high watermark the sweeper drops the least recently read blobs, v1's, and says so in
# /metrics; pulling v1 again fetches it again, byte-identical. Exits 0 when it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet curl skopeo awk

build_shoal

cat >"$WORK/shoal.yaml" <<YAML
buildIndex:
  listen: { address: 127.0.0.1, port: 15004 }
  dataDir: $WORK/build-index
origin:
  listen: { address: 127.0.0.1, port: 15002 }
  dataDir: $WORK/origin
  cluster: { replicas: 1 }
  p2p: { listen: { address: 127.0.0.1, port: 15005 } }
tracker:
  listen: { address: 127.0.0.1, port: 15003 }
  origins: [ "http://127.0.0.1:15002" ]
  replicas: 1
proxy:
  listen: { address: 127.0.0.1, port: 15000 }
  dataDir: $WORK/proxy
  origins: [ "http://127.0.0.1:15002" ]
  buildIndex: http://127.0.0.1:15004
agent:
  listen: { address: 127.0.0.1, port: 16000 }
  dataDir: $WORK/agent
  buildIndex: http://127.0.0.1:15004
  origins: [ "http://127.0.0.1:15002" ]
  replicas: 1
  tracker: http://127.0.0.1:15003
  p2p: { listen: { address: 127.0.0.1, port: 16001 } }
  eviction:
    capacity: 3000000        # bytes of blobs the node keeps
    highWatermark: 0.9       # sweep above 2.7 MB ...
    lowWatermark: 0.8        # ... down to 2.4 MB
    timeToIdle: "06:00:00"   # and whatever nobody read for 6 hours (the default)
    interval: "00:00:01"
YAML
for component in build-index origin tracker proxy agent; do
  start_component "$component" "$WORK/shoal.yaml" "$component"
done
wait_ready 15004 15002 15003 15000 16000
echo "node-cache: build-index, origin, tracker, proxy and an agent with a 3 MB cache are up"

declare -A LAYER CONFIG
for tag in v1 v2; do
  make_image "$WORK/src-$tag" "$tag" amd64 2000000
  skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src-$tag:$tag" "docker://127.0.0.1:15000/demo/app:$tag" >/dev/null
  LAYER[$tag]=$IMAGE_LAYER CONFIG[$tag]=$IMAGE_CONFIG
done
echo "node-cache: pushed demo/app:v1 and demo/app:v2"

cached() { [[ -f $WORK/agent/blobs/sha256/${1:0:2}/${1:2:2}/$1/data ]]; }
pull() { # pull TAG: pulls demo/app:TAG through the agent and compares its layer and config
  local out=$WORK/pulled-$1-$RANDOM blob
  skopeo --insecure-policy copy --src-tls-verify=false "docker://127.0.0.1:16000/demo/app:$1" "oci:$out:$1" >/dev/null
  for blob in "${LAYER[$1]}" "${CONFIG[$1]}"; do
    cmp "$WORK/src-$1/blobs/sha256/$blob" "$out/blobs/sha256/$blob"
  done
}

pull v1
sleep 1 # v1 is read before v2: eviction goes by last read
pull v2
echo "node-cache: pulled demo/app:v1, then demo/app:v2 (about 4 MB of layers for a 3 MB cache)"
for _ in $(seq 1 50); do
  cached "${LAYER[v1]}" || break
  sleep 0.2
done
evicted=$(metric http://127.0.0.1:16000 'shoal_agent_evictions_total{reason="capacity"}')
echo "node-cache: the sweeper evicted $evicted blob(s) for capacity"
if cached "${LAYER[v1]}" || ! cached "${LAYER[v2]}" || (( evicted < 1 )); then
  echo "node-cache: expected v1's layer evicted and v2's kept" >&2
  exit 1
fi

pull v1
cached "${LAYER[v1]}" || { echo "node-cache: v1's layer was not cached again" >&2; exit 1; }
echo "node-cache: demo/app:v1 pulled again after its eviction, byte-identical"
echo "node-cache: OK"
