#!/usr/bin/env bash
# Shoal in front of a registry: a registry (CNCF distribution, the registry inside Harbor) with
# htpasswd basic authentication stays the place users push to; Shoal's origin fetches blobs and
# manifests from it on a miss and build-index resolves its tags, so nodes pull through their
# agent without anything ever being pushed to Shoal. Pushes an image straight to the registry with
# skopeo, pulls it through two agents at once (peer-to-peer via the tracker), checks the bytes,
# lists the tags through an agent. The origin reads the registry at 4 MiB/s (as across a WAN), so
# the 16 MiB layer is cold for seconds: the origin answers its metainfo "202 Accepted, ask again"
# meanwhile, and the agents wait for it and then share it peer to peer instead of each pulling it
# whole from the origin. Exits 0 when it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet curl skopeo docker-registry htpasswd sha256sum

REGISTRY=127.0.0.1:5000
REGISTRY_USER=shoal
REGISTRY_PASSWORD=example-registry-pass
build_shoal

# 1. The registry, with bcrypt htpasswd authentication and its storage under $WORK.
htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" >"$WORK/htpasswd"
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $WORK/registry } }
http: { addr: $REGISTRY }
auth:
  htpasswd: { realm: example-registry, path: $WORK/htpasswd }
YAML
OTEL_TRACES_EXPORTER=none docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do
  # 401 means it is up (and wants credentials).
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/" || true) == 401 ]] && break
  sleep 0.5
done
curl -fsS -o /dev/null -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "http://$REGISTRY/v2/" || { cat "$WORK/registry.log" >&2; exit 1; }
echo "registry: up at http://$REGISTRY (basic auth)"

# 2. A user pushes to the registry, not to Shoal.
make_image "$WORK/src" v1 amd64 $((16 * 1024 * 1024))
skopeo --insecure-policy copy --dest-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" --dest-tls-verify=false \
  "oci:$WORK/src:v1" "docker://$REGISTRY/demo/app:v1"
echo "registry: pushed demo/app:v1 (manifest sha256:$IMAGE_MANIFEST)"

# 3. Shoal, on the ports of `shoal dev`: build-index and the origin both route every namespace to
#    the registry; a tracker; two agents.
cat >"$WORK/shoal.yaml" <<YAML
buildIndex:
  listen: { address: 127.0.0.1, port: 15004 }
  dataDir: $WORK/build-index
  backends:
    - namespace: ".*"
      backend:
        type: registry
        registry: { address: "http://$REGISTRY", username: $REGISTRY_USER, password: $REGISTRY_PASSWORD }
origin:
  listen: { address: 127.0.0.1, port: 15002 }
  dataDir: $WORK/origin
  backends:
    - namespace: ".*"
      backend:
        type: registry
        registry: { address: "http://$REGISTRY", username: $REGISTRY_USER, password: $REGISTRY_PASSWORD }
        bandwidth: { ingressBytesPerSecond: 4194304 }
  cluster: { replicas: 1 }
  p2p: { listen: { address: 127.0.0.1, port: 15005 } }
tracker:
  listen: { address: 127.0.0.1, port: 15003 }
  origins: [ "http://127.0.0.1:15002" ]
  replicas: 1
agent:
  listen: { address: 127.0.0.1, port: 16000 }
  dataDir: $WORK/agent-0
  buildIndex: http://127.0.0.1:15004
  origins: [ "http://127.0.0.1:15002" ]
  replicas: 1
  tracker: http://127.0.0.1:15003
  p2p: { listen: { address: 127.0.0.1, port: 16001 } }
YAML
start() { # start NAME COMPONENT [OVERRIDES...]
  local name=$1; shift
  "${SHOAL[@]}" "$@" --config "$WORK/shoal.yaml" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}
start build-index build-index
start origin origin
start tracker tracker
start agent-0 agent
start agent-1 agent --agent:listen:port=16010 --agent:dataDir="$WORK/agent-1" --agent:p2p:listen:port=16011
wait_http http://127.0.0.1:15004/readiness || { cat "$WORK/build-index.log" >&2; exit 1; }
wait_http http://127.0.0.1:15002/readiness || { cat "$WORK/origin.log" >&2; exit 1; }
wait_http http://127.0.0.1:15003/readiness || { cat "$WORK/tracker.log" >&2; exit 1; }
wait_http http://127.0.0.1:16000/readiness || { cat "$WORK/agent-0.log" >&2; exit 1; }
wait_http http://127.0.0.1:16010/readiness || { cat "$WORK/agent-1.log" >&2; exit 1; }
echo "shoal: build-index, origin, tracker and two agents are up, all in front of the registry"

# 4. Two nodes pull through their agents at once: the tag comes from the registry through
#    build-index, the manifest and blobs from the registry through the origin (then peer to peer).
pulls=()
for port in 16000 16010; do
  skopeo --insecure-policy copy --src-tls-verify=false "docker://127.0.0.1:$port/demo/app:v1" "oci:$WORK/pulled-$port:v1" \
    >"$WORK/skopeo-$port.log" 2>&1 &
  pulls+=($!)
done
for pid in "${pulls[@]}"; do
  wait "$pid" || { cat "$WORK"/skopeo-*.log "$WORK/origin.log" >&2; exit 1; }
done
for port in 16000 16010; do
  out="$WORK/pulled-$port"
  for blob in "$IMAGE_LAYER" "$IMAGE_CONFIG"; do
    cmp "$WORK/src/blobs/sha256/$blob" "$out/blobs/sha256/$blob"
  done
  echo "agent :$port: pulled demo/app:v1, layer and config identical to what was pushed to the registry"
done

# The layer was cold: the origin said "202, ask again" while it fetched it, and the agents then got
# it through the swarm (not whole over HTTP from the origin).
pending=$(metric http://127.0.0.1:15002 shoal_origin_metainfo_pending_total)
echo "origin: answered $pending metainfo request(s) 202 while it fetched the layer from the registry"
(( pending >= 1 )) || { echo "shoal-in-front-of-registry: expected the origin to answer 202 while fetching" >&2; exit 1; }
for port in 16000 16010; do
  p2p=$(( $(metric "http://127.0.0.1:$port" 'shoal_p2p_piece_bytes_received_total{source="origin"}') \
        + $(metric "http://127.0.0.1:$port" 'shoal_p2p_piece_bytes_received_total{source="agent"}') ))
  echo "agent :$port: $p2p bytes of pieces from the swarm"
  (( p2p >= 16 * 1024 * 1024 )) || { echo "shoal-in-front-of-registry: agent :$port did not get the layer through the swarm" >&2; exit 1; }
done

# The origin cached what it fetched from the registry; build-index recorded the manifest.
curl -fsS -o /dev/null "http://127.0.0.1:15002/v1/blobs/sha256:$IMAGE_LAYER?namespace=demo/app"
curl -fsS "http://127.0.0.1:15004/v1/repositories/demo/app/manifests/sha256:$IMAGE_MANIFEST"; echo

# Tags pushed to the registry show through the agents (within buildIndex:upstreamTagTtl).
skopeo --insecure-policy copy --dest-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" --dest-tls-verify=false \
  "oci:$WORK/src:v1" "docker://$REGISTRY/demo/app:v2"
tags=$(curl -fsS http://127.0.0.1:16000/v2/demo/app/tags/list)
echo "agent :16000: tags of demo/app: $tags"
[[ $tags == *'"v1"'* && $tags == *'"v2"'* ]] || { echo "shoal-in-front-of-registry: expected tags v1 and v2" >&2; exit 1; }
echo "shoal-in-front-of-registry: OK"
