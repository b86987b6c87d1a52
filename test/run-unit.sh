#!/usr/bin/env bash
# The unit suite: type check, pure tests, resource-graph tests under Pulumi mocks, and
# the generated hub config loaded by the hub's real Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup-python.sh
npx tsc --noEmit
node --import tsx --test test/unit/*.test.ts
