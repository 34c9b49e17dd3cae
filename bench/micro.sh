#!/usr/bin/env bash
# bench/micro.sh — runs the micro-benchmarks of bench/Shoal.Benchmarks (BenchmarkDotNet) in a
# short job and prints their result tables.
#
#   bench/micro.sh                                  # every benchmark, short job (~3 minutes)
#   bench/micro.sh --filter '*PieceHashing*'        # extra arguments go to BenchmarkDotNet
#   MICRO_JOB=default bench/micro.sh                # BenchmarkDotNet's full default job
#
# Builds in Release with its own obj/bin under $BENCH_DIR (default /tmp/shoal-bench), so it never
# races a build in the source tree, and runs the benchmarks in-process. Full output and reports:
# $BENCH_DIR/micro/. Numbers are per operation and single-threaded; on a shared machine check that
# it is otherwise idle (uptime) before trusting them.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/shoal-bench}
JOB=${MICRO_JOB:-short}
out=$BENCH_DIR/micro
build=$BENCH_DIR/micro-build
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

command -v dotnet >/dev/null 2>&1 || { echo "micro.sh: the .NET SDK (dotnet) is needed" >&2; exit 2; }
mkdir -p "$out"
echo "micro.sh: building bench/Shoal.Benchmarks (Release)" >&2
dotnet build "$HERE/Shoal.Benchmarks/Shoal.Benchmarks.csproj" -c Release --artifacts-path "$build" \
  -nologo -v:q -clp:ErrorsOnly >&2
dll=$build/bin/Shoal.Benchmarks/release/Shoal.Benchmarks.dll
[[ -f $dll ]] || { echo "micro.sh: the build produced no $dll" >&2; exit 2; }

filter=('*')
for arg in "$@"; do [[ $arg == --filter || $arg == -f ]] && filter=(); done
((${#filter[@]})) && set -- --filter "${filter[@]}" "$@"

rm -rf "$out/results"
echo "micro.sh: running ($JOB job); full log in $out/micro.log" >&2
status=0
(cd "$out" && timeout 3600 dotnet "$dll" --job "$JOB" --inProcess --artifacts "$out" --exporters GitHub "$@") \
  >"$out/micro.log" 2>&1 || status=$?

# The environment line and one table per benchmark class.
grep -m1 -E '^BenchmarkDotNet v' "$out/micro.log" || true
grep -m1 -E '^(AMD|Intel|.*CPU)' "$out/micro.log" || true
for report in "$out"/results/*-report-github.md; do
  [[ -e $report ]] || continue
  echo
  echo "### $(basename "$report" -report-github.md)"
  # Drop the environment block BenchmarkDotNet repeats in every report.
  sed -n '/^|/,$p' "$report"
done
if ((status != 0)); then
  echo "micro.sh: BenchmarkDotNet exited with $status (see $out/micro.log)" >&2
fi
exit "$status"
