#!/usr/bin/env bash
# =================================================================================================
# scripts/publish.sh — builds the deployable `shoal` executable.
#
#   scripts/publish.sh OUT [--source ROOT] [--artifacts DIR] [-- EXTRA dotnet publish ARGS]
#
# Publishes src/Shoal (of ROOT, default this repository) in Release for this machine's runtime
# identifier (linux-x64, linux-arm64, ...) into OUT: framework-dependent (needs the .NET 10 runtime
# with ASP.NET Core on the host), and ReadyToRun-compiled, since src/Shoal/Shoal.csproj turns that on
# whenever a runtime identifier is given (docs/operations.md, "Building"). --artifacts keeps the
# build's obj/ and bin/ under DIR instead of the source tree, so the build never races another one
# of the same tree. OUT/shoal is the executable.
# =================================================================================================
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out= artifacts=
while (($#)); do
  case $1 in
    --source) ROOT=${2:?--source needs a directory}; shift 2 ;;
    --artifacts) artifacts=${2:?--artifacts needs a directory}; shift 2 ;;
    --) shift; break ;;
    -*) echo "publish.sh: unknown option $1" >&2; exit 2 ;;
    *) [[ -z $out ]] || { echo "publish.sh: one output directory only" >&2; exit 2; }; out=$1; shift ;;
  esac
done
[[ -n $out ]] || { sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; }
[[ -f $ROOT/src/Shoal/Shoal.csproj ]] || { echo "publish.sh: no src/Shoal/Shoal.csproj under $ROOT" >&2; exit 2; }
command -v dotnet >/dev/null 2>&1 || { echo "publish.sh: the .NET SDK (dotnet) is needed" >&2; exit 2; }

case $(uname -m) in
  x86_64) rid=linux-x64 ;;
  aarch64 | arm64) rid=linux-arm64 ;;
  *) echo "publish.sh: no .NET runtime identifier known for $(uname -m)" >&2; exit 2 ;;
esac

cmd=(dotnet publish "$ROOT/src/Shoal/Shoal.csproj" -c Release -r "$rid" --self-contained false -o "$out")
[[ -z $artifacts ]] || cmd+=(--artifacts-path "$artifacts")
DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 exec "${cmd[@]}" "$@"
