#!/usr/bin/env bash
# Preheat: a registry (CNCF distribution, the registry inside Harbor) notifies the Shoal proxy of
# every push; the proxy asks the origins — whose backend is that registry — to fetch and hash every
# layer before any node pulls. Then the same proxy is driven the way Harbor's "dragonfly" preheat
# provider drives it (Harbor 2.12+: POST /oapi/v1/jobs, poll GET /oapi/v1/jobs/{id}; Harbor 2.11
# and older: GET /_ping, POST /preheats, poll GET /preheats/{id}), and with `shoal preheat`.
# The registry uses a token scoped to notifications only. Exits 0 when it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet curl skopeo docker-registry sha256sum

REGISTRY=127.0.0.1:15105
PROXY=http://127.0.0.1:15100
TOKEN=example-preheat-token
NOTIFY_TOKEN=example-notification-token
build_shoal

# 1. The registry, notifying the proxy of every push (blob events filtered out).
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $WORK/registry } }
http: { addr: $REGISTRY }
notifications:
  events: { includereferences: true }
  endpoints:
    - name: shoal
      url: $PROXY/registry/notifications
      headers: { Authorization: [ "Bearer $NOTIFY_TOKEN" ] }
      timeout: 5s
      threshold: 5
      backoff: 1s
      ignoredmediatypes: [ application/octet-stream ]
YAML
OTEL_TRACES_EXPORTER=none docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_http "http://$REGISTRY/v2/" || { cat "$WORK/registry.log" >&2; exit 1; }

# 2. Shoal: build-index, one origin backed by the registry, the proxy with preheat configured.
cat >"$WORK/shoal.yaml" <<YAML
buildIndex:
  listen: { address: 127.0.0.1, port: 15104 }
  dataDir: $WORK/build-index
origin:
  listen: { address: 127.0.0.1, port: 15102 }
  dataDir: $WORK/origin
  backend: { type: registry, registry: { address: "http://$REGISTRY" } }
proxy:
  listen: { address: 127.0.0.1, port: 15100 }
  dataDir: $WORK/proxy
  origins: [ "http://127.0.0.1:15102" ]
  replicas: 1
  buildIndex: http://127.0.0.1:15104
  preheat:
    upstreams: [ { url: "http://$REGISTRY" } ]
    tokens:
      - "$TOKEN"
      - { token: "$NOTIFY_TOKEN", scopes: [ notification ] }
YAML
for component in build-index origin proxy; do
  "${SHOAL[@]}" "$component" --config "$WORK/shoal.yaml" >"$WORK/$component.log" 2>&1 &
  PIDS+=($!)
done
wait_http http://127.0.0.1:15104/health || { cat "$WORK/build-index.log" >&2; exit 1; }
wait_http http://127.0.0.1:15102/health || { cat "$WORK/origin.log" >&2; exit 1; }
wait_http "$PROXY/health" || { cat "$WORK/proxy.log" >&2; exit 1; }
echo "harbor-preheat: registry at $REGISTRY notifies the proxy at $PROXY"

# 3. Push to the registry only. Nobody pulls; the notification makes the origin fetch the layer.
make_image "$WORK/src" v1 amd64
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$WORK/src:v1" "docker://$REGISTRY/demo/app:v1"
held="$WORK/origin/blobs/sha256/${IMAGE_LAYER:0:2}/${IMAGE_LAYER:2:2}/$IMAGE_LAYER"
for _ in $(seq 1 120); do
  [[ -f $held/data && -f $held/metainfo.json ]] && break
  sleep 0.5
done
[[ -f $held/data && -f $held/metainfo.json ]] || { echo "harbor-preheat: the origin never fetched the layer" >&2; cat "$WORK/proxy.log" >&2; exit 1; }
cmp "$WORK/src/blobs/sha256/$IMAGE_LAYER" "$held/data"
echo "harbor-preheat: after the push, without any pull, the origin holds layer sha256:${IMAGE_LAYER:0:12}… and its metainfo"

# 4. Harbor's "dragonfly" provider: health, create a job (the body Harbor sends), poll it.
curl -fsS -o /dev/null "$PROXY/healthy"
body=$(printf '{"type":"preheat","args":{"type":"image","url":"http://%s/v2/demo/app/manifests/v1","tag":"","filtered_query_params":"","headers":{},"scope":"single_seed_peer","concurrent_count":0,"timeout":0},"scheduler_cluster_ids":[1]}' "$REGISTRY")
job=$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" -d "$body" "$PROXY/oapi/v1/jobs")
id=$(sed -E 's/^\{"id":([0-9]+).*/\1/' <<<"$job")
state=PENDING
for _ in $(seq 1 120); do
  state=$(curl -fsS -H 'Accept: application/json' -H "Authorization: Bearer $TOKEN" "$PROXY/oapi/v1/jobs/$id" | sed -E 's/.*"state":"([A-Z]+)".*/\1/')
  [[ $state != PENDING ]] && break
  sleep 0.5
done
[[ $state == SUCCESS ]] || { echo "harbor-preheat: dragonfly job $id ended $state" >&2; exit 1; }
echo "harbor-preheat: dragonfly-style job $id: $state"

# A manifest URL on a registry that is not a configured upstream is refused (422), nothing fetched.
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d "${body//$REGISTRY/169.254.169.254}" "$PROXY/oapi/v1/jobs")
[[ $code == 422 ]] || { echo "harbor-preheat: expected 422 for a foreign registry, got $code" >&2; exit 1; }
echo "harbor-preheat: a foreign registry URL is refused with 422"

# The registry's token is scoped to notifications: Dragonfly's job API answers it 403, as Dragonfly would.
code=$(curl -sS -o "$WORK/forbidden.json" -w '%{http_code}' -H "Authorization: Bearer $NOTIFY_TOKEN" "$PROXY/oapi/v1/jobs")
[[ $code == 403 ]] || { echo "harbor-preheat: expected 403 for a notification-only token, got $code" >&2; exit 1; }
grep -q 'Required permission: job' "$WORK/forbidden.json"
echo "harbor-preheat: a notification-only token is refused on /oapi/v1/jobs with 403"

# 5. Harbor 2.11 and older: Dragonfly's older API, with the body that Harbor builds.
curl -fsS -o /dev/null -H 'Accept: application/json' "$PROXY/_ping"
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/demo/app:v1")
body=$(printf '{"type":"image","url":"http://%s/v2/demo/app/manifests/v1","headers":{},"image":"demo/app","tag":"v1","digest":"%s"}' "$REGISTRY" "$digest")
old=$(curl -fsS -H 'Content-Type: application/json' -H 'Accept: application/json' -H "Authorization: Bearer $TOKEN" -d "$body" "$PROXY/preheats")
id=$(sed -E 's/.*"ID":"([0-9]+)".*/\1/' <<<"$old")
status=WAITING
for _ in $(seq 1 120); do
  status=$(curl -fsS -H 'Accept: application/json' -H "Authorization: Bearer $TOKEN" "$PROXY/preheats/$id" | sed -E 's/.*"status":"([A-Z]+)".*/\1/')
  [[ $status == WAITING || $status == RUNNING ]] || break
  sleep 0.5
done
[[ $status == SUCCESS ]] || { echo "harbor-preheat: /preheats task $id ended $status" >&2; exit 1; }
echo "harbor-preheat: Harbor 2.11-style task $id: $status"

# 6. The command line: start a preheat and follow it to the end.
"${SHOAL[@]}" preheat "$REGISTRY/demo/app:v1" --scope all_seed_peers --proxy "$PROXY" --token "$TOKEN"
echo "harbor-preheat: OK"
