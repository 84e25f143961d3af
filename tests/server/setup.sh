#!/usr/bin/env bash
# Installs the npm `openai` client that tests/server/server_test.js drives tessera-server with,
# into tests/server/node_modules (ignored by git). Called by .ci/setup --tests.
set -euo pipefail
cd "$(cd "$(dirname "$0")" && pwd)"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
