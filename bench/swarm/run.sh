#!/usr/bin/env bash
# =================================================================================================
# bench/swarm/run.sh — how long does it take to get one blob from one origin host to N hosts?
#
#   bench/swarm/run.sh N RATE SIZE [--systems "shoal direct bt"] [options]
#   bench/swarm/run.sh report [CSV]          # a results CSV as a markdown table
#
# Emulates N+1 hosts on this machine (one network namespace each, h0..hN) on one bridge, every
# host's upload AND download limited to RATE with tc tbf, and measures, on that same network and
# one after the other:
#
#   shoal   build-index, origin, tracker and proxy on h0, one agent on each of h1..hN; the blob is
#           pushed through the proxy, then every host pulls it from its own agent at once
#           (GET /v2/<repo>/blobs/<digest>, as a container runtime would); the host's copy is the
#           one its agent stores, and the client counts the bytes it reads without storing them
#           (--client-copy: it writes a second copy, as a runtime's content store would)
#   shoal-http  the same, but the agents get no tracker, so they download from the origin over
#           HTTP (Shoal without its peer-to-peer engine; a control, not in the default list)
#   direct  every host pulls the blob straight from a docker-registry on h0 (the no-P2P baseline)
#   bt      a BitTorrent swarm: opentracker + an aria2c seeder on h0, an aria2c leecher per host
#
# For each system it appends one row to the results CSV (default bench/swarm/results.csv) and
# prints a markdown table: wall time until the last host holds the verified blob, first and
# median completion, the bound S/RATE (each host must download S bytes at RATE), the bytes h0
# sent on the wire, whole-machine CPU and the CPU-seconds of the benchmark's processes.
#
# RATE uses tc's bit units only: 10mbit, 100mbit, 1gbit (a bare number would mean BYTES/s to tc).
# SIZE is bytes or K/M/G (binary): 16M = 16 MiB.
#
# Options:
#   --systems "LIST"   which systems to run, in order (default "shoal direct bt")
#   --results FILE     CSV to append to (default bench/swarm/results.csv; env BENCH_RESULTS)
#   --timeout SECS     give up on a system after SECS (default 4·N·S/RATE + 60)
#   --no-build         use the shoal binary built by an earlier run (or SHOAL_BIN)
#   --client-copy      shoal: every host's client also writes the blob it reads from its agent to a
#                      file (a second copy per host, as a runtime's content store makes; rows noted
#                      "client copy"). Default: the client discards it, so that every system ends
#                      with one verified copy per host: the agent's, curl's, aria2c's
#   --p2p-tls          shoal: peers speak mutual TLS (p2p:tls:mode strict, one certificate of a
#                      throw-away CA made with openssl for every peer; rows noted "p2p tls")
#   --agent-args OPTS  shoal: extra 'shoal agent' arguments (as BENCH_AGENT_ARGS, added to it), e.g.
#                      "--agent:p2p:maxConnectionsPerBlob=16"; so `ab.sh --b-args` can compare settings
#   --origin-args OPTS shoal: likewise for 'shoal origin' (BENCH_ORIGIN_ARGS)
#   --link-trace       every host's upload and download sampled every 50 ms during the timed pull;
#                      a table per system in $RUN/SYSTEM.links.md (host 0's upload and the agents'
#                      downloads per quarter second, each host's mean): where a link sat idle
#   --piece-trace      shoal: the engine logs every piece stored (agents) and first sent (origin) at
#                      Trace; afterwards how long pieces took to reach the nodes after the origin
#                      first sent them, how far the nodes trailed the origin, their request-to-arrival
#                      times and each node's start-up after the clock started ($RUN/shoal.pieces.txt).
#                      Costs CPU (a log line per piece per node): rows noted "piece trace"
#   --notes TEXT       free text for the notes column of every row
#
# Environment:
#   BENCH_DIR=/tmp/shoal-bench   work directory: the shoal build, cached blobs, logs of the last
#                                run (run/hI/*.log), the lock
#   SHOAL_BIN=                   a prebuilt shoal executable (skips the build)
#   BENCH_BUILD=isolated         isolated: scripts/publish.sh, the deployable build (ReadyToRun), with
#                                its own obj/bin under BENCH_DIR (never races a build in the tree);
#                                tree: build src/Shoal in place, Release, not precompiled (fast after
#                                a Release build of the solution)
#   BENCH_PREFIX=shb             namespace names: <prefix>sw (the bridge), <prefix>h0..<prefix>hN
#   BENCH_QUEUE_MS=50            shaper queue, in milliseconds at RATE (at least 256 KiB)
#   BENCH_IDLE_MAX=25            before each system wait until the machine is at most this % busy
#   BENCH_IDLE_WAIT=120          ... but at most this many seconds (then run anyway, recorded)
#   BENCH_MAX_LIFETIME=3600      hard limit (s) on every process the benchmark starts
#   BENCH_WARM_SIZE=8M           a different blob every agent pulls through the swarm before the
#                                timed run, as a long-running agent would have (0: none)
#   BENCH_PIECE_LOG2=            BitTorrent piece size 2^n (default: the piece length Shoal uses)
#   BENCH_AGENT_ARGS=            extra 'shoal agent' arguments, e.g. "--agent:upstreamTimeout=00:00:30"
#   BENCH_ORIGIN_ARGS= BENCH_TRACKER_ARGS= BENCH_PROXY_ARGS= BENCH_BUILD_INDEX_ARGS=   likewise
#
# Needs root (network namespaces, tc) and Linux with veth, bridge and tbf built in or loadable.
# Missing tools (iproute2, curl, docker-registry, opentracker, aria2, mktorrent) are installed with
# apt-get. Every process runs under `timeout`, every wait is bounded, and on exit — normal, error
# or signal — every process inside the benchmark's namespaces is killed by PID and the namespaces
# are deleted. Exit status: 0 all hosts of every system got the verified blob, 1 some did not,
# 2 the benchmark could not run.
# =================================================================================================
set -euo pipefail
shopt -s nullglob
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

BENCH_DIR=${BENCH_DIR:-/tmp/shoal-bench}
RUN=$BENCH_DIR/run
PREFIX=${BENCH_PREFIX:-shb}
QUEUE_MS=${BENCH_QUEUE_MS:-50}
WARM_SIZE=${BENCH_WARM_SIZE:-8M}
IDLE_MAX=${BENCH_IDLE_MAX:-25}
IDLE_WAIT=${BENCH_IDLE_WAIT:-120}
MAX_LIFETIME=${BENCH_MAX_LIFETIME:-3600}
RESULTS=${BENCH_RESULTS:-$HERE/results.csv}
SW=${PREFIX}sw
REPO=bench/blob
TAG=latest

# Ports (every host has its own port space).
PROXY_PORT=15000
ORIGIN_PORT=15002
TRACKER_PORT=15003
BUILD_INDEX_PORT=15004
ORIGIN_P2P_PORT=15005
AGENT_PORT=16000
AGENT_P2P_PORT=16001
REGISTRY_PORT=5000
BT_TRACKER_PORT=6969
BT_PEER_PORT=6881

# Aggregate delivered rate above which this 2-core machine, not the links, limits a swarm.
CPU_CEILING_BPS=1600000000

CSV_HEADER="timestamp,commit,system,engine,n,rate,size_bytes,wall_s,first_s,median_s,bound_s,ratio,method_bound_s,ratio_method,ok,origin_egress_bytes,origin_copies,peer_egress_bytes,cpu_avg_pct,cpu_max_pct,cpu_before_pct,proc_cpu_s,client_cpu_s,proc_max_rss_kb,piece_bytes,notes"

# -------------------------------------------------------------------------------------------------
# Small helpers
# -------------------------------------------------------------------------------------------------
die() { echo "run.sh: $*" >&2; exit 2; }
log() { printf '[bench %(%T)T] %s\n' -1 "$*" >&2; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }

# "100mbit" -> bits/s. Only explicit bit units: a bare number means bytes/s to tc. (%.0f, never
# %d: mawk's %d clamps at 2^31-1, which would cap rates at 2.1 Gbit/s.)
parse_rate() {
  local r=${1,,}
  [[ $r =~ ^([0-9]+(\.[0-9]+)?)(bit|kbit|mbit|gbit)$ ]] || die "bad RATE '$1' (use tc bit units: 10mbit, 100mbit, 1gbit)"
  local m
  case ${BASH_REMATCH[3]} in bit) m=1 ;; kbit) m=1e3 ;; mbit) m=1e6 ;; gbit) m=1e9 ;; esac
  awk -v n="${BASH_REMATCH[1]}" -v m="$m" 'BEGIN { printf "%.0f", n * m }'
}

