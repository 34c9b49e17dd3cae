#!/usr/bin/env bash
# Peer traffic over mutual TLS (p2p:tls:mode strict): the origin and two agents present certificates
# of the cluster's CA (one certificate for every agent, as a Secret mounted by a DaemonSet) and
# accept only certificates of that CA. The second agent takes the layer from the first one over TLS
# (mostly: the origin may send it a few pieces before the agents are connected); a client with a
# certificate of another CA is turned away, counted in /metrics and logged.
# Exits 0 when it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet curl skopeo openssl awk cmp

build_shoal

# make_ca DIR NAME: a CA (ca.pem) in DIR and one peer certificate it signs (peer.pem, peer.key),
# ECDSA P-256, usable as server and as client certificate.
make_ca() {
  mkdir -p "$1"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=$2" \
    -keyout "$1/ca.key" -out "$1/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=shoal peer" \
    -keyout "$1/peer.key" -out "$1/peer.csr" 2>/dev/null
  printf 'extendedKeyUsage=serverAuth,clientAuth\n' >"$1/peer.ext"
  openssl x509 -req -in "$1/peer.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial -days 30 \
    -extfile "$1/peer.ext" -out "$1/peer.pem" 2>/dev/null
}
make_ca "$WORK/tls" "cluster CA"
make_ca "$WORK/other" "someone else's CA"
TLS="{ mode: strict, certificate: $WORK/tls/peer.pem, key: $WORK/tls/peer.key, caCertificate: $WORK/tls/ca.pem }"

cat >"$WORK/shoal.yaml" <<YAML
buildIndex:
  listen: { address: 127.0.0.1, port: 15004 }
  dataDir: $WORK/build-index
origin:
  listen: { address: 127.0.0.1, port: 15002 }
  dataDir: $WORK/origin
  cluster: { replicas: 1 }
  p2p: { listen: { address: 127.0.0.1, port: 15005 }, tls: $TLS }
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
  dataDir: $WORK/agent-0
  buildIndex: http://127.0.0.1:15004
  origins: [ "http://127.0.0.1:15002" ]
  replicas: 1
  tracker: http://127.0.0.1:15003
  p2p: { listen: { address: 127.0.0.1, port: 16001 }, tls: $TLS }
YAML
for component in build-index origin tracker proxy; do
  start_component "$component" "$WORK/shoal.yaml" "$component"
done
start_component agent-0 "$WORK/shoal.yaml" agent
start_component agent-1 "$WORK/shoal.yaml" agent --agent:listen:port=16010 --agent:dataDir="$WORK/agent-1" --agent:p2p:listen:port=16011
wait_ready 15004 15002 15003 15000 16000 16010
echo "p2p-tls: build-index, origin, tracker, proxy and two agents are up; peers speak TLS only"

make_image "$WORK/src" v1 amd64 4000000
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src:v1" "docker://127.0.0.1:15000/demo/app:v1" >/dev/null
echo "p2p-tls: pushed demo/app:v1 (a 4 MB layer)"

for port in 16000 16010; do # one node after the other: the second gets the layer from the first
  skopeo --insecure-policy copy --src-tls-verify=false "docker://127.0.0.1:$port/demo/app:v1" "oci:$WORK/pulled-$port:v1" >/dev/null
  for blob in "$IMAGE_LAYER" "$IMAGE_CONFIG"; do
    cmp "$WORK/src/blobs/sha256/$blob" "$WORK/pulled-$port/blobs/sha256/$blob"
  done
  echo "agent :$port: pulled demo/app:v1, identical to what was pushed"
done

for port in 15002 16000 16010; do
  ok=$(metric "http://127.0.0.1:$port" 'shoal_p2p_tls_handshakes_total{outcome="ok"}')
  echo ":$port: $ok peer connection(s) over TLS"
  (( ok >= 1 )) || { echo "p2p-tls: :$port made no TLS connection" >&2; exit 1; }
done
from_agents=$(metric http://127.0.0.1:16010 'shoal_p2p_piece_bytes_received_total{source="agent"}')
from_origin=$(metric http://127.0.0.1:16010 'shoal_p2p_piece_bytes_received_total{source="origin"}')
echo "agent :16010: $from_agents bytes of pieces from the other agent and $from_origin from the origin, over TLS"
(( from_agents > from_origin )) || { echo "p2p-tls: the second agent did not get the layer mostly from the first" >&2; exit 1; }

# A client whose certificate another CA signed is turned away by the origin's peer port.
openssl s_client -connect 127.0.0.1:15005 -alpn shoal-p2p/1 -CAfile "$WORK/tls/ca.pem" \
  -cert "$WORK/other/peer.pem" -key "$WORK/other/peer.key" </dev/null >"$WORK/intruder.log" 2>&1 || true
for _ in $(seq 1 50); do
  failed=$(metric http://127.0.0.1:15002 'shoal_p2p_tls_handshakes_total{outcome="failed"}')
  (( failed >= 1 )) && break
  sleep 0.2
done
echo "origin: refused $failed connection(s) with a certificate of another CA"
(( failed >= 1 )) || { echo "p2p-tls: the origin did not refuse a certificate of another CA" >&2; exit 1; }
grep -q "TLS with the peer at" "$WORK/origin.log" || { echo "p2p-tls: the refusal was not logged" >&2; exit 1; }
echo "p2p-tls: OK"
