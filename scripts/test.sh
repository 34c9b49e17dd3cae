#!/usr/bin/env bash
# The one test command. Installs the tools the end-to-end tests drive (skopeo, containerd/ctr,
# docker-registry, htpasswd from apache2-utils; s3rver from npm) when they are missing, builds the solution in
# Release, runs every test project with TRX results under artifacts/test-results/, and ends with
# the line "N passed, M failed"
# (", K skipped" when some were skipped). Exits non-zero on any failure.
#
#   scripts/test.sh                            # everything
#   scripts/test.sh --filter Category=E2E      # extra arguments go to 'dotnet test'
#
# Set SHOAL_E2E_OPTIONAL=1 to skip (rather than fail) end-to-end tests whose tools are missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results=artifacts/test-results

install_tools() {
  local packages=()
  command -v skopeo >/dev/null 2>&1 || packages+=(skopeo)
  { command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1; } || packages+=(containerd)
  command -v docker-registry >/dev/null 2>&1 || packages+=(docker-registry)
  command -v htpasswd >/dev/null 2>&1 || packages+=(apache2-utils) # bcrypt htpasswd entries for the registry auth tests
  command -v redis-server >/dev/null 2>&1 || packages+=(redis-server) # the tracker's shared peer store
  if (( ${#packages[@]} == 0 )); then
    return 0
  fi
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: cannot install ${packages[*]} (needs root and apt-get); end-to-end tests that need them will fail" \
      "unless SHOAL_E2E_OPTIONAL=1" >&2
    return 0
  fi
  echo "test.sh: installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; }; then
    echo "test.sh: installing ${packages[*]} with apt-get failed" >&2
    exit 1
  fi
}

# s3rver (an S3-protocol server from npm) for the S3 backend tests, under artifacts/npm;
# its path goes to the tests as SHOAL_S3RVER.
install_s3rver() {
  local bin="$PWD/artifacts/npm/node_modules/.bin/s3rver"
  if [[ ! -x $bin ]]; then
    if command -v npm >/dev/null 2>&1; then
      echo "test.sh: installing s3rver"
      npm install --no-audit --no-fund --silent --prefix artifacts/npm s3rver@3.7.1 >/dev/null \
        || echo "test.sh: installing s3rver with npm failed; S3 backend tests will fail unless SHOAL_E2E_OPTIONAL=1" >&2
    else
      echo "test.sh: npm is missing, cannot install s3rver; S3 backend tests will fail unless SHOAL_E2E_OPTIONAL=1" >&2
    fi
  fi
  if [[ -x $bin ]]; then
    export SHOAL_S3RVER="$bin"
  fi
}

# Sums one counter attribute over every TRX file.
count() {
  local attribute=$1 total=0 value file
  for file in "$results"/*.trx; do
    [[ -e $file ]] || continue
    value=$(grep -o "<Counters [^>]*" "$file" | grep -o " $attribute=\"[0-9]*\"" | grep -o '[0-9]*' || true)
    total=$((total + ${value:-0}))
  done
  echo "$total"
}

install_tools
install_s3rver

echo "test.sh: building (Release)"
dotnet build Shoal.slnx -c Release -nologo -v:q -clp:ErrorsOnly

rm -rf "$results"
mkdir -p "$results"
echo "test.sh: testing"
status=0
# -m:1 runs one test project at a time: the end-to-end tests start whole clusters and real
# clients, and a 2-core machine gives steadier timings without contention.
dotnet test Shoal.slnx -c Release --no-build -m:1 \
  --results-directory "$results" --logger trx --logger "console;verbosity=minimal" \
  --blame-hang-timeout 10m "$@" || status=$?

if (( status != 0 )); then
  echo "test.sh: dotnet test exited with code $status" >&2
fi
trx_files=$(find "$results" -maxdepth 1 -name '*.trx' | wc -l)
passed=$(count passed)
failed=$(( $(count failed) + $(count error) + $(count timeout) + $(count aborted) ))
skipped=$(count notExecuted)

if (( trx_files == 0 )); then
  echo "test.sh: no test results were written" >&2
  status=1
elif (( passed == 0 )); then
  echo "test.sh: no test passed" >&2
  status=1
fi
if (( failed > 0 && status == 0 )); then
  status=1
fi

if (( skipped > 0 )); then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
