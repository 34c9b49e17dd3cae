#!/usr/bin/env bash
# =================================================================================================
# bench/swarm/ab.sh — two Shoal builds side by side in the swarm benchmark, in interleaved pairs.
#
#   bench/swarm/ab.sh N RATE SIZE [--pairs K] [--notes TEXT] [--results FILE] [--a-args OPTS] [--b-args OPTS] A B
#   bench/swarm/ab.sh summary CSV TEXT     # the summary again, of rows noted "A/B TEXT: ..."
#
# --a-args / --b-args pass extra run.sh options to one side only, so one build can be compared with
# itself under two settings (e.g. `--b-args --p2p-tls HEAD HEAD`: the cost of peer TLS).
# A and B are git revisions of this repository (built with `dotnet publish` in a worktree under
# $BENCH_DIR/ab/, once per commit) or paths to shoal executables. Runs K pairs (default 3) of
# `run.sh N RATE SIZE --systems shoal`, one build after the other, alternating which goes first
# (A B, B A, A B, ...): on this shared machine whichever run of a pair goes first measured better
# more often than not, so a comparison that always runs A first measures the order as much as the
# builds. Appends every row to the results CSV (notes "A/B <TEXT>: A <label>" / "B <label>", the
# commit column the build's) and prints each run's ratio and CPU-seconds, then the mean of both
# sides, how many pairs each side won, and the mean difference B - A over the pairs with its 95 %
# confidence interval (Student's t): an interval that contains 0 shows no difference. Environment
# and exit status as for run.sh (which it calls; see there); BENCH_DIR defaults to
# /tmp/shoal-bench. `summary` prints the same for rows already in a results CSV, one block per
# benchmark point (N, rate, size).
# =================================================================================================
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/shoal-bench}
RESULTS=${BENCH_RESULTS:-$HERE/results.csv}

