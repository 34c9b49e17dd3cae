# Helpers shared by the example scripts: build and start `shoal dev`, make a small OCI image
# layout without network access, wait for endpoints, clean up by PID.
# shellcheck shell=bash

EXAMPLES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$EXAMPLES_ROOT/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-example.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "example: '$tool' is required (apt-get install $tool)" >&2; exit 1; }
  done
}

# Builds the shoal executable once; sets SHOAL to the command that runs it.
build_shoal() {
  dotnet build "$REPO_ROOT/src/Shoal/Shoal.csproj" -c Release -nologo -v:q -clp:ErrorsOnly -o "$WORK/bin" >/dev/null
  SHOAL=(dotnet "$WORK/bin/shoal.dll")
}

# Waits (bounded) until a URL answers 2xx.
wait_http() {
  local url=$1 tries=${2:-120}
  for _ in $(seq 1 "$tries"); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "example: $url did not come up" >&2
  return 1
}

# Starts `shoal dev` on the default ports with its data under $WORK/dev.
start_dev() {
  "${SHOAL[@]}" dev --data "$WORK/dev" >"$WORK/dev.log" 2>&1 &
  PIDS+=($!)
  wait_http http://127.0.0.1:15000/v2/ || { cat "$WORK/dev.log" >&2; return 1; }
  wait_http http://127.0.0.1:16000/v2/
}

# start_component NAME CONFIG COMPONENT [OVERRIDES...]: runs `shoal COMPONENT --config CONFIG
# OVERRIDES...` in the background, its log in $WORK/NAME.log (appended), its PID in PIDS and in LAST_PID.
start_component() {
  "${SHOAL[@]}" "$3" --config "$2" "${@:4}" >>"$WORK/$1.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# wait_ready PORT...: waits until each local port answers /readiness; shows the logs when one does not.
wait_ready() {
  local port
  for port in "$@"; do
    wait_http "http://127.0.0.1:$port/readiness" || { tail -n 20 "$WORK"/*.log >&2; return 1; }
  done
}

# metric URL SERIES: the value of one series of URL/metrics (name and labels exactly as exposed), 0 when absent.
metric() {
  curl -fsS "$1/metrics" | awk -v s="$2" 'index($0, s " ") == 1 { v = $NF } END { print v + 0 }'
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# make_image DIR TAG ARCH [BYTES]: writes an OCI image layout with one real gzip'd tar layer (BYTES of
# random data, default 300000) and a config whose diff_ids match, so runtimes can unpack it.
make_image() {
  local dir=$1 tag=$2 arch=$3 bytes=${4:-300000} src layer layer_sha diff_id layer_size config config_sha manifest manifest_sha
  mkdir -p "$dir/blobs/sha256"
  src=$(mktemp -d "$WORK/rootfs.XXXX")
  mkdir -p "$src/etc"
  echo "hello from shoal ($arch)" >"$src/etc/motd"
  head -c "$bytes" /dev/urandom >"$src/etc/random.bin"
  tar -C "$src" -cf "$WORK/layer.tar" --owner=0 --group=0 --numeric-owner etc
  diff_id=$(sha256_of "$WORK/layer.tar")
  gzip -n -c "$WORK/layer.tar" >"$WORK/layer.tar.gz"
  layer_sha=$(sha256_of "$WORK/layer.tar.gz")
  layer_size=$(stat -c %s "$WORK/layer.tar.gz")
  mv "$WORK/layer.tar.gz" "$dir/blobs/sha256/$layer_sha"
  config=$(printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$arch" "$diff_id")
  printf '%s' "$config" >"$WORK/config.json"
  config_sha=$(sha256_of "$WORK/config.json")
  mv "$WORK/config.json" "$dir/blobs/sha256/$config_sha"
  manifest=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
    "$config_sha" "${#config}" "$layer_sha" "$layer_size")
  printf '%s' "$manifest" >"$WORK/manifest.json"
  manifest_sha=$(sha256_of "$WORK/manifest.json")
  mv "$WORK/manifest.json" "$dir/blobs/sha256/$manifest_sha"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest_sha" "${#manifest}" "$tag" >"$dir/index.json"
  rm -rf "$src" "$WORK/layer.tar"
  IMAGE_LAYER=$layer_sha
  IMAGE_CONFIG=$config_sha
  IMAGE_MANIFEST=$manifest_sha
}
