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
  p2p: { listen: { address: 127.0.0.1, port: 15005 } }
proxy:
  listen: { address: 127.0.0.1, port: 15000 }
  dataDir: $WORK/proxy
  origins: [ "http://127.0.0.1:15002" ]
  buildIndex: http://127.0.0.1:15004
YAML

run() { # run LOG CONFIG COMPONENT
  "${SHOAL[@]}" "$3" --config "$2" >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
}
run build-index "$WORK/shoal.yaml" build-index
run origin "$WORK/shoal.yaml" origin
run proxy "$WORK/shoal.yaml" proxy
run tracker-0 "$WORK/tracker-0.yaml" tracker
run tracker-1 "$WORK/tracker-1.yaml" tracker
run agent-0 "$WORK/agent-0.yaml" agent
run agent-1 "$WORK/agent-1.yaml" agent
for port in 15004 15002 15000 15003 15013 16000 16010; do
  wait_http "http://127.0.0.1:$port/readiness" || { tail -n 20 "$WORK"/*.log >&2; exit 1; }
done
echo "trackers-redis: redis on :$REDIS_PORT; trackers on :15003 and :15013; agent-0 uses the first, agent-1 the second"

metric() { # metric URL SERIES: one series' value (0 when absent)
  curl -fsS "$1/metrics" | awk -v s="$2" 'index($0, s " ") == 1 { v = $NF } END { print v + 0 }'
}

make_image "$WORK/src" v1 amd64
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
(( from_agent > 0 )) || { echo "trackers-redis: agent-1 was never handed agent-0" >&2; exit 1; }
keys=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'example:*' | wc -l)
echo "trackers-redis: $keys swarm keys in Redis"
(( keys > 0 )) || exit 1
echo "trackers-redis: OK"
