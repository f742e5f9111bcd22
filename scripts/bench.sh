#!/usr/bin/env bash
# Runs every benchmark, scripts/bench/*.ts in name order, against the local test server (started
# here if it is not running). Benchmarks print figures; they assert nothing about time.
#
#   npm run bench            run them all (seeds about 500 MB of mail for the user "bench")
#   npm run bench -- NAME    run scripts/bench/NAME.ts only, e.g. npm run bench -- roundTrips
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
benches=(scripts/bench/*.ts)
if [ -n "${1:-}" ]; then
  [ -f "scripts/bench/$1.ts" ] || { echo "no benchmark scripts/bench/$1.ts" >&2; exit 2; }
  benches=("scripts/bench/$1.ts")
fi
bash scripts/test-server.sh start

# One failing benchmark does not hide the figures of the others; the exit status still tells.
failed=()
for bench in "${benches[@]}"; do
  echo
  echo "=== $bench"
  npx ts-node --transpile-only "$bench" || failed+=("$bench")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