# "64M" -> 67108864 (binary suffixes); plain byte counts pass through.
parse_size() {
  local s=${1^^}
  [[ $s =~ ^([0-9]+)([KMG]?)(I?B)?$ ]] || die "bad SIZE '$1' (use e.g. 16M, 1G, 1048576)"
  case ${BASH_REMATCH[2]} in
    K) echo $((BASH_REMATCH[1] << 10)) ;; M) echo $((BASH_REMATCH[1] << 20)) ;;
    G) echo $((BASH_REMATCH[1] << 30)) ;; *) echo "${BASH_REMATCH[1]}" ;;
  esac
}

ns_of() { echo "${PREFIX}h$1"; }
ip_of() { echo "198.18.$(($1 / 250)).$(($1 % 250 + 1))"; }
in_host() { local i=$1; shift; ip netns exec "$(ns_of "$i")" "$@"; }

# Sleeps without forking (read with a timeout on a pipe nobody writes to).
SLEEP_FD=
nap() { read -rt "$1" -u "$SLEEP_FD" _ || true; }

# -------------------------------------------------------------------------------------------------
# Dependencies
# -------------------------------------------------------------------------------------------------
ensure_tools() {
  local -A want=([ip]=iproute2 [tc]=iproute2 [curl]=curl [flock]=util-linux [sha256sum]=coreutils
                 [timeout]=coreutils [awk]=mawk)
  local s cmd
  for s in "$@"; do
    case $s in
      direct) want[docker-registry]=docker-registry ;;
      bt) want[opentracker]=opentracker; want[aria2c]=aria2; want[mktorrent]=mktorrent ;;
    esac
  done
  local -A packages=()
  for cmd in "${!want[@]}"; do command -v "$cmd" >/dev/null 2>&1 || packages[${want[$cmd]}]=1; done
  if ((${#packages[@]})); then
    command -v apt-get >/dev/null 2>&1 || die "missing ${!packages[*]} and no apt-get to install them"
    log "installing ${!packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || log "apt-get update failed; trying the install anyway"
    apt-get install -y -qq --no-install-recommends "${!packages[@]}" >/dev/null || die "apt-get install ${!packages[*]} failed"
  fi
  for cmd in "${!want[@]}"; do command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is still missing (package ${want[$cmd]})"; done
}

# The source tree's commit, "-dirty" when src/ has changes.
source_commit() {
  local c
  c=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [[ -z $(git -C "$ROOT" status --porcelain -- src 2>/dev/null) ]] || c+=-dirty
  echo "$c"
}

# Builds src/Shoal in Release into $BENCH_DIR/shoal (its own obj/bin under $BENCH_DIR/artifacts, so
# it never races a build in the source tree) and sets SHOAL.
# SHOAL_COMMIT is the commit the binary was built from (kept beside the build for --no-build).
SHOAL= SHOAL_COMMIT=
build_shoal() {
  local no_build=$1 stamp=$BENCH_DIR/build-commit-${BENCH_BUILD:-isolated}
  if [[ -n ${SHOAL_BIN:-} ]]; then
    [[ -x $SHOAL_BIN ]] || die "SHOAL_BIN=$SHOAL_BIN is not an executable"
    SHOAL=$SHOAL_BIN SHOAL_COMMIT=external
    return
  fi
  SHOAL=$BENCH_DIR/shoal/shoal
  [[ ${BENCH_BUILD:-isolated} != tree ]] || SHOAL=$ROOT/src/Shoal/bin/Release/net10.0/shoal
  if [[ $no_build == 1 ]]; then
    [[ -x $SHOAL ]] || die "--no-build, but there is no $SHOAL yet"
    SHOAL_COMMIT=$(cat "$stamp" 2>/dev/null || echo unknown)
    return
  fi
  SHOAL_COMMIT=$(source_commit)
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK (dotnet) is needed to build Shoal (or set SHOAL_BIN)"
  local cmd
  if [[ ${BENCH_BUILD:-isolated} == tree ]]; then
    # The source tree's own Release output: incremental, so nearly free after a Release build of
    # the solution (CI), but it shares obj/ with any other build of the tree.
    cmd=(dotnet build "$ROOT/src/Shoal/Shoal.csproj" -c Release)
  else
    cmd=("$ROOT/scripts/publish.sh" "$BENCH_DIR/shoal" --artifacts "$BENCH_DIR/artifacts" --)
  fi
  log "building Shoal (Release): ${cmd[*]}"
  : >"$BENCH_DIR/build.log"
  local attempt rc=0
  for attempt in 1 2; do
    rc=0
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 timeout 900 "${cmd[@]}" -nologo -v:q -clp:ErrorsOnly >>"$BENCH_DIR/build.log" 2>&1 || rc=$?
    ((rc != 0)) || break
    # A build racing another one over the same files fails transiently: one more try.
    ((attempt == 2)) || { log "build failed (exit $rc); retrying once"; sleep 5; }
  done
  ((rc == 0)) || { tail -n 30 "$BENCH_DIR/build.log" >&2; die "the build failed with exit $rc (log: $BENCH_DIR/build.log)"; }
  [[ -x $SHOAL ]] || die "the build produced no $SHOAL"
  echo "$SHOAL_COMMIT" >"$stamp"
}

# The configuration keys a component accepts (from its --help, which lists them from the options
# types), so the benchmark configures peer-to-peer only once the build has it.
# Keys are compared in lower case, as .NET configuration binds them.
declare -A KEYS=()
# make_peer_certificate DIR: a throw-away CA (ca.pem) and one certificate every peer presents
# (peer.pem, peer.key; ECDSA P-256, for server and client use).
make_peer_certificate() {
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=shoal bench CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 || die "openssl could not make the CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=shoal bench peer" \
    -keyout "$d/peer.key" -out "$d/peer.csr" >/dev/null 2>&1 || die "openssl could not make the peer key"
  printf 'extendedKeyUsage=serverAuth,clientAuth\n' >"$d/peer.ext"
  openssl x509 -req -in "$d/peer.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/peer.ext" -out "$d/peer.pem" >/dev/null 2>&1 || die "openssl could not sign the peer certificate"
}

has_key() {
  local component=$1 key=${2,,}
  [[ -n ${KEYS[$component]:-} ]] ||
    KEYS[$component]=" $("$SHOAL" "$component" --help 2>/dev/null | awk '$1 ~ /^[a-zA-Z]+:/ { print tolower($1) }' | tr '\n' ' ') "
  [[ ${KEYS[$component]} == *" $key "* ]]
}

# -------------------------------------------------------------------------------------------------
# The emulated network
#
#    h0 (origin)      h1               hN            one namespace per host
#     eth0 [tbf]      eth0 [tbf]  ...  eth0 [tbf]    <- host upload limit
#      |               |                |
#     v0 [tbf]        v1 [tbf]    ...  vN [tbf]      <- host download limit (switch port egress)
#      \_______________|________________/
#                 br0 (namespace <prefix>sw)
#
# Addresses 198.18.0.0/16 (the RFC 2544 benchmarking range), no default route: nothing leaves the
# emulated cluster, and the root namespace's interfaces, routes and sysctls are never touched.
# -------------------------------------------------------------------------------------------------

# shape NS DEV BPS: tbf on DEV's egress. The burst must hold a 64 KiB GSO super-packet (else tbf
# re-segments or drops them): at least 128 KiB, and 10 ms at RATE. The queue is BENCH_QUEUE_MS at
# RATE, at least 256 KiB, like a switch port buffer. (A qdisc on the bridge itself would not
# shape forwarded traffic; shaping the veth ends does.)
shape() {
  local ns=$1 dev=$2 bps=$3 burst limit
  burst=$((bps / 8 / 100)); ((burst >= 131072)) || burst=131072
  limit=$((bps / 8 * QUEUE_MS / 1000)); ((limit >= 262144)) || limit=262144
  ip netns exec "$ns" tc qdisc replace dev "$dev" root tbf rate "${bps}bit" burst "$burst" limit "$limit"
}

our_namespaces() { ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^${PREFIX}(sw|h[0-9]+)$" || true; }

cluster_up() {
  local n=$1 bps=$2 i ns k
  ip netns add "$SW"
  ip netns exec "$SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  # br_netfilter is on by default in every new namespace: bridged frames would go through
  # iptables and conntrack. Off, in the switch namespace only.
  for k in bridge-nf-call-iptables bridge-nf-call-ip6tables bridge-nf-call-arptables; do
    ip netns exec "$SW" sysctl -qw "net.bridge.$k=0" 2>/dev/null || true
  done
  ip -n "$SW" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  ip -n "$SW" link set br0 up
  ip -n "$SW" link set lo up
  for ((i = 0; i <= n; i++)); do
    ns=$(ns_of "$i")
    mkdir -p "$RUN/h$i"
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$SW" link add "v$i" type veth peer name eth0 netns "$ns"
    ip -n "$SW" link set "v$i" master br0 up
    ip -n "$ns" addr add "$(ip_of "$i")/16" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    shape "$ns" eth0 "$bps"        # upload
    shape "$SW" "v$i" "$bps"       # download = what the switch port sends to the host
  done
}

# Kills every process inside namespace NS (only processes the benchmark started can be there):
# TERM, up to 3 s of grace, then KILL.
kill_namespace() {
  local ns=$1 pids i
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -n $pids ]] || return 0
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -n $pids ]] || return 0
    sleep 0.1
  done
  kill -KILL $pids 2>/dev/null || true
}

