#!/usr/bin/env bash
# =================================================================================================
# bench/swarm/ab.sh — two Shoal builds side by side in the swarm benchmark, in interleaved pairs.
#
#   bench/swarm/ab.sh N RATE SIZE [--pairs K] [--notes TEXT] [--results FILE] A B
#
# A and B are git revisions of this repository (built with `dotnet publish` in a worktree under
# $BENCH_DIR/ab/, once per commit) or paths to shoal executables. Runs K pairs (default 3) of
# `run.sh N RATE SIZE --systems shoal`, one build after the other, alternating which goes first
# (A B, B A, A B, ...): on this shared machine whichever run of a pair goes first measured better
# more often than not, so a comparison that always runs A first measures the order as much as the
# builds. Appends every row to the results CSV (notes "A/B <TEXT>: A <label>" / "B <label>", the
# commit column the build's) and prints each run's ratio and CPU-seconds, then the mean of both
# sides and how many pairs each side won. Environment and exit status as for run.sh (which it
# calls; see there); BENCH_DIR defaults to /tmp/shoal-bench.
# =================================================================================================
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/shoal-bench}
RESULTS=${BENCH_RESULTS:-$HERE/results.csv}

die() { echo "ab.sh: $*" >&2; exit 2; }
usage() { sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; }

(($# >= 3)) || usage
N=$1 RATE=$2 SIZE=$3
shift 3
PAIRS=3 NOTES= SIDES=()
while (($#)); do
  case $1 in
    --pairs) PAIRS=${2:?--pairs needs a number}; shift 2 ;;
    --notes) NOTES=${2?--notes needs text}; shift 2 ;;
    --results) RESULTS=${2:?--results needs a file}; shift 2 ;;
    -h|--help) usage ;;
    -*) die "unknown option $1" ;;
    *) SIDES+=("$1"); shift ;;
  esac
done
((${#SIDES[@]} == 2)) || die "name two builds (git revisions or shoal executables), got ${#SIDES[@]}"
[[ $PAIRS =~ ^[1-9][0-9]*$ ]] || die "--pairs must be a positive number, got '$PAIRS'"
[[ $NOTES != *,* ]] || die "--notes must not contain a comma (it is a CSV field)"

# Resolves a side to an executable; sets BIN and LABEL.
BIN= LABEL=
resolve() {
  local side=$1 commit work out
  if [[ -x $side && -f $side ]]; then
    BIN=$(cd "$(dirname "$side")" && pwd)/$(basename "$side") LABEL="bin:$(basename "$(dirname "$BIN")")"
    return
  fi
  commit=$(git -C "$ROOT" rev-parse --verify --quiet "$side^{commit}") || die "'$side' is neither an executable nor a git revision"
  LABEL=${commit:0:7}
  work=$BENCH_DIR/ab/src-$LABEL out=$BENCH_DIR/ab/bin-$LABEL
  BIN=$out/shoal
  [[ -x $BIN ]] && return
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK (dotnet) is needed to build $side"
  rm -rf "$work"
  git -C "$ROOT" worktree prune
  git -C "$ROOT" worktree add --detach --force -q "$work" "$commit"
  echo "ab.sh: building $side ($LABEL)" >&2
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 timeout 900 dotnet publish "$work/src/Shoal/Shoal.csproj" -c Release \
    --artifacts-path "$BENCH_DIR/ab/artifacts-$LABEL" -o "$out" -nologo -v:q -clp:ErrorsOnly >&2 \
    || die "building $side failed"
  git -C "$ROOT" worktree remove --force "$work"
  [[ -x $BIN ]] || die "building $side produced no $BIN"
}

mkdir -p "$BENCH_DIR/ab"
resolve "${SIDES[0]}"; BIN_A=$BIN LABEL_A=$LABEL
resolve "${SIDES[1]}"; BIN_B=$BIN LABEL_B=$LABEL
tag=${NOTES:+ $NOTES}
rows=$(mktemp "$BENCH_DIR/ab/rows.XXXXXX")
trap 'rm -f "$rows"' EXIT

status=0
for ((pair = 1; pair <= PAIRS; pair++)); do
  order=(A B)
  ((pair % 2 == 1)) || order=(B A)
  for side in "${order[@]}"; do
    if [[ $side == A ]]; then bin=$BIN_A label=$LABEL_A; else bin=$BIN_B label=$LABEL_B; fi
    echo "ab.sh: pair $pair/$PAIRS, $side ($label)" >&2
    SHOAL_BIN=$bin "$HERE/run.sh" "$N" "$RATE" "$SIZE" --systems shoal --results "$rows" \
      --notes "A/B$tag: $side $label (pair $pair)" >&2 || status=$?
  done
done

# The rows, with each build's label as the commit, appended to the results; then the summary.
awk -F, -v OFS=, -v a="$LABEL_A" -v b="$LABEL_B" 'NR > 1 {
  if ($NF ~ /: A /) $2 = a; else if ($NF ~ /: B /) $2 = b
  print }' "$rows" >>"$RESULTS"
awk -F, -v a="$LABEL_A" -v b="$LABEL_B" '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  {
    side = ($NF ~ /: A /) ? "A" : "B"
    match($NF, /pair [0-9]+/); pair = substr($NF, RSTART + 5, RLENGTH - 5)
    ratio[side, pair] = $col["ratio"]; cpu[side, pair] = $col["proc_cpu_s"]
    sum[side] += $col["ratio"]; cpus[side] += $col["proc_cpu_s"]; n[side]++
    printf "pair %s  %s  ratio %s  procs CPU-s %s\n", pair, side, $col["ratio"], $col["proc_cpu_s"]
    pairs[pair] = 1
  }
  END {
    for (p in pairs) if ((("A", p) in ratio) && (("B", p) in ratio)) {
      if (ratio["A", p] < ratio["B", p]) won["A"]++; else if (ratio["B", p] < ratio["A", p]) won["B"]++
    }
    for (s = 0; s < 2; s++) {
      side = s == 0 ? "A" : "B"; label = s == 0 ? a : b
      if (n[side]) printf "%s %-12s mean ratio %.3f  mean procs CPU-s %.2f  runs %d  pairs won %d\n", side, label, sum[side] / n[side], cpus[side] / n[side], n[side], won[side] + 0
    }
  }' "$rows"
exit "$status"
