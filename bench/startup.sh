#!/usr/bin/env bash
# =================================================================================================
# bench/startup.sh — how long does a new agent take to become ready, and what does it cost?
#
#   bench/startup.sh [--runs K] SHOAL [SHOAL...]
#
# Starts `SHOAL agent` on loopback K times (default 5) per executable, the executables interleaved
# run by run (this machine is shared and noisy: only side-by-side figures compare), and measures
# the time from exec to the first 200 from GET /readiness, the process's CPU-seconds (user + system)
# and resident memory at that moment. A build-index (from the first executable) runs throughout,
# since an agent is ready only once it reaches one. Prints one markdown row per executable: the
# median and the range of each measure. A node that joins a cluster pulls its images at once, with
# an agent that has just started (see docs/operations.md, "Building").
#
# Build the executables with scripts/publish.sh (the deployable, precompiled build), or point at
# any other build to compare.
# =================================================================================================
set -euo pipefail
export LC_ALL=C

runs=5
bins=()
while (($#)); do
  case $1 in
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    -*) echo "startup.sh: unknown option $1" >&2; exit 2 ;;
    *) [[ -x $1 ]] || { echo "startup.sh: $1 is not an executable" >&2; exit 2; }; bins+=("$1"); shift ;;
  esac
done
((${#bins[@]} > 0)) || { sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; }
command -v curl >/dev/null 2>&1 || { echo "startup.sh: curl is needed" >&2; exit 2; }

work=$(mktemp -d /tmp/shoal-startup.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A free loopback TCP port.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_ready URL PID SECONDS: until URL answers 200; fails when PID exits or SECONDS pass.
wait_ready() {
  local url=$1 pid=$2 deadline=$((SECONDS + $3))
  until curl -fs -o /dev/null --max-time 1 "$url"; do
    kill -0 "$pid" 2>/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.01
  done
}

bi_port=$(free_port)
cat >"$work/build-index.yaml" <<EOF
buildIndex:
  listen: {address: 127.0.0.1, port: $bi_port}
  dataDir: $work/build-index
EOF
"${bins[0]}" build-index --config "$work/build-index.yaml" >"$work/build-index.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$bi_port/readiness" "${pids[0]}" 60 ||
  { echo "startup.sh: build-index did not start: $(tail -n 5 "$work/build-index.log")" >&2; exit 2; }

# One agent start: prints "seconds cpu_seconds rss_kib".
measure() {
  local bin=$1 dir port p2p t0 t1 pid ticks rss
  dir=$(mktemp -d "$work/agent.XXXXXX")
  port=$(free_port) p2p=$(free_port)
  cat >"$dir/agent.yaml" <<EOF
agent:
  listen: {address: 127.0.0.1, port: $port}
  dataDir: $dir/data
  buildIndex: http://127.0.0.1:$bi_port
  origins: [http://127.0.0.1:1]
  replicas: 1
  tracker: http://127.0.0.1:1
  p2p:
    listen: {address: 127.0.0.1, port: $p2p}
EOF
  t0=$EPOCHREALTIME
  "$bin" agent --config "$dir/agent.yaml" >"$dir/agent.log" 2>&1 &
  pid=$!
  if ! wait_ready "http://127.0.0.1:$port/readiness" "$pid" 60; then
    kill "$pid" 2>/dev/null || true
    echo "startup.sh: the agent of $bin did not become ready: $(tail -n 5 "$dir/agent.log")" >&2
    exit 1
  fi
  t1=$EPOCHREALTIME
  ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  awk -v a="$t0" -v b="$t1" -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v r="$rss" 'BEGIN { printf "%.3f %.2f %d\n", b - a, t / hz, r }'
}

for ((run = 1; run <= runs; run++)); do
  for ((b = 0; b < ${#bins[@]}; b++)); do
    measure "${bins[b]}" >>"$work/results-$b"
  done
done

# median_range FILE COLUMN: "median (min–max)".
median_range() {
  sort -n -k"$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%g (%g–%g)", m, v[1], v[NR] }'
}

echo "| executable | runs | ready after s | CPU-s at ready | RSS at ready MiB |"
echo "|---|--:|--:|--:|--:|"
for ((b = 0; b < ${#bins[@]}; b++)); do
  f=$work/results-$b
  awk '{ $3 = sprintf("%.0f", $3 / 1024); print }' "$f" >"$f.mib"
  echo "| ${bins[b]} | $runs | $(median_range "$f" 1) | $(median_range "$f" 2) | $(median_range "$f.mib" 3) |"
done
