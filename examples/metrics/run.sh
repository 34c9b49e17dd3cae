#!/usr/bin/env bash
# Metrics: run `shoal dev`, push an image, pull it through two agents, and read what Prometheus
# would scrape from each component's /metrics: the blobs each agent downloaded, how many piece
# bytes came from the origin and how many from the other agent, the origin's swarm egress.
# Exits 0 when the counters add up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet skopeo curl awk

build_shoal
start_dev
echo "metrics: shoal dev is up"


for port in 15000 15002 15003 15004 16000 16010; do
  type=$(curl -fsS -o /dev/null -w '%{content_type}' "http://127.0.0.1:$port/metrics")
  [[ $type == text/plain*version=0.0.4* ]] || { echo "metrics: :$port/metrics answered $type" >&2; exit 1; }
done
echo "metrics: every component serves /metrics in the Prometheus text format"

make_image "$WORK/src" v1 amd64
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src:v1" docker://127.0.0.1:15000/demo/metrics:v1
layer_bytes=$(stat -c %s "$WORK/src/blobs/sha256/$IMAGE_LAYER")

for port in 16000 16010; do
  skopeo --insecure-policy copy --src-tls-verify=false "docker://127.0.0.1:$port/demo/metrics:v1" "oci:$WORK/pulled-$port:v1"
done
echo "metrics: pulled demo/metrics:v1 through the agents on :16000 and :16010"

total_from_origin=0 total_from_agents=0
for port in 16000 16010; do
  agent=http://127.0.0.1:$port
  blobs=$(metric "$agent" shoal_agent_blobs_downloaded_total)
  from_origin=$(metric "$agent" 'shoal_p2p_piece_bytes_received_total{source="origin"}')
  from_agents=$(metric "$agent" 'shoal_p2p_piece_bytes_received_total{source="agent"}')
  verified=$(metric "$agent" shoal_p2p_pieces_verified_total)
  corrupt=$(metric "$agent" shoal_p2p_pieces_corrupt_total)
  echo "metrics: agent :$port downloaded $blobs blobs; piece bytes from the origin $from_origin, from agents $from_agents; pieces verified $verified, corrupt $corrupt"
  (( blobs >= 2 )) || { echo "metrics: agent :$port should have downloaded the layer and the config" >&2; exit 1; }
  (( corrupt == 0 )) || exit 1
  (( from_origin + from_agents >= layer_bytes )) || { echo "metrics: agent :$port received fewer piece bytes than the layer has" >&2; exit 1; }
  total_from_origin=$((total_from_origin + from_origin)) total_from_agents=$((total_from_agents + from_agents))
done

sent=$(metric http://127.0.0.1:15002 shoal_p2p_piece_bytes_sent_total)
echo "metrics: the origin sent $sent piece bytes to the swarm"
(( sent == total_from_origin )) || { echo "metrics: the origin sent $sent, the agents received $total_from_origin from it" >&2; exit 1; }
proxy_metrics=$(curl -fsS http://127.0.0.1:15000/metrics)
grep -q '^http_server_request_duration_seconds_count{.*http_route="/v2/{\*\*path}"' <<<"$proxy_metrics" \
  || { echo "metrics: the proxy has no request-duration series for the registry API" >&2; exit 1; }
echo "metrics: OK"