die() { echo "ab.sh: $*" >&2; exit 2; }
usage() { sed -n '4,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; }

# summarize CSV PREFIX: per benchmark point, each run of the rows whose notes start with PREFIX
# ("A/B TEXT: A label (pair K)" or "... B ..."), each side's means and pairs won, and B - A.
summarize() {
  awk -F, -v prefix="$2" '
    function tcrit(df) {
      # Two-sided 95 % quantiles of Student t for 1..30 degrees of freedom; 1.96 beyond.
      split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086 2.080 2.074 2.069 2.064 2.060 2.056 2.052 2.048 2.045 2.042", t, " ")
      return df <= 30 ? t[df] : 1.96
    }
    function interval(name, values, count,    i, mean, var, half) {
      mean = 0; for (i = 1; i <= count; i++) mean += values[i]; mean /= count
      if (count < 2) return sprintf("%s %+.3f (one pair: no interval)", name, mean)
      var = 0; for (i = 1; i <= count; i++) var += (values[i] - mean) ^ 2; var /= count - 1
      half = tcrit(count - 1) * sqrt(var / count)
      return sprintf("%s %+.3f, 95 %% CI [%+.3f, %+.3f]%s", name, mean, mean - half, mean + half,
        (mean - half <= 0 && mean + half >= 0) ? " (contains 0)" : "")
    }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    index($NF, prefix) != 1 { next }
    {
      rest = substr($NF, length(prefix) + 1); sub(/^ +/, "", rest)
      side = substr(rest, 1, 1)
      if (side != "A" && side != "B") next
      # run.sh may append notes of its own after "(pair K)", separated by ";".
      label = substr(rest, 3); sub(/ \(pair [0-9]+\)(;.*)?$/, "", label)
      if (!match($NF, /\(pair [0-9]+\)(;|$)/)) next
      if (substr($NF, RSTART + RLENGTH - 1, 1) == ";") RLENGTH--
      pair = substr($NF, RSTART + 6, RLENGTH - 7) + 0
      point = $col["n"] " hosts x " $col["rate"] ", " $col["size_bytes"] " bytes"
      if (!(point in seen)) { seen[point] = 1; points[++npoints] = point }
      labels[point, side] = label
      ratio[point, side, pair] = $col["ratio"]; cpu[point, side, pair] = $col["proc_cpu_s"]
      sum[point, side] += $col["ratio"]; cpus[point, side] += $col["proc_cpu_s"]; n[point, side]++
      runs[point] = runs[point] sprintf("pair %d  %s  ratio %s  procs CPU-s %s\n", pair, side, $col["ratio"], $col["proc_cpu_s"])
      if (pair > maxpair[point]) maxpair[point] = pair
    }
    END {
      if (!npoints) { print "no rows noted \"" prefix " ...\"" > "/dev/stderr"; exit 1 }
      for (q = 1; q <= npoints; q++) {
        point = points[q]
        if (npoints > 1) printf "%s== %s\n", (q > 1 ? "\n" : ""), point
        printf "%s", runs[point]
        delete won; delete dr; delete dc; count = 0
        for (p = 1; p <= maxpair[point]; p++) {
          if (!(((point, "A", p) in ratio) && ((point, "B", p) in ratio))) continue
          if (ratio[point, "A", p] < ratio[point, "B", p]) won["A"]++; else if (ratio[point, "B", p] < ratio[point, "A", p]) won["B"]++
          count++; dr[count] = ratio[point, "B", p] - ratio[point, "A", p]; dc[count] = cpu[point, "B", p] - cpu[point, "A", p]
        }
        for (s = 0; s < 2; s++) {
          side = s == 0 ? "A" : "B"
          if (n[point, side]) printf "%s %-12s mean ratio %.3f  mean procs CPU-s %.2f  runs %d  pairs won %d\n", side, labels[point, side], sum[point, side] / n[point, side], cpus[point, side] / n[point, side], n[point, side], won[side] + 0
        }
        if (count) printf "B - A over %d pairs: %s; %s\n", count, interval("ratio", dr, count), interval("procs CPU-s", dc, count)
      }
    }' "$1"
}

if [[ ${1:-} == summary ]]; then
  (($# == 3)) || usage
  [[ -f $2 ]] || die "no such results file: $2"
  summarize "$2" "A/B${3:+ $3}:"
  exit
fi

(($# >= 3)) || usage
N=$1 RATE=$2 SIZE=$3
shift 3
PAIRS=3 NOTES= SIDES=() ARGS_A= ARGS_B=
while (($#)); do
  case $1 in
    --pairs) PAIRS=${2:?--pairs needs a number}; shift 2 ;;
    --notes) NOTES=${2?--notes needs text}; shift 2 ;;
    --results) RESULTS=${2:?--results needs a file}; shift 2 ;;
    --a-args) ARGS_A=${2?--a-args needs run.sh options}; shift 2 ;;
    --b-args) ARGS_B=${2?--b-args needs run.sh options}; shift 2 ;;
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
  # Built once per commit and way of publishing (a change to scripts/publish.sh builds again).
  local how
  how=$(sha256sum "$ROOT/scripts/publish.sh" | cut -c1-8)
  work=$BENCH_DIR/ab/src-$LABEL out=$BENCH_DIR/ab/bin-$LABEL-$how
  BIN=$out/shoal
  [[ -x $BIN ]] && return
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK (dotnet) is needed to build $side"
  rm -rf "$work"
  git -C "$ROOT" worktree prune
  git -C "$ROOT" worktree add --detach --force -q "$work" "$commit"
  echo "ab.sh: building $side ($LABEL)" >&2
  # This tree's way of publishing, applied to the revision's source (the same for both sides).
  timeout 900 "$ROOT/scripts/publish.sh" "$out" --source "$work" --artifacts "$BENCH_DIR/ab/artifacts-$LABEL" \
    -- -nologo -v:q -clp:ErrorsOnly >&2 || die "building $side failed"
  git -C "$ROOT" worktree remove --force "$work"
  [[ -x $BIN ]] || die "building $side produced no $BIN"
}

mkdir -p "$BENCH_DIR/ab"
[[ $ARGS_A$ARGS_B != *,* ]] || die "--a-args and --b-args must not contain a comma (they go into the notes)"
resolve "${SIDES[0]}"; BIN_A=$BIN LABEL_A=$LABEL${ARGS_A:+ $ARGS_A}
resolve "${SIDES[1]}"; BIN_B=$BIN LABEL_B=$LABEL${ARGS_B:+ $ARGS_B}
tag=${NOTES:+ $NOTES}
rows=$(mktemp "$BENCH_DIR/ab/rows.XXXXXX")
trap 'rm -f "$rows"' EXIT

status=0
for ((pair = 1; pair <= PAIRS; pair++)); do
  order=(A B)
  ((pair % 2 == 1)) || order=(B A)
  for side in "${order[@]}"; do
    if [[ $side == A ]]; then bin=$BIN_A label=$LABEL_A args=$ARGS_A; else bin=$BIN_B label=$LABEL_B args=$ARGS_B; fi
    echo "ab.sh: pair $pair/$PAIRS, $side ($label${args:+ $args})" >&2
    # shellcheck disable=SC2086 # the side's extra options are meant to be split
    SHOAL_BIN=$bin "$HERE/run.sh" "$N" "$RATE" "$SIZE" --systems shoal --results "$rows" $args \
      --notes "A/B$tag: $side $label (pair $pair)" >&2 || status=$?
  done
done

# The rows, with each build's label as the commit, appended to the results; then the summary.
awk -F, -v OFS=, -v a="$LABEL_A" -v b="$LABEL_B" 'NR > 1 {
  if ($NF ~ /: A /) $2 = a; else if ($NF ~ /: B /) $2 = b
  print }' "$rows" >>"$RESULTS"
summarize "$rows" "A/B$tag:"
exit "$status"
