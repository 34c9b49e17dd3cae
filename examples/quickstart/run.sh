#!/usr/bin/env bash
# Quick start: run `shoal dev`, push an image to the proxy with skopeo, pull it back through
# every agent, and check the bytes. Exits 0 when the whole flow works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet skopeo curl sha256sum

build_shoal
start_dev
echo "quickstart: shoal dev is up"

make_image "$WORK/src" v1 amd64
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src:v1" docker://127.0.0.1:15000/demo/app:v1
echo "quickstart: pushed demo/app:v1 to the proxy"

for port in 16000 16010 16020; do
  out="$WORK/pulled-$port"
  skopeo --insecure-policy copy --src-tls-verify=false "docker://127.0.0.1:$port/demo/app:v1" "oci:$out:v1"
  for blob in "$IMAGE_LAYER" "$IMAGE_CONFIG"; do
    cmp "$WORK/src/blobs/sha256/$blob" "$out/blobs/sha256/$blob"
  done
  echo "quickstart: agent on :$port served demo/app:v1, blobs byte-identical"
done

tags=$(curl -fsS http://127.0.0.1:15000/v2/demo/app/tags/list)
[[ $tags == *'"v1"'* ]] || { echo "quickstart: unexpected tag list $tags" >&2; exit 1; }
echo "quickstart: OK"
