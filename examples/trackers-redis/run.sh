#!/usr/bin/env bash
# Two trackers sharing one Redis: redis-server, build-index, origin, proxy, two trackers (:15003 and
# :15013, both on the same Redis) and two agents, each agent announcing to a different tracker.
# agent-0 pulls an image first; agent-1, whose tracker never heard from agent-0 directly, is
# handed agent-0 through Redis and takes the layer from it. Exits 0 when it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet curl skopeo awk redis-server redis-cli

build_shoal
REDIS_PORT=16379
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
PIDS+=($!)

for i in 0 1; do
  cat >"$WORK/tracker-$i.yaml" <<YAML
tracker:
  listen: { address: 127.0.0.1, port: 150${i}3 }
  origins: [ "http://127.0.0.1:15002" ]
  replicas: 1
  redis: { configuration: "127.0.0.1:$REDIS_PORT", keyPrefix: "example:" }
YAML
  cat >"$WORK/agent-$i.yaml" <<YAML
agent:
  listen: { address: 127.0.0.1, port: 160${i}0 }
  dataDir: $WORK/agent-$i
  buildIndex: http://127.0.0.1:15004
  origins: [ "http://127.0.0.1:15002" ]
  replicas: 1
  tracker: http://127.0.0.1:150${i}3
  p2p: { listen: { address: 127.0.0.1, port: 160${i}1 } }
YAML
done
cat >"$WORK/shoal.yaml" <<YAML
buildIndex:
  listen: { address: 127.0.0.1, port: 15004 }
  dataDir: $WORK/build-index
origin:
  listen: { address: 127.0.0.1, port: 15002 }
  dataDir: $WORK/origin
  cluster: { replicas: 1 }
  # a slow origin (4 MB/s to the swarm): what the second agent gets, it gets from the first
  p2p: { listen: { address: 127.0.0.1, port: 15005 }, egressLimit: 4000000 }
proxy:
  listen: { address: 127.0.0.1, port: 15000 }
  dataDir: $WORK/proxy
  origins: [ "http://127.0.0.1:15002" ]
  buildIndex: http://127.0.0.1:15004
YAML

start_component build-index "$WORK/shoal.yaml" build-index
start_component origin "$WORK/shoal.yaml" origin
start_component proxy "$WORK/shoal.yaml" proxy
for i in 0 1; do
  start_component "tracker-$i" "$WORK/tracker-$i.yaml" tracker
  start_component "agent-$i" "$WORK/agent-$i.yaml" agent
done
wait_ready 15004 15002 15000 15003 15013 16000 16010
echo "trackers-redis: redis on :$REDIS_PORT; trackers on :15003 and :15013; agent-0 uses the first, agent-1 the second"


make_image "$WORK/src" v1 amd64 8000000
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src:v1" docker://127.0.0.1:15000/demo/app:v1 >/dev/null
for port in 16000 16010; do
  skopeo --insecure-policy copy --src-tls-verify=false "docker://127.0.0.1:$port/demo/app:v1" "oci:$WORK/pulled-$port:v1" >/dev/null
  for blob in "$IMAGE_LAYER" "$IMAGE_CONFIG"; do
    cmp "$WORK/src/blobs/sha256/$blob" "$WORK/pulled-$port/blobs/sha256/$blob"
  done
  echo "trackers-redis: agent on :$port pulled demo/app:v1, blobs byte-identical"
done

layer_bytes=$(stat -c %s "$WORK/src/blobs/sha256/$IMAGE_LAYER")
from_agent=$(metric http://127.0.0.1:16010 'shoal_p2p_piece_bytes_received_total{source="agent"}')
echo "trackers-redis: agent-1 received $from_agent piece bytes from agent-0 (the layer has $layer_bytes)"
(( from_agent * 2 > layer_bytes )) || { echo "trackers-redis: agent-1 took less than half the layer from agent-0" >&2; exit 1; }
keys=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'example:*' | wc -l)
echo "trackers-redis: $keys swarm keys in Redis"
(( keys > 0 )) || exit 1
echo "trackers-redis: OK"
