#!/usr/bin/env bash
# bench/swarm/smoke.sh — the swarm benchmark as a CI check: 4 hosts at 100mbit pull a 16 MiB blob
# through Shoal on the emulated network (see run.sh). Fails (non-zero) when any host ends without
# the verified blob, or when the harness itself cannot run. Needs root; about two minutes including
# the build.
#
#   bench/swarm/smoke.sh                         # shoal only
#   SMOKE_SYSTEMS="shoal direct" bench/swarm/smoke.sh   # also the docker-registry baseline
#
# Rows go to $BENCH_DIR/smoke.csv (this run's only), not to the committed results.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BENCH_DIR=${BENCH_DIR:-/tmp/shoal-bench}
# A CI machine is not shared with other tenants the way a workstation is: do not wait long for it
# to be idle, and bound every process tightly.
export BENCH_IDLE_WAIT=${BENCH_IDLE_WAIT:-10}
export BENCH_MAX_LIFETIME=${BENCH_MAX_LIFETIME:-300}
export BENCH_PREFIX=${BENCH_PREFIX:-shbsmoke}
# The deployable build (scripts/publish.sh: precompiled, for this machine's runtime identifier), so
# that CI checks the executable operators install, not only the tree's build; about a minute.
# BENCH_BUILD=tree reuses the tree's Release build instead (seconds after a Release build).
export BENCH_BUILD=${BENCH_BUILD:-isolated}

mkdir -p "$BENCH_DIR"
rm -f "$BENCH_DIR/smoke.csv"   # scratch: only this run's rows
status=0
# 16 MiB to 4 hosts at 100 Mbit/s is 1.3 s per host even from one source (5.4 s); 60 s is ample.
timeout -k 15 600 "$HERE/run.sh" 4 100mbit 16M --systems "${SMOKE_SYSTEMS:-shoal}" --timeout 60 \
  --results "$BENCH_DIR/smoke.csv" --notes smoke || status=$?

case $status in
  0) echo "smoke: every host got the verified blob" ;;
  1) echo "smoke: FAILED — some host did not get the verified blob (logs in $BENCH_DIR/run)" >&2 ;;
  124) echo "smoke: FAILED — timed out (logs in $BENCH_DIR/run)" >&2 ;;
  *) echo "smoke: FAILED — the benchmark could not run (exit $status)" >&2 ;;
esac
exit "$status"
