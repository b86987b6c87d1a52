#!/usr/bin/env bash
# The end-to-end suite, on a test bed that e2e/setup.sh has brought up.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"
node --import tsx --test --test-concurrency=1 e2e/tests/*.e2e.test.ts
