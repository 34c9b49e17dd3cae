#!/usr/bin/env bash
# A registry and Shoal sharing one storage: a Docker registry (CNCF distribution) and Shoal's
# origin and build-index use the same filesystem directory, Shoal's backends in the registry's
# layout (`layout: distribution`). An image pushed to the registry is pulled through a Shoal
# agent; an image pushed through Shoal's proxy is pulled from the registry; the bytes are checked
# both ways. Exits 0 when it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet curl skopeo docker-registry sha256sum

REGISTRY=127.0.0.1:5000
STORAGE=$WORK/storage
build_shoal

# 1. The registry, its filesystem storage at $STORAGE (it keeps docker/registry/v2/ under it).
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $STORAGE }, delete: { enabled: true } }
http: { addr: $REGISTRY }
YAML
OTEL_TRACES_EXPORTER=none docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_http "http://$REGISTRY/v2/" || { cat "$WORK/registry.log" >&2; exit 1; }
echo "registry: up at http://$REGISTRY, storage $STORAGE"

# 2. Shoal on the ports of `shoal dev`: the origin's blobs and build-index's tags both live in
#    $STORAGE, named the way the registry names them.
cat >"$WORK/shoal.yaml" <<YAML
buildIndex:
  listen: { address: 127.0.0.1, port: 15004 }
  dataDir: $WORK/build-index
  backends:
    - namespace: ".*"
      backend: { type: filesystem, root: $STORAGE, layout: distribution }
origin:
  listen: { address: 127.0.0.1, port: 15002 }
  dataDir: $WORK/origin
  # writeThrough: a push is acknowledged only once its blobs are in the storage (the default
  # of layout: distribution, spelled out here), so the registry never sees a tag before its blobs.
  backends:
    - namespace: ".*"
      backend: { type: filesystem, root: $STORAGE, layout: distribution }
      writeThrough: true
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
YAML
for component in build-index origin tracker proxy agent; do
  "${SHOAL[@]}" "$component" --config "$WORK/shoal.yaml" >"$WORK/$component.log" 2>&1 &
  PIDS+=($!)
done
for pair in build-index:15004 origin:15002 tracker:15003 proxy:15000 agent:16000; do
  wait_http "http://127.0.0.1:${pair#*:}/readiness" || { cat "$WORK/${pair%%:*}.log" >&2; exit 1; }
done
echo "shoal: build-index, origin, tracker, proxy and an agent are up on the registry's storage"

# 3. Pushed to the registry, pulled through the agent: build-index reads the registry's tag link,
#    the origin reads the registry's blob files.
make_image "$WORK/src-a" v1 amd64
A_LAYER=$IMAGE_LAYER A_CONFIG=$IMAGE_CONFIG A_MANIFEST=$IMAGE_MANIFEST
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src-a:v1" "docker://$REGISTRY/demo/app:v1"
echo "registry: pushed demo/app:v1 (manifest sha256:$A_MANIFEST)"
skopeo --insecure-policy copy --src-tls-verify=false "docker://127.0.0.1:16000/demo/app:v1" "oci:$WORK/pulled-a:v1"
for blob in "$A_MANIFEST" "$A_CONFIG" "$A_LAYER"; do
  cmp "$WORK/src-a/blobs/sha256/$blob" "$WORK/pulled-a/blobs/sha256/$blob"
done
echo "agent: pulled demo/app:v1, manifest, config and layer identical to what was pushed to the registry"

# 4. Pushed through Shoal's proxy, pulled from the registry at once: build-index wrote the
#    registry's tag, revision and layer links, and the origin wrote every blob (the manifest too)
#    through to the storage before acknowledging it, so nothing is missing when the tag appears.
make_image "$WORK/src-b" v2 arm64
B_LAYER=$IMAGE_LAYER B_CONFIG=$IMAGE_CONFIG B_MANIFEST=$IMAGE_MANIFEST
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src-b:v2" "docker://127.0.0.1:15000/demo/app:v2"
echo "shoal: pushed demo/app:v2 through the proxy (manifest sha256:$B_MANIFEST)"
queue=$(curl -fsS http://127.0.0.1:15002/v1/writeback)
[[ $queue == *'"depth":0'* ]] || { echo "shared-storage: the origin should have nothing left to write back: $queue" >&2; exit 1; }
skopeo --insecure-policy copy --src-tls-verify=false "docker://$REGISTRY/demo/app:v2" "oci:$WORK/pulled-b:v2" \
  || { echo "shared-storage: the registry does not serve demo/app:v2 right after the push" >&2; cat "$WORK/origin.log" >&2; exit 1; }
for blob in "$B_MANIFEST" "$B_CONFIG" "$B_LAYER"; do
  cmp "$WORK/src-b/blobs/sha256/$blob" "$WORK/pulled-b/blobs/sha256/$blob"
done
echo "registry: pulled demo/app:v2, manifest, config and layer identical to what was pushed through Shoal"

# Both see both tags; the files are the registry's own.
tags=$(curl -fsS "http://$REGISTRY/v2/demo/app/tags/list")
echo "registry: tags of demo/app: $tags"
[[ $tags == *'"v1"'* && $tags == *'"v2"'* ]] || { echo "shared-storage: the registry should list v1 and v2" >&2; exit 1; }
tags=$(curl -fsS http://127.0.0.1:15000/v2/demo/app/tags/list)
echo "shoal: tags of demo/app: $tags"
[[ $tags == *'"v1"'* && $tags == *'"v2"'* ]] || { echo "shared-storage: Shoal should list v1 and v2" >&2; exit 1; }
echo "storage: $(cat "$STORAGE/docker/registry/v2/repositories/demo/app/_manifests/tags/v2/current/link") is demo/app:v2's current link"
echo "shared-storage: OK"
