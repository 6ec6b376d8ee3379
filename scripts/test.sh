#!/usr/bin/env bash
# The whole test suite: installs test dependencies, builds in Release, runs every test
# project, and ends with one line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Grid.sln -c Release 2>&1 | tee "$log" || status=$?

# dotnet test prints one summary per test assembly; add them up.
sum() { grep -Eo "$1: +[0-9]+" "$log" | awk '{ n += $2 } END { print n + 0 }'; }
passed=$(sum Passed)
failed=$(sum Failed)
skipped=$(sum Skipped)
echo
# Skipped tests are the GPU suite's, on machines without an NVIDIA GPU (docs/gpu.md).
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  status=1
fi
exit $status
