#!/usr/bin/env bash
# One command from a fresh checkout to the component running for real: installs the dependencies
# if needed, starts the local throwaway Dovecot, seeds a few messages and invokes the component's
# data source, actions and trigger through spectral's test harness, printing what they return.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules/imapflow ] || npm ci --no-audit --no-fund
bash scripts/test-server.sh start
exec npx ts-node --transpile-only scripts/demo.ts
