#!/usr/bin/env bash
# Runs every example; exits non-zero when any fails. CI runs this.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
status=0
for script in */run.sh; do
  echo "=== examples/$script"
  if bash "$script"; then
    echo "=== examples/$script: OK"
  else
    echo "=== examples/$script: FAILED" >&2
    status=1
  fi
done
exit $status
