#!/usr/bin/env bash
# A tracker outage: build-index, origin, tracker, proxy and two agents as separate processes. With
# the tracker stopped, a pull through an agent still works: the agent takes the blobs from their
# owning origin over HTTP (agent:originFallback, the default). With the tracker back, the next pull
# goes through the swarm again, the second agent taking the layer from the first. Each agent's
# /metrics says which way the bytes came. Exits 0 when it works.
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
  # a slow origin (4 MB/s to the swarm): what the second agent gets, it gets from the first
  p2p: { listen: { address: 127.0.0.1, port: 15005 }, egressLimit: 4000000 }
tracker:
  listen: { address: 127.0.0.1, port: 15003 }
  origins: [ "http://127.0.0.1:15002" ]
  replicas: 1
proxy:
  listen: { address: 127.0.0.1, port: 15000 }
  dataDir: $WORK/proxy
  origins: [ "http://127.0.0.1:15002" ]
  buildIndex: http://127.0.0.1:15004
YAML
for i in 0 1; do
  cat >"$WORK/agent-$i.yaml" <<YAML
agent:
  listen: { address: 127.0.0.1, port: 160${i}0 }
  dataDir: $WORK/agent-$i
  buildIndex: http://127.0.0.1:15004
  origins: [ "http://127.0.0.1:15002" ]
  replicas: 1
  tracker: http://127.0.0.1:15003
  upstreamTimeout: 00:00:05
  p2p: { listen: { address: 127.0.0.1, port: 160${i}1 } }
YAML
done

start() { # start NAME CONFIG COMPONENT: start_component, remembering the PID in PID_<NAME>
  start_component "$@"
  printf -v "PID_${1//-/_}" '%s' "$LAST_PID"
}
start build-index "$WORK/shoal.yaml" build-index
start origin "$WORK/shoal.yaml" origin
start tracker "$WORK/shoal.yaml" tracker
start proxy "$WORK/shoal.yaml" proxy
start agent-0 "$WORK/agent-0.yaml" agent
start agent-1 "$WORK/agent-1.yaml" agent
wait_ready 15004 15002 15003 15000 16000 16010
echo "tracker-outage: build-index, origin, tracker, proxy and two agents are up"

pull() { # pull PORT TAG: pulls demo/app:TAG through the agent on PORT and compares the layer and config
  local out=$WORK/pulled-$1-$2 blob
  skopeo --insecure-policy copy --src-tls-verify=false "docker://127.0.0.1:$1/demo/app:$2" "oci:$out:$2" >/dev/null
  for blob in "$IMAGE_LAYER" "$IMAGE_CONFIG"; do
    cmp "$WORK/src-$2/blobs/sha256/$blob" "$out/blobs/sha256/$blob"
  done
}

make_image "$WORK/src-v1" v1 amd64
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src-v1:v1" docker://127.0.0.1:15000/demo/app:v1 >/dev/null
V1_LAYER=$IMAGE_LAYER V1_CONFIG=$IMAGE_CONFIG
make_image "$WORK/src-v2" v2 amd64 8000000
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src-v2:v2" docker://127.0.0.1:15000/demo/app:v2 >/dev/null
V2_LAYER=$IMAGE_LAYER V2_CONFIG=$IMAGE_CONFIG
echo "tracker-outage: pushed demo/app:v1 and demo/app:v2"

# 1. The tracker goes away; agent-0 pulls v1 from the origin over HTTP.
kill "$PID_tracker"; wait "$PID_tracker" 2>/dev/null || true
IMAGE_LAYER=$V1_LAYER IMAGE_CONFIG=$V1_CONFIG
pull 16000 v1
swarm_bytes=$(metric http://127.0.0.1:16000 'shoal_p2p_piece_bytes_received_total{source="origin"}')
blobs=$(metric http://127.0.0.1:16000 shoal_agent_blobs_downloaded_total)
echo "tracker-outage: tracker stopped; agent-0 pulled demo/app:v1 ($blobs blobs, $swarm_bytes piece bytes through the swarm)"
(( swarm_bytes == 0 && blobs >= 2 )) || { echo "tracker-outage: expected the blobs over HTTP, not the swarm" >&2; exit 1; }
grep -q "The tracker failed" "$WORK/agent-0.log" || { echo "tracker-outage: agent-0 did not log the tracker failure" >&2; exit 1; }

# 2. The tracker is back; after the agents' 10 s pause, v2 goes through the swarm: agent-0 from
#    the origin, agent-1 the layer from agent-0 (which seeds what it pulled).
start tracker "$WORK/shoal.yaml" tracker
wait_ready 15003
sleep 10
IMAGE_LAYER=$V2_LAYER IMAGE_CONFIG=$V2_CONFIG
pull 16000 v2
pull 16010 v2
from_origin=$(metric http://127.0.0.1:16000 'shoal_p2p_piece_bytes_received_total{source="origin"}')
from_agent=$(metric http://127.0.0.1:16010 'shoal_p2p_piece_bytes_received_total{source="agent"}')
from_origin_1=$(metric http://127.0.0.1:16010 'shoal_p2p_piece_bytes_received_total{source="origin"}')
layer_bytes=$(stat -c %s "$WORK/src-v2/blobs/sha256/$V2_LAYER")
echo "tracker-outage: tracker back; demo/app:v2 through the swarm: agent-0 $from_origin piece bytes from the origin, agent-1 $from_agent from agent-0"
(( from_origin >= layer_bytes && from_agent * 2 > layer_bytes && from_agent + from_origin_1 >= layer_bytes )) || { echo "tracker-outage: v2 did not go through the swarm" >&2; exit 1; }
echo "tracker-outage: OK"