reset_hosts() {
  local ns
  for ns in $(our_namespaces); do [[ $ns == "$SW" ]] || kill_namespace "$ns"; done
}

cluster_down() {
  local ns list
  list=$(our_namespaces)
  [[ -n $list ]] || return 0
  for ns in $list; do kill_namespace "$ns"; done
  for ns in $list; do [[ $ns == "$SW" ]] || ip netns del "$ns" 2>/dev/null || true; done
  ip netns del "$SW" 2>/dev/null || true
}

# spawn I NAME CMD...: CMD in host I, in the background, bounded by BENCH_MAX_LIFETIME; output in
# $RUN/hI/NAME.log. Sets LAST_PID.
LAST_PID=
spawn() {
  local i=$1 name=$2; shift 2
  # (The daemons must not hold the lock or the sleep pipe: close both for them.)
  ip netns exec "$(ns_of "$i")" timeout -k 5 "$MAX_LIFETIME" "$@" >"$RUN/h$i/$name.log" 2>&1 </dev/null \
    {LOCK_FD}>&- {SLEEP_FD}>&- &
  LAST_PID=$!
}

# wait_http I URL SECS [PID]: polls URL from host I until it answers 200; false after SECS, or as
# soon as process PID (the server) has exited.
wait_http() {
  local i=$1 url=$2 secs=$3 pid=${4:-} code n
  for ((n = 0; n < secs * 5; n++)); do
    code=$(in_host "$i" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)
    [[ $code == 200 ]] && return 0
    [[ -z $pid ]] || kill -0 "$pid" 2>/dev/null || return 1
    nap 0.2
  done
  return 1
}

# Bytes sent so far by the root qdisc of DEV in NS.
qdisc_sent() { ip netns exec "$1" tc -s qdisc show dev "$2" | awk '/Sent/ { print $2; exit }'; }

# -------------------------------------------------------------------------------------------------
# Measuring
# -------------------------------------------------------------------------------------------------

# cpu_sampler FILE SECS: whole-machine busy per mille (all cores together) every 0.5 s, for at most
# SECS seconds. Shell builtins only: a poller that forks costs the machine measurable CPU itself.
cpu_sampler() {
  local out=$1 secs=$2 n k line total idle prev=() cur=()
  read -r line </proc/stat; read -ra prev <<<"$line"
  for ((n = 0; n < secs * 2; n++)); do
    nap 0.5
    read -r line </proc/stat; read -ra cur <<<"$line"
    total=0
    for k in 1 2 3 4 5 6 7 8; do total=$((total + cur[k] - prev[k])); done
    idle=$((cur[4] - prev[4] + cur[5] - prev[5]))
    ((total > 0)) && echo $((1000 * (total - idle) / total)) >>"$out"
    prev=("${cur[@]}")
  done
}
cpu_summary() { awk '{ n++; s += $1; if ($1 > m) m = $1 } END { if (!n) { print "0.0 0.0"; exit } printf "%.1f %.1f\n", s / n / 10, m / 10 }' "$1"; }

SAMPLER_PID=
start_sampler() { : >"$1"; cpu_sampler "$1" "$2" & SAMPLER_PID=$!; }
stop_sampler() {
  [[ -n $SAMPLER_PID ]] || return 0
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=
}

# --link-trace: every host's link, sampled every 50 ms through the timed pull from the switch's side
# (/proc/PID/net/dev of a process in the switch namespace; shell builtins only, no fork per sample):
# a line "EPOCH vI RX TX ..." per sample, vI's RX being what host I uploaded, TX what it downloaded,
# in bytes on the wire. end_timed turns it into rates (link_report).
LINK_PID= LINK_SAMPLER_PID=
start_link_trace() {
  local out=$1 secs=$2
  ((LINK_TRACE)) || return 0
  : >"$out"
  ip netns exec "$SW" sleep "$((secs + 10))" &
  LINK_PID=$!
  link_sampler "$out" "$LINK_PID" "$secs" &
  LINK_SAMPLER_PID=$!
}
stop_link_trace() {
  [[ -n $LINK_SAMPLER_PID ]] || return 0
  kill "$LINK_SAMPLER_PID" "$LINK_PID" 2>/dev/null || true
  wait "$LINK_SAMPLER_PID" "$LINK_PID" 2>/dev/null || true
  LINK_SAMPLER_PID= LINK_PID=
}
link_sampler() {
  local out=$1 src=/proc/$2/net/dev secs=$3 n l line lines=()
  for ((n = 0; n < secs * 20; n++)); do
    mapfile -t lines <"$src" 2>/dev/null || return 0
    # (Until the sleeper has entered the switch namespace its view is the machine's: no vI there.)
    [[ ${lines[*]} == *" v0:"* ]] || { nap 0.01; continue; }
    line=$EPOCHREALTIME
    for l in "${lines[@]:2}"; do
      set -- ${l/:/ }
      [[ $1 == v* ]] && line+=" $1 $2 ${10}"
    done
    echo "$line" >>"$out"
    nap 0.05
  done
}

