#!/usr/bin/env bash
# containerd uses a Shoal agent as its registry mirror (hosts.toml). The upstream registry named
# in the image reference does not exist, so a successful pull proves the image came through Shoal.
# Runs a private containerd (root needed) with its own state directories. Exits 0 when it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
need dotnet skopeo curl containerd ctr
[[ $(id -u) -eq 0 ]] || { echo "containerd-mirror: run as root (containerd needs it)" >&2; exit 1; }

build_shoal
start_dev
make_image "$WORK/src" v1 amd64
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$WORK/src:v1" docker://127.0.0.1:15000/demo/app:v1

ctrd="$WORK/containerd"
mkdir -p "$ctrd/root" "$ctrd/state" "$ctrd/opt" "$ctrd/certs.d/registry.example.invalid:5000"
cat >"$ctrd/config.toml" <<TOML
version = 2
root = "$ctrd/root"
state = "$ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$ctrd/containerd.sock"
[ttrpc]
  address = "$ctrd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$ctrd/opt"
TOML
cat >"$ctrd/certs.d/registry.example.invalid:5000/hosts.toml" <<TOML
server = "http://registry.example.invalid:5000"

[host."http://127.0.0.1:16000"]
  capabilities = ["pull", "resolve"]
TOML
containerd --config "$ctrd/config.toml" >"$WORK/containerd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [[ -S $ctrd/containerd.sock ]] && break; sleep 0.1; done
[[ -S $ctrd/containerd.sock ]] || { cat "$WORK/containerd.log" >&2; exit 1; }

ctr --address "$ctrd/containerd.sock" images pull --hosts-dir "$ctrd/certs.d" --plain-http --snapshotter native \
  registry.example.invalid:5000/demo/app:v1
cmp "$WORK/src/blobs/sha256/$IMAGE_LAYER" "$ctrd/root/io.containerd.content.v1.content/blobs/sha256/$IMAGE_LAYER"
echo "containerd-mirror: containerd pulled registry.example.invalid:5000/demo/app:v1 through the agent; layer byte-identical"
echo "containerd-mirror: OK"
