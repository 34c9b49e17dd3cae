#!/usr/bin/env bash
# Replication between two clusters: cluster A (proxy :15000, origin :15002, build-index :15004)
# replicates the tags of `prod/...` repositories to cluster B (proxy :25000, origin :25002,
# build-index :25004), deletions included. An image pushed to A is pulled from B, byte-identical;
# an image of another repository stays in A; a tag deleted in A is deleted in B; the queue on A's
# build-index drains. Exits 0 when it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet curl skopeo

build_shoal

cluster_config() { # cluster_config NAME PORT_PREFIX [REPLICATION_YAML]
  cat <<YAML
origin:
  listen: { address: 127.0.0.1, port: ${2}002 }
  dataDir: $WORK/$1/origin
  cluster: { replicas: 1 }
buildIndex:
  listen: { address: 127.0.0.1, port: ${2}004 }
  dataDir: $WORK/$1/build-index
${3:-}
proxy:
  listen: { address: 127.0.0.1, port: ${2}000 }
  dataDir: $WORK/$1/proxy
  origins: [ "http://127.0.0.1:${2}002" ]
  replicas: 1
  buildIndex: http://127.0.0.1:${2}004
YAML
}
cluster_config b 25 >"$WORK/b.yaml"
cluster_config a 15 "  origins: [ \"http://127.0.0.1:15002\" ]
  replicas: 1
  replication:
    - repositories: \"prod/.*\"
      remote:
        buildIndex: http://127.0.0.1:25004
        origins: [ \"http://127.0.0.1:25002\" ]
        replicas: 1
      deletes: true" >"$WORK/a.yaml"

for cluster in a b; do
  for component in origin build-index proxy; do
    start_component "$cluster-$component" "$WORK/$cluster.yaml" "$component"
  done
done
wait_ready 15002 15004 15000 25002 25004 25000
echo "replication: cluster A on :15000/:15002/:15004, cluster B on :25000/:25002/:25004; A replicates prod/... to B"

make_image "$WORK/src" v1 amd64
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src:v1" docker://127.0.0.1:15000/prod/app:v1 >/dev/null
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src:v1" docker://127.0.0.1:15000/dev/app:v1 >/dev/null
echo "replication: pushed prod/app:v1 and dev/app:v1 to cluster A"

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null http://127.0.0.1:25004/v1/repositories/prod/app/tags/v1 2>/dev/null && break
  sleep 0.2
done
skopeo --insecure-policy copy --src-tls-verify=false docker://127.0.0.1:25000/prod/app:v1 "oci:$WORK/pulled:v1" >/dev/null
for blob in "$IMAGE_LAYER" "$IMAGE_CONFIG" "$IMAGE_MANIFEST"; do
  cmp "$WORK/src/blobs/sha256/$blob" "$WORK/pulled/blobs/sha256/$blob"
done
echo "replication: pulled prod/app:v1 from cluster B, manifest, config and layer byte-identical"

status=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:25004/v1/repositories/dev/app/tags/v1)
[[ $status == 404 ]] || { echo "replication: dev/app:v1 reached cluster B ($status)" >&2; exit 1; }
echo "replication: dev/app:v1 stayed in cluster A (no rule names it)"

# A tag deleted in A (the registry API, as `skopeo delete` or Harbor would) goes in B too.
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src:v1" docker://127.0.0.1:15000/prod/app:old >/dev/null
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null http://127.0.0.1:25004/v1/repositories/prod/app/tags/old 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null -X DELETE http://127.0.0.1:15000/v2/prod/app/manifests/old
for _ in $(seq 1 100); do
  status=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:25004/v1/repositories/prod/app/tags/old)
  [[ $status == 404 ]] && break
  sleep 0.2
done
[[ $status == 404 ]] || { echo "replication: prod/app:old was deleted in A but is still in B ($status)" >&2; exit 1; }
curl -fsS -o /dev/null http://127.0.0.1:25004/v1/repositories/prod/app/tags/v1
echo "replication: prod/app:old deleted in A, then in B (prod/app:v1 still there)"
queue=$(curl -fsS http://127.0.0.1:15004/v1/replication)
[[ $queue == *'"depth":0'* ]] || { echo "replication: A's queue did not drain: $queue" >&2; exit 1; }
echo "replication: A's queue is empty: $queue"
echo "replication: OK"