# piece_report RUNDIR DIGEST [CLOCK]: from the Trace lines of the origin (first sends) and the agents
# (announces answered, peers ready, pieces stored) in RUNDIR's logs, how long the pieces of DIGEST
# took to spread; with CLOCK (the epoch time the clock started) also each node's start-up after it.
# "pieces-behind-origin-at-S" is how many of the pieces the origin had sent a node lacked S seconds
# after the origin's first send ("-at-end": when the origin had sent every piece once): a node
# trails the origin by the origin's rate times the time a piece takes to reach it.
piece_report() {
  local dir=$1 digest=$2 clock=${3:-}
  awk -v digest="$digest" -v clock="$clock" '
    function secs(t,    p) { split(t, p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
    function piece(    i) { i = $0; sub(/.*Piece /, "", i); sub(/ .*/, "", i); return i }
    # first_after_clock(NAME): the first such line of this log, as NAME seconds after the clock (with CLOCK only)
    function first_after_clock(name) { if (c0 && !((FILENAME, name) in seen)) { seen[FILENAME, name] = 1; print name, secs($1) - c0 } }
    BEGIN { if (clock != "") c0 = clock % 86400 }
    index($0, digest) == 0 { next }
    / sent for the first time, to / { first[piece()] = secs($1); if (!t0 || secs($1) < t0) t0 = secs($1); next }
    / answered with / { first_after_clock("start-announce-answered-after-clock-s"); next }
    / \(origin, .* ready in the swarm / { first_after_clock("start-origin-ready-after-clock-s"); next }
    / stored, from / {
      kind = $0; sub(/.*\(/, "", kind); sub(/\).*/, "", kind)
      ms = $0; sub(/.*\), /, "", ms); sub(/ ms.*/, "", ms)
      got[FILENAME, piece()] = secs($1); files[FILENAME] = 1
      first_after_clock("start-first-piece-after-clock-s")
      print "request-to-arrival-ms-from-" kind "s", ms + 0
    }
    END {
      if (!t0) exit
      if (c0) print "start-origin-first-send-after-clock-s", t0 - c0
      for (k in first) if (first[k] - t0 > last) last = first[k] - t0
      print "origin-sent-every-piece-once-after-s", last
      split("0.25 0.5 1 2", at, " "); at[5] = last
      for (f in files) {
        done = 0
        for (k in first) if ((f, k) in got) { print "piece-at-node-after-origin-sent-it-s", got[f, k] - first[k]; if (got[f, k] - t0 > done) done = got[f, k] - t0 }
        print "node-complete-after-origin-first-sent-s", done
        for (j = 1; j <= 5; j++) {
          behind = 0
          for (k in first) if (first[k] - t0 <= at[j] && !((f, k) in got && got[f, k] - t0 <= at[j])) behind++
          print "pieces-behind-origin-at-" (j < 5 ? at[j] "s" : "end"), behind
        }
      }
    }' "$dir"/h0/origin.log "$dir"/h[1-9]*/agent.log |
  sort -k1,1 -k2,2g |
  awk 'function flush() { if (n) printf "%-40s median %8.3f  p90 %8.3f  max %8.3f  (%d)\n", key, v[int(n * .5) + 1], v[int(n * .9) + 1], v[n], n; n = 0 }
       $1 != key { flush(); key = $1 } { v[++n] = $2 } END { flush(); if (!NR) print "(no Trace lines of the engine: Logging__LogLevel__Shoal.P2P.Engine=Trace)" }'
}

# link_report FILE T0 WALL: host 0's upload and the agents' downloads (min / mean / max over the
# hosts) in Mbit/s per quarter second from T0 to WALL, then each host's mean up and down over the
# whole pull: where a link sat idle while others waited.
link_report() {
  awk -v t0="$2" -v wall="$3" -v n="$N" '
    function at(t,    k) { for (k = 1; k < rows && ts[k] < t; k++); return k }
    { ts[++rows] = $1; for (i = 2; i < NF; i += 3) { h = substr($i, 2); up[rows, h] = $(i + 1); dn[rows, h] = $(i + 2) } }
    END {
      if (rows < 2) { print "(no samples)"; exit }
      print "| t s | h0 up Mbit/s | agents down min / mean / max | agents up mean |"
      print "|--:|--:|--:|--:|"
      for (t = 0; t < wall + 0.25; t += 0.25) {
        a = at(t0 + t); b = at(t0 + t + 0.25); dt = ts[b] - ts[a]; if (dt <= 0) continue
        mn = 1e9; mx = 0; sd = 0; su = 0
        for (h = 1; h <= n; h++) {
          d = (dn[b, h] - dn[a, h]) * 8 / dt / 1e6; sd += d; if (d < mn) mn = d; if (d > mx) mx = d
          su += (up[b, h] - up[a, h]) * 8 / dt / 1e6
        }
        printf "| %.2f | %.1f | %.1f / %.1f / %.1f | %.1f |\n", t, (up[b, 0] - up[a, 0]) * 8 / dt / 1e6, mn, sd / n, mx, su / n
      }
      a = at(t0); b = at(t0 + wall); dt = ts[b] - ts[a]
      print ""; print "| host | up Mbit/s | down Mbit/s |"; print "|---|--:|--:|"
      for (h = 0; h <= n; h++)
        printf "| h%d | %.1f | %.1f |\n", h, (up[b, h] - up[a, h]) * 8 / dt / 1e6, (dn[b, h] - dn[a, h]) * 8 / dt / 1e6
    }' "$1"
}

# Machine CPU over 2 s with nothing of ours running -> CPU_BEFORE. Other tenants of the machine
# show up here: above BENCH_IDLE_MAX % wait (at most BENCH_IDLE_WAIT s) for them to calm down.
CPU_BEFORE=0
wait_idle() {
  local n f=$RUN/idle.cpu
  for ((n = 0; n <= IDLE_WAIT / 2; n++)); do
    : >"$f"; cpu_sampler "$f" 2
    CPU_BEFORE=$(cpu_summary "$f" | cut -d' ' -f1)
    awk -v c="$CPU_BEFORE" -v m="$IDLE_MAX" 'BEGIN { exit !(c <= m) }' && return 0
    ((n > 0)) || log "machine is ${CPU_BEFORE}% busy; waiting up to ${IDLE_WAIT}s for it to drop to ${IDLE_MAX}%"
  done
  log "WARNING: machine still ${CPU_BEFORE}% busy; measuring anyway (see cpu_before_pct)"
}

# One line "pid ticks peak_rss_kb comm host" per process in the host namespaces (not the
# `timeout` wrappers).
proc_snapshot() {
  local i p line comm rest hwm key value f=() args=()
  for ((i = 0; i <= N; i++)); do
    for p in $(ip netns pids "$(ns_of "$i")" 2>/dev/null); do
      read -r line 2>/dev/null </proc/"$p"/stat || continue
      comm=${line#*(}; comm=${comm%)*}
      [[ $comm == timeout ]] && continue
      rest=${line##*) }
      read -ra f <<<"$rest"                   # f[0] is field 3 (state): utime is f[11], stime f[12]
      hwm=0
      while read -r key value _; do [[ $key == VmHWM: ]] && { hwm=$value; break; }; done 2>/dev/null </proc/"$p"/status || true
      if [[ $comm == shoal ]]; then                 # name it by component: shoal-agent, ...
        mapfile -d '' -t args 2>/dev/null </proc/"$p"/cmdline || args=()
        comm+=-${args[1]:-?}
      fi
      echo "$p $((f[11] + f[12])) $hwm ${comm// /_} h$i"
    done
  done
}

# proc_usage BEFORE AFTER -> "cpu_seconds peak_rss_kb" of the processes alive at AFTER, counting
# only CPU spent since BEFORE.
proc_usage() {
  awk -v hz="$(getconf CLK_TCK)" 'FNR == NR { before[$1] = $2; next }
    { cpu += $2 - before[$1]; if ($3 > rss) rss = $3 }
    END { printf "%.2f %d\n", cpu / hz, rss }' "$1" "$2"
}

# proc_breakdown BEFORE AFTER -> "h0/shoal=0.95s h1/shoal=2.50s ...": CPU since BEFORE per process.
proc_breakdown() {
  awk -v hz="$(getconf CLK_TCK)" 'FNR == NR { before[$1] = $2; next }
    { printf "%s%s/%s=%.2fs", sep, $5, $4, ($2 - before[$1]) / hz; sep = " " } END { print "" }' "$1" "$2"
}

# Sums the children's user+sys times of the `times` outputs given as files ("0m1.234s 0m0.5s").
times_sum() {
  awk 'FNR == 2 { for (k = 1; k <= 2; k++) { split($k, a, /[ms]/); s += a[1] * 60 + a[2] } } END { printf "%.2f\n", s }' "$@" /dev/null
}

# "min median max" of the numbers on stdin (NaN NaN NaN when none).
stats() {
  sort -g | awk '{ a[NR] = $1 } END { if (!NR) { print "NaN NaN NaN"; exit }
    printf "%.3f %.3f %.3f\n", a[1], (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2), a[NR] }'
}

# await_copies FILES...: waits (30 s in all) for FILES to exist, except *.missing. An agent commits
# a download to its store just after its client has the last byte (the whole-blob digest is checked
# before that byte goes out, the commit's fsync after it), so its copy may not be there yet when the
# clock stops; call this before the processes are stopped.
await_copies() {
  local f n=0
  for f in "$@"; do
    while [[ ! -e $f && $f != *.missing ]] && ((n++ < 300)); do nap 0.1; done
  done
}

# How many of FILES... are complete, correct copies of the blob.
verify_copies() {
  local ok=0 f
  for f in "$@"; do
    [[ -f $f && $(stat -c %s "$f") == "$SIZE" ]] || continue
    [[ $(sha256sum "$f" | cut -d' ' -f1) == "$BLOB_SHA" ]] && ok=$((ok + 1))
  done
  echo "$ok"
}

# -------------------------------------------------------------------------------------------------
# The blob, its image and pushing it
# -------------------------------------------------------------------------------------------------
BLOB= BLOB_SHA= CONFIG= CONFIG_SHA= MANIFEST= WARM= WARM_SHA=
prepare_blob() {
  local cache=$BENCH_DIR/blobs
  mkdir -p "$cache"
  # The warm-up blob: a different random blob that every agent pulls through the swarm before the
  # timed run, so the measured agents are like long-running ones (code compiled, pools filled).
  WARM=$cache/warm-$WARM_SIZE
  if [[ ! -f $WARM || ! -s $WARM.sha256 ]]; then
    head -c "$WARM_SIZE" /dev/urandom >"$WARM.tmp"
    sha256sum "$WARM.tmp" | cut -d' ' -f1 >"$WARM.sha256.tmp"
    mv "$WARM.tmp" "$WARM"; mv "$WARM.sha256.tmp" "$WARM.sha256"
  fi
  WARM_SHA=$(<"$WARM.sha256")
  BLOB=$cache/blob-$SIZE
  if [[ ! -f $BLOB || ! -s $BLOB.sha256 ]]; then
    log "creating a random blob of $SIZE bytes"
    head -c "$SIZE" /dev/urandom >"$BLOB.tmp"
    sha256sum "$BLOB.tmp" | cut -d' ' -f1 >"$BLOB.sha256.tmp"
    mv "$BLOB.tmp" "$BLOB"; mv "$BLOB.sha256.tmp" "$BLOB.sha256"
  fi
  BLOB_SHA=$(<"$BLOB.sha256")
  # A one-layer OCI image around it: the layer is an uncompressed "tar", so its diff id is its digest.
  CONFIG=$cache/config-$SIZE.json
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$BLOB_SHA" >"$CONFIG"
  CONFIG_SHA=$(sha256sum "$CONFIG" | cut -d' ' -f1)
  MANIFEST=$cache/manifest-$SIZE.json
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
    "$CONFIG_SHA" "$(stat -c %s "$CONFIG")" "$BLOB_SHA" "$SIZE" >"$MANIFEST"
}

# push_blob BASE FILE SHA: the registry upload flow from h0: POST starts a session, PUT ?digest=
# sends the bytes and commits.
push_blob() {
  local base=$1 file=$2 sha=$3 location sep code
  location=$(in_host 0 curl -sS --max-time 30 -X POST -o /dev/null -D - "$base/v2/$REPO/blobs/uploads/" |
    awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
  [[ -n $location ]] || die "upload POST to $base gave no Location"
  [[ $location == http* ]] || location=$base$location
  sep='?'; [[ $location == *\?* ]] && sep='&'
  code=$(in_host 0 curl -sS --max-time 600 -o "$RUN/push.out" -w '%{http_code}' -X PUT \
    -H 'Content-Type: application/octet-stream' -T "$file" "$location${sep}digest=sha256:$sha")
  [[ $code == 201 ]] || die "upload PUT to $base answered $code: $(head -c 300 "$RUN/push.out")"
}

# push_image BASE: the blob, the config and the manifest, tagged $TAG.
push_image() {
  local base=$1 code
  push_blob "$base" "$BLOB" "$BLOB_SHA"
  push_blob "$base" "$CONFIG" "$CONFIG_SHA"
  code=$(in_host 0 curl -sS --max-time 30 -o "$RUN/push.out" -w '%{http_code}' -X PUT \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$MANIFEST" "$base/v2/$REPO/manifests/$TAG")
  [[ $code == 201 ]] || die "manifest PUT to $base answered $code: $(head -c 300 "$RUN/push.out")"
}

# -------------------------------------------------------------------------------------------------
# One timed distribution, and its result row
# -------------------------------------------------------------------------------------------------
declare -a TABLE=()
FAILED=0

# Bytes every host has sent on the wire so far: "h0 h1 ... hN".
uploads() {
  local i out=()
  for ((i = 0; i <= N; i++)); do out+=("$(qdisc_sent "$(ns_of "$i")" eth0)"); done
  echo "${out[*]}"
}

# Per-run measurements, set by begin_timed / end_timed.
T0= T1= UPLOADS0=
begin_timed() {
  local name=$1
  wait_idle
  proc_snapshot >"$RUN/$name.procs0"
  UPLOADS0=$(uploads)
  start_sampler "$RUN/$name.cpu" "$TIMEOUT"
  start_link_trace "$RUN/$name.links" "$TIMEOUT"
  T0=$EPOCHREALTIME
}

# end_timed NAME SYSTEM ENGINE METHOD_BOUND_S PIECE_BYTES NOTES FILES...: collects everything and
# emits the row. Completion times come from $RUN/hI/NAME.done (epoch seconds).
end_timed() {
  local name=$1 system=$2 engine=$3 method_bound=$4 piece=$5 notes=$6; shift 6
  local egress peers cpu_avg cpu_max proc_cpu rss client_cpu st first median last i ok wall bound copies row commit
  T1=$EPOCHREALTIME
  # h0's upload is the origin's egress; h1..hN's uploads are what the hosts served each other.
  read -r egress peers < <(awk -v a="$UPLOADS0" -v b="$(uploads)" \
    'BEGIN { n = split(a, x, " "); split(b, y, " "); for (k = 2; k <= n; k++) p += y[k] - x[k]; printf "%.0f %.0f\n", y[1] - x[1], p }')
  stop_sampler
  stop_link_trace
  proc_snapshot >"$RUN/$name.procs1"
  read -r proc_cpu rss < <(proc_usage "$RUN/$name.procs0" "$RUN/$name.procs1")
  read -r cpu_avg cpu_max < <(cpu_summary "$RUN/$name.cpu")
  log "$system: CPU by process: $(proc_breakdown "$RUN/$name.procs0" "$RUN/$name.procs1")"
  await_copies "$@"
  reset_hosts
  client_cpu=$(times_sum "$RUN"/h*/"$name".times)
  st=$(for ((i = 1; i <= N; i++)); do
         if [[ -s $RUN/h$i/$name.done ]]; then calc "$(<"$RUN/h$i/$name.done") - $T0"; echo; fi
       done | stats)
  read -r first median last <<<"$st"
  ok=$(verify_copies "$@")
  if [[ $last == NaN || $ok -lt $N ]]; then
    wall=$(calc "$T1 - $T0")
    notes="INCOMPLETE($ok/$N within ${TIMEOUT}s)${notes:+;$notes}"
    FAILED=1
  else
    wall=$last
  fi
  if ((LINK_TRACE)); then
    link_report "$RUN/$name.links" "$T0" "$wall" >"$RUN/$system.links.md"
    log "$system: link trace in $RUN/$system.links.md"
  fi
  bound=$(calc "$SIZE * 8 / $BPS")
  copies=$(calc "$egress / $SIZE")
  # Shoal rows name the commit the measured binary was built from; the others the tree's.
  if [[ $system == shoal ]]; then commit=$SHOAL_COMMIT; else commit=$(source_commit); fi
  row="$(printf '%(%Y-%m-%dT%H:%M:%S%z)T' -1),$commit,$system,$engine,$N,$RATE,$SIZE,$wall,$first,$median,$bound,$(calc "$wall / $bound"),$method_bound,$(calc "$wall / $method_bound"),$ok,$egress,$copies,$peers,$cpu_avg,$cpu_max,$CPU_BEFORE,$proc_cpu,$client_cpu,$rss,$piece,${notes//,/;}"
  echo "$row" >>"$RESULTS"
  TABLE+=("$row")
  log "$system: last host after ${wall}s (S/RATE ${bound}s, x$(calc "$wall / $bound")), $ok/$N verified, h0 sent $copies× the blob (the hosts $(calc "$peers / $SIZE")×), CPU avg/max ${cpu_avg}/${cpu_max}%"
  for f in "$@"; do rm -f "$f"; done
}

# Every host's client starts at the same moment, and starting it is not timed. Creating a process
# tree per host (a subshell, `ip netns exec`, `timeout`) costs this machine milliseconds of CPU each:
# 16-32 of them right after T0 took about a second of CPU from every system's first second. The
# client's own exec and dynamic linking cost more of the same: curl, with its 30-odd libraries,
# reached the agent 0.13 s after T0 at 8 hosts. So each client is started before the clock starts
# with what it is to fetch left out: it blocks opening a named pipe (hI/NAME.go), from which it then
# reads it (curl: a config file holding the URL; aria2c: an input file naming the torrent). Right
# after T0 every pipe is written: only the request and the work are timed, as for a container
# runtime that is already running when it pulls.
#
# "${GATED[@]}" PIDFILE CMD...: writes its pid to PIDFILE and execs CMD (the pid stays the client's).
GATED=(bash -c 'echo $$ >"$0"; exec "$@"')

# gate NAME I: a fresh pipe hI/NAME.go for host I's client, printed.
gate() { local f=$RUN/h$2/$1.go; rm -f "$f"; mkfifo "$f"; echo "$f"; }

# gated_ready NAME: true once every host's client (pid in hI/NAME.pid) is blocked opening its pipe
# (the kernel's wait channel for that is wait_for_partner); false after 60 s.
gated_ready() {
  local name=$1 i n pid wchan
  for ((n = 0; n < 600; n++)); do
    for ((i = 1; i <= N; i++)); do
      [[ -s $RUN/h$i/$name.pid ]] && read -r pid <"$RUN/h$i/$name.pid" || break
      wchan=
      read -r wchan 2>/dev/null <"/proc/$pid/wchan" # (no newline at its end: read's status says nothing)
      [[ $wchan == wait_for_partner ]] || break
    done
    ((i > N)) && return 0
    nap 0.1
  done
  return 1
}

# open_gates NAME LINES...: writes LINES[I-1] into host I's pipe, for every host, with builtins only.
# Opening a pipe read-write never blocks; the waiting client's open completes, it reads the line,
# and sees the end of its input when the harness closes its end.
open_gates() {
  local name=$1 i; shift
  for ((i = 1; i <= N; i++)); do printf '%s\n' "${!i}" 1<>"$RUN/h$i/$name.go" || true; done
}

# http_pulls NAME URL_OF [SINK]: every host h1..hN GETs the blob at once with curl (URL_OF I prints
# host I's URL), writing it to a file (SINK "file", the default; PULL_FILES lists them) or counting
# its bytes only (SINK "discard": the copy the host keeps is elsewhere, the caller verifies it).
# Completion (HTTP 200 and SIZE bytes) stamped in hI/NAME.done, curl's CPU in hI/NAME.times.
PULL_FILES=()
http_pulls() {
  local name=$1 url_of=$2 sink=${3:-file} i pids=() urls=() go out
  PULL_FILES=()
  for ((i = 1; i <= N; i++)); do
    rm -f "$RUN/h$i/$name".{blob,done,times,err,pid}
    [[ $sink == discard ]] || PULL_FILES+=("$RUN/h$i/$name.blob")
    urls+=("url = \"$($url_of "$i")\"")
  done
  for ((i = 1; i <= N; i++)); do
    go=$(gate "$name" "$i")
    out=$RUN/h$i/$name.blob
    [[ $sink == discard ]] && out=/dev/null
    (
      got=$(in_host "$i" timeout -k 5 $((TIMEOUT + 70)) "${GATED[@]}" "$RUN/h$i/$name.pid" curl -sS --max-time "$TIMEOUT" \
        -o "$out" -w '%{http_code} %{size_download}' -K "$go" 2>"$RUN/h$i/$name.err") || true
      [[ $got == "200 $SIZE" ]] && echo "$EPOCHREALTIME" >"$RUN/h$i/$name.done"
      [[ $got == "200 $SIZE" ]] || echo "HTTP status and bytes: $got" >>"$RUN/h$i/$name.err"
      times >"$RUN/h$i/$name.times"
    ) &
    pids+=($!)
  done
  CHILDREN=("${pids[@]}")
  gated_ready "$name" || die "$name: the clients did not all start within 60 s"
  begin_timed "$name"
  open_gates "$name" "${urls[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  CHILDREN=()
}

# -------------------------------------------------------------------------------------------------
# The systems
# -------------------------------------------------------------------------------------------------

# Shoal: build-index, origin, tracker and proxy on h0; agents on h1..hN.
bench_shoal() {
  local mode=$1 a0 dir i ai engine=http-origin p2p=0 origin_p2p=0
  a0=$(ip_of 0)
  reset_hosts
  dir=$RUN/shoal; rm -rf "$dir"; mkdir -p "$dir"
  # Peer-to-peer is configured when this build of Shoal has it. It needs the agents to know the
  # tracker; without one they download from the origins over HTTP (mode "http": the shoal-http
  # system, a control).
  if [[ $mode == auto ]] && has_key agent agent:p2p:listen:port; then p2p=1; engine=p2p; fi
  has_key origin origin:p2p:listen:port && origin_p2p=1

  cat >"$dir/build-index.yaml" <<EOF
buildIndex:
  listen: {address: $a0, port: $BUILD_INDEX_PORT}
  dataDir: $dir/build-index
EOF
  cat >"$dir/origin.yaml" <<EOF
origin:
  listen: {address: $a0, port: $ORIGIN_PORT}
  dataDir: $dir/origin
EOF
  local tls=
  if ((P2P_TLS)); then
    has_key agent agent:p2p:tls:mode || die "--p2p-tls: this build of shoal has no p2p:tls"
    make_peer_certificate "$dir/tls"
    tls="    tls: {mode: strict, certificate: $dir/tls/peer.pem, key: $dir/tls/peer.key, caCertificate: $dir/tls/ca.pem}"
  fi
  if ((origin_p2p)); then
    printf '  p2p:\n    listen: {address: %s, port: %d}\n' "$a0" "$ORIGIN_P2P_PORT" >>"$dir/origin.yaml"
    has_key origin origin:p2p:advertiseAddress && printf '    advertiseAddress: %s\n' "$a0" >>"$dir/origin.yaml"
    [[ -z $tls ]] || printf '%s\n' "$tls" >>"$dir/origin.yaml"
  fi
  cat >"$dir/tracker.yaml" <<EOF
tracker:
  listen: {address: $a0, port: $TRACKER_PORT}
  origins: [http://$a0:$ORIGIN_PORT]
  replicas: 1
EOF
  cat >"$dir/proxy.yaml" <<EOF
proxy:
  listen: {address: $a0, port: $PROXY_PORT}
  dataDir: $dir/proxy
  origins: [http://$a0:$ORIGIN_PORT]
  replicas: 1
  buildIndex: http://$a0:$BUILD_INDEX_PORT
EOF
  for ((i = 1; i <= N; i++)); do
    ai=$(ip_of "$i")
    cat >"$dir/agent-$i.yaml" <<EOF
agent:
  listen: {address: $ai, port: $AGENT_PORT}
  dataDir: $dir/agent-$i
  buildIndex: http://$a0:$BUILD_INDEX_PORT
  origins: [http://$a0:$ORIGIN_PORT]
  replicas: 1
EOF
    if [[ $mode == auto ]]; then printf '  tracker: http://%s:%d\n' "$a0" "$TRACKER_PORT" >>"$dir/agent-$i.yaml"; fi
    if ((p2p)); then
      printf '  p2p:\n    listen: {address: %s, port: %d}\n' "$ai" "$AGENT_P2P_PORT" >>"$dir/agent-$i.yaml"
      has_key agent agent:p2p:advertiseAddress && printf '    advertiseAddress: %s\n' "$ai" >>"$dir/agent-$i.yaml"
      [[ -z $tls ]] || printf '%s\n' "$tls" >>"$dir/agent-$i.yaml"
    fi
  done

  local -A pid=() port=([build-index]=$BUILD_INDEX_PORT [origin]=$ORIGIN_PORT [tracker]=$TRACKER_PORT [proxy]=$PROXY_PORT)
  local svc extra trace=()
  # --piece-trace: the engine's Trace lines (a line per piece stored, per first send by the origin)
  ((PIECE_TRACE)) && trace=(env 'Logging__LogLevel__Shoal.P2P.Engine=Trace')
  for svc in build-index origin tracker proxy; do
    extra=BENCH_${svc^^}_ARGS; extra=${extra//-/_}
    # shellcheck disable=SC2086 # the extra arguments are meant to be split
    spawn 0 "$svc" "${trace[@]}" "$SHOAL" "$svc" --config "$dir/$svc.yaml" ${!extra:-}
    pid[$svc]=$LAST_PID
  done
  for svc in build-index origin tracker proxy; do
    wait_http 0 "http://$a0:${port[$svc]}/readiness" 60 "${pid[$svc]}" ||
      die "shoal $svc on h0 is not ready (log $RUN/h0/$svc.log): $(tail -n 5 "$RUN/h0/$svc.log" 2>/dev/null)"
  done
  log "shoal: pushing $SIZE bytes through the proxy"
  push_image "http://$a0:$PROXY_PORT"
  ((WARM_SIZE == 0)) || push_blob "http://$a0:$PROXY_PORT" "$WARM" "$WARM_SHA"

  local agents=()
  for ((i = 1; i <= N; i++)); do
    # shellcheck disable=SC2086
    spawn "$i" agent "${trace[@]}" "$SHOAL" agent --config "$dir/agent-$i.yaml" ${BENCH_AGENT_ARGS:-}
    agents[i]=$LAST_PID
  done
  for ((i = 1; i <= N; i++)); do
    wait_http "$i" "http://$(ip_of "$i"):$AGENT_PORT/readiness" 90 "${agents[i]}" ||
      die "shoal agent on h$i is not ready (log $RUN/h$i/agent.log): $(tail -n 5 "$RUN/h$i/agent.log" 2>/dev/null)"
  done
  # Warm-up (untimed): a long-running agent has its code paths compiled, so each pulls the image's
  # manifest and its small config blob first. If h1 cannot, the chain is broken: stop. A later
  # host that cannot is a result (noted in the row), not a harness failure.
  local warm_failed=() what
  for ((i = 1; i <= N; i++)); do
    ai=$(ip_of "$i")
    what=
    in_host "$i" curl -fsS --max-time 30 -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
      "http://$ai:$AGENT_PORT/v2/$REPO/manifests/$TAG" || what=manifest
    [[ -n $what ]] || in_host "$i" curl -fsS --max-time 30 -o /dev/null \
      "http://$ai:$AGENT_PORT/v2/$REPO/blobs/sha256:$CONFIG_SHA" || what="config blob"
    [[ -n $what ]] || continue
    ((i > 1)) || die "warm-up: agent h1 cannot serve the $what (logs in $RUN/h0, $RUN/h1)"
    log "WARNING: warm-up: agent h$i cannot serve the $what within 30 s (log $RUN/h$i/agent.log)"
    warm_failed+=("h$i")
  done
  # Then every agent pulls the warm-up blob at once, through the swarm, untimed.
  if ((WARM_SIZE > 0)); then
    local warm_pids=()
    for ((i = 1; i <= N; i++)); do
      ai=$(ip_of "$i")
      in_host "$i" curl -fsS --max-time 120 -o /dev/null "http://$ai:$AGENT_PORT/v2/$REPO/blobs/sha256:$WARM_SHA" &
      warm_pids+=($!)
    done
    for ((i = 1; i <= N; i++)); do
      wait "${warm_pids[i - 1]}" || { log "WARNING: warm-up: agent h$i could not pull the warm-up blob"; warm_failed+=("h$i"); }
    done
  fi
  local notes=${NOTES:-} var
  ((${#warm_failed[@]} == 0)) || notes+="${notes:+;}warm-up failed on ${warm_failed[*]}"
  for var in BENCH_BUILD_INDEX_ARGS BENCH_ORIGIN_ARGS BENCH_TRACKER_ARGS BENCH_PROXY_ARGS BENCH_AGENT_ARGS; do
    [[ -z ${!var:-} ]] || notes+="${notes:+;}${!var}"     # non-default settings travel with the row
  done

  log "shoal ($engine): $N hosts pulling from their agents (timeout ${TIMEOUT}s)"
  if ((P2P_TLS)); then
    notes+="${notes:+;}p2p tls"
  fi
  if ((CLIENT_COPY)); then
    http_pulls shoal shoal_url file
    notes+="${notes:+;}client copy"
  else
    http_pulls shoal shoal_url discard
    agent_copies "$dir"
  fi
  # Over HTTP every byte comes from h0's one link (N·S/RATE); a swarm could do S/RATE.
  local method_bound
  if ((p2p)); then method_bound=$(calc "$SIZE * 8 / $BPS"); else method_bound=$(calc "$N * $SIZE * 8 / $BPS"); fi
  ((PIECE_TRACE)) && notes+="${notes:+;}piece trace"
  end_timed shoal shoal "$engine" "$method_bound" "$(shoal_piece_length)" "$notes" "${PULL_FILES[@]}"
  if ((PIECE_TRACE)); then
    piece_report "$RUN" "sha256:$BLOB_SHA" "$T0" >"$RUN/shoal.pieces.txt"
    log "shoal: how the pieces spread (seconds; $RUN/shoal.pieces.txt):"
    sed 's/^/  /' "$RUN/shoal.pieces.txt" >&2
  fi
}
shoal_url() { echo "http://$(ip_of "$1"):$AGENT_PORT/v2/$REPO/blobs/sha256:$BLOB_SHA"; }

# agent_copies DIR: PULL_FILES becomes each host's copy, the blob in its agent's store
# (DIR/agent-I/blobs/sha256/<aa>/<bb>/<hex>/data), for the hosts whose client read all of it (the others
# get a path that does not exist, and fail verification).
agent_copies() {
  local dir=$1 i
  PULL_FILES=()
  for ((i = 1; i <= N; i++)); do
    if [[ -s $RUN/h$i/shoal.done ]]; then
      PULL_FILES+=("$dir/agent-$i/blobs/sha256/${BLOB_SHA:0:2}/${BLOB_SHA:2:2}/$BLOB_SHA/data")
    else
      PULL_FILES+=("$RUN/h$i/shoal.missing")
    fi
  done
}

# Shoal's piece length for SIZE (Core's PieceLengthPolicy: about 2048 pieces, a power of two
# between 64 KiB and 16 MiB).
shoal_piece_length() {
  local wanted=$((SIZE / 2048)) p=1
  ((wanted >= 1)) || wanted=1
  while ((p < wanted)); do p=$((p * 2)); done
  ((p >= 65536)) || p=65536
  ((p <= 16777216)) || p=16777216
  echo "$p"
}

# Baseline 1: every host pulls from one docker-registry on h0; its upload link is the bottleneck.
bench_direct() {
  local dir a0
  a0=$(ip_of 0)
  reset_hosts
  dir=$RUN/registry; rm -rf "$dir"; mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  cache:
    blobdescriptor: inmemory
http:
  addr: $a0:$REGISTRY_PORT
EOF
  spawn 0 registry docker-registry serve "$dir/config.yml"
  wait_http 0 "http://$a0:$REGISTRY_PORT/v2/" 30 "$LAST_PID" || die "docker-registry on h0 did not start: $(tail -n 5 "$RUN/h0/registry.log")"
  push_image "http://$a0:$REGISTRY_PORT"
  log "direct: $N hosts pulling from docker-registry on h0 (timeout ${TIMEOUT}s)"
  http_pulls direct direct_url
  end_timed direct direct docker-registry "$(calc "$N * $SIZE * 8 / $BPS")" "" "${NOTES:-}" "${PULL_FILES[@]}"
}
direct_url() { echo "http://$(ip_of 0):$REGISTRY_PORT/v2/$REPO/blobs/sha256:$BLOB_SHA"; }

# Baseline 2: BitTorrent (opentracker + aria2c; DHT, PEX and LPD off, so only the tracker).
ARIA=(--no-conf=true --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false
  --disable-ipv6=true --listen-port=$BT_PEER_PORT --bt-tracker-interval=5 --file-allocation=none
  --auto-file-renaming=false --allow-overwrite=true --seed-ratio=0.0 --seed-time=60 --max-overall-upload-limit=0
  --bt-max-peers=0 --summary-interval=0 --console-log-level=warn --show-console-readout=false
  --bt-save-metadata=false --check-integrity=false)

bench_bt() {
  local a0 piece_log2 piece torrent hash dir i files=() torrents=() deadline done_n peers
  a0=$(ip_of 0)
  reset_hosts
  piece=$(shoal_piece_length)
  piece_log2=${BENCH_PIECE_LOG2:-}
  if [[ -z $piece_log2 ]]; then piece_log2=0; while (((1 << piece_log2) < piece)); do piece_log2=$((piece_log2 + 1)); done; fi
  piece=$((1 << piece_log2))
  torrent=$BENCH_DIR/blobs/blob-$SIZE.p$piece_log2.torrent
  if [[ ! -s $torrent ]]; then
    mktorrent -l "$piece_log2" -a "http://$a0:$BT_TRACKER_PORT/announce" -o "$torrent.tmp" "$BLOB" >/dev/null
    mv "$torrent.tmp" "$torrent"
  fi
  hash=$(aria2c -S "$torrent" | awk -F': ' '/^Info Hash/ { print $2 }')
  [[ ${#hash} == 40 ]] || die "cannot read the info hash of $torrent"

  # Debian's opentracker only tracks whitelisted info hashes, refuses to run as root (-u), and
  # chroots into -d: the whitelist path in its config is relative to that directory. -A lets h0
  # read /stats.
  dir=$RUN/bt; rm -rf "$dir"; mkdir -p "$dir/tracker" "$dir/seed"
  echo "$hash" >"$dir/tracker/whitelist.txt"
  echo 'access.whitelist /whitelist.txt' >"$dir/tracker/opentracker.conf"
  spawn 0 bt-tracker opentracker -f "$dir/tracker/opentracker.conf" -i "$a0" -p "$BT_TRACKER_PORT" -P "$BT_TRACKER_PORT" \
    -u nobody -d "$dir/tracker" -A "$a0"
  # aria2c runs the hook when a download completes (and keeps seeding).
  # (bash's clock, not date: one process started per completion, not two.)
  printf '#!/bin/bash\necho "$EPOCHREALTIME" >"$BENCH_DONE_FILE"\n' >"$dir/done-hook.sh"; chmod +x "$dir/done-hook.sh"
  ln -f "$BLOB" "$dir/seed/$(basename "$BLOB")" 2>/dev/null || cp "$BLOB" "$dir/seed/$(basename "$BLOB")"
  spawn 0 bt-seeder aria2c "${ARIA[@]}" --bt-seed-unverified=true --dir="$dir/seed" "$torrent"
  peers=0
  for ((i = 0; i < 100; i++)); do
    peers=$(in_host 0 curl -s --max-time 2 "http://$a0:$BT_TRACKER_PORT/stats?mode=peer" 2>/dev/null | head -n 1 || true)
    [[ $peers =~ ^[1-9] ]] && break
    nap 0.1
  done
  [[ $peers =~ ^[1-9] ]] || die "the aria2c seeder never registered with opentracker (logs in $RUN/h0/bt-*.log)"
  for ((i = 1; i <= N; i++)); do
    rm -rf "$RUN/h$i/bt" "$RUN/h$i/bt.done"; mkdir -p "$RUN/h$i/bt"
    files+=("$RUN/h$i/bt/$(basename "$BLOB")")
  done

  log "bt: $N aria2c leechers, piece 2^$piece_log2 (timeout ${TIMEOUT}s)"
  for ((i = 1; i <= N; i++)); do
    rm -f "$RUN/h$i/bt.pid"
    torrents+=("$torrent")
    spawn "$i" bt-leecher "${GATED[@]}" "$RUN/h$i/bt.pid" env BENCH_DONE_FILE="$RUN/h$i/bt.done" aria2c "${ARIA[@]}" \
      --dir="$RUN/h$i/bt" --on-bt-download-complete="$dir/done-hook.sh" --input-file="$(gate bt "$i")"
  done
  gated_ready bt || die "bt: the leechers did not all start within 60 s"
  begin_timed bt
  open_gates bt "${torrents[@]}"
  # Leechers keep seeding after completing: poll the hook's files, with builtins only, until all
  # are there or the timeout.
  deadline=$((${T0%.*} + TIMEOUT))
  while ((${EPOCHREALTIME%.*} < deadline)); do
    done_n=0
    for ((i = 1; i <= N; i++)); do [[ -e $RUN/h$i/bt.done ]] && done_n=$((done_n + 1)); done
    ((done_n < N)) || break
    nap 0.05
  done
  end_timed bt bt aria2c "$(calc "$SIZE * 8 / $BPS")" "$piece" "${NOTES:-}" "${files[@]}"
  for ((i = 1; i <= N; i++)); do rm -rf "$RUN/h$i/bt"; done
}

# -------------------------------------------------------------------------------------------------
# Output
# -------------------------------------------------------------------------------------------------
markdown() {   # CSV rows (with header) on stdin -> markdown table
  awk -F, 'NR == 1 { for (k = 1; k <= NF; k++) c[$k] = k
      print "| system | engine | N | rate | S MiB | wall s | first s | median s | S/RATE s | wall/(S/RATE) | ok | h0 sent (× S) | hosts sent (× S) | CPU avg/max % | CPU before % | procs CPU-s | client CPU-s | peak RSS MiB |"
      print "|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"; next }
    { printf "| %s | %s | %s | %s | %g | %.1f | %.1f | %.1f | %.2f | %.2f | %s/%s | %.2f | %.2f | %s / %s | %s | %s | %s | %.0f |\n",
        $c["system"], $c["engine"], $c["n"], $c["rate"], $c["size_bytes"] / 1048576, $c["wall_s"], $c["first_s"], $c["median_s"],
        $c["bound_s"], $c["ratio"], $c["ok"], $c["n"], $c["origin_copies"], $c["peer_egress_bytes"] / $c["size_bytes"], $c["cpu_avg_pct"], $c["cpu_max_pct"],
        $c["cpu_before_pct"], $c["proc_cpu_s"], $c["client_cpu_s"], $c["proc_max_rss_kb"] / 1024 }'
}

# -------------------------------------------------------------------------------------------------
# Main
# -------------------------------------------------------------------------------------------------
usage() { sed -n '3,/^# =====/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-2}"; }

CHILDREN=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_sampler
  ((${#CHILDREN[@]} == 0)) || kill "${CHILDREN[@]}" 2>/dev/null || true
  cluster_down
  exit "$rc"
}

main() {
  if [[ ${1:-} == report ]]; then
    local csv=${2:-$RESULTS}
    [[ -s $csv ]] || die "no results in $csv"
    markdown <"$csv"
    exit 0
  fi
  [[ ${1:-} == -h || ${1:-} == --help ]] && usage 0
  (($# >= 3)) || usage 2
  N=$1 RATE=$2
  local size_arg=$3; shift 3
  local systems="shoal direct bt" no_build=0 s
  TIMEOUT= NOTES= CLIENT_COPY=0 P2P_TLS=0 LINK_TRACE=0 PIECE_TRACE=0
  while (($#)); do
    case $1 in
      --systems) systems=${2:?--systems needs a list}; shift 2 ;;
      --results) RESULTS=${2:?--results needs a file}; shift 2 ;;
      --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
      --notes) NOTES=${2:?--notes needs text}; shift 2 ;;
      --no-build) no_build=1; shift ;;
      --client-copy) CLIENT_COPY=1; shift ;;
      --p2p-tls) P2P_TLS=1; shift ;;
      --link-trace) LINK_TRACE=1; shift ;;
      --piece-trace) PIECE_TRACE=1; shift ;;
      --agent-args) BENCH_AGENT_ARGS="${BENCH_AGENT_ARGS:+$BENCH_AGENT_ARGS }${2:?}"; shift 2 ;;
      --origin-args) BENCH_ORIGIN_ARGS="${BENCH_ORIGIN_ARGS:+$BENCH_ORIGIN_ARGS }${2:?}"; shift 2 ;;
      -h | --help) usage 0 ;;
      *) die "unknown option '$1' (see --help)" ;;
    esac
  done
  [[ $N =~ ^[0-9]+$ ]] && ((N >= 1 && N <= 200)) || die "N must be 1..200"
  BPS=$(parse_rate "$RATE")
  SIZE=$(parse_size "$size_arg")
  ((SIZE > 0)) || die "SIZE must be positive"
  [[ $WARM_SIZE == 0 ]] || WARM_SIZE=$(parse_size "$WARM_SIZE")
  for s in $systems; do [[ $s =~ ^(shoal|shoal-http|direct|bt)$ ]] || die "unknown system '$s' (shoal, shoal-http, direct, bt)"; done
  [[ -n $TIMEOUT ]] || TIMEOUT=$(awk -v n="$N" -v s="$SIZE" -v b="$BPS" 'BEGIN { printf "%d", 4 * n * s * 8 / b + 60 }')
  [[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds"
  (($(id -u) == 0)) || die "must run as root (network namespaces and tc)"

  mkdir -p "$BENCH_DIR" "$RUN"
  exec {SLEEP_FD}<> <(:)
  # One run per namespace prefix on the whole machine (whatever its BENCH_DIR): a second run would
  # take the first one's namespaces for leftovers and delete them.
  local lock=${TMPDIR:-/tmp}/shoal-bench-$PREFIX.lock
  exec {LOCK_FD}>"$lock"
  flock -n "$LOCK_FD" || die "another benchmark with namespace prefix '$PREFIX' is running (it holds $lock); set BENCH_PREFIX to run beside it"
  if [[ -s $RESULTS ]]; then
    [[ $(head -n 1 "$RESULTS") == "$CSV_HEADER" ]] || die "$RESULTS has other columns; move it away first"
  else
    mkdir -p "$(dirname "$RESULTS")"; echo "$CSV_HEADER" >"$RESULTS"
  fi

  ensure_tools $systems
  [[ " $systems " == *" shoal"* ]] && build_shoal "$no_build"
  if [[ " $systems " == *" shoal"* || " $systems " == *" bt "* ]] && ((N * BPS > CPU_CEILING_BPS)); then
    log "WARNING: N×RATE = $(calc "$N * $BPS / 1e9") Gbit/s is above what this machine forwards with CPU to spare" \
      "(~$(calc "$CPU_CEILING_BPS / 1e9") Gbit/s on 2 cores): swarm results may be CPU-bound (watch cpu_avg_pct)"
  fi

  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  [[ -z $(our_namespaces) ]] || { log "removing namespaces left by an earlier run"; cluster_down; }
  rm -rf "$RUN"; mkdir -p "$RUN"
  prepare_blob
  local t=$EPOCHREALTIME
  cluster_up "$N" "$BPS"
  log "network: h0..h$N at $RATE up and down each ($(calc "$EPOCHREALTIME - $t") s to set up)"

  for s in $systems; do
    case $s in
      shoal) bench_shoal auto ;;
      shoal-http) bench_shoal http ;;
      *) "bench_$s" ;;
    esac
  done

  { echo "$CSV_HEADER"; printf '%s\n' "${TABLE[@]}"; } | markdown
  echo "(rows appended to $RESULTS; logs in $RUN)"
  return "$FAILED"
}

main "$@"
