#!/usr/bin/env bash
# `npm test`: build the lib (tsc must pass), then every test in one node:test run:
# unit tests, integration tests on ../shared/data (skipped with a message when absent),
# headless execution of every notebook through the tslab kernel, and the real-browser figure checks.
# Notebooks run in the "quick" profile. In CI (CI=true) missing Jupyter/Chromium is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export XANES_PROFILE="${XANES_PROFILE:-quick}"
start=$SECONDS

echo "== npm run build (tsc)"
npm run --silent build

# The kernelspec lives in the project (.jupyter/); (re)write it so it points at this checkout.
node scripts/install-kernel.mjs >/dev/null

echo "== node --test test/*.test.ts (XANES_PROFILE=$XANES_PROFILE)"
status=0
node --import tsx --test --test-reporter=spec test/*.test.ts || status=$?

echo "== npm test finished in $((SECONDS - start)) s: $([ "$status" = 0 ] && echo PASS || echo FAIL)"
exit "$status"
