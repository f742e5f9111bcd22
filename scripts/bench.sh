#!/usr/bin/env bash
# Runs every benchmark, scripts/bench/*.ts in name order, against the local test server (started
# here if it is not running). Benchmarks print figures; they assert nothing about time.
#
#   npm run bench            run them all (seeds about 500 MB of mail for the user "bench")
#   npm run bench -- clean   remove the benchmark mail again (the "bench" user's mail store only)
#
# BENCH_RUNS and the other variables read by the scripts change the number of runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[ -d node_modules ] || npm ci
if [ "${1:-}" = clean ]; then
  bash scripts/test-server.sh reset-bench
  exit 0
fi
bash scripts/test-server.sh start

# One failing benchmark does not hide the figures of the others; the exit status still tells.
failed=()
for bench in scripts/bench/*.ts; do
  echo
  echo "=== $bench"
  npx ts-node --transpile-only "$bench" || failed+=("$bench")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
