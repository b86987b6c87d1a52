#!/usr/bin/env bash
# npm run bench: the stack against docker compose and plain docker on the test bed
# (e2e/bench/compare.ts). Brings the test bed up first, as the tests do; Debian's
# docker-compose is installed when missing. Arguments go to compare.ts.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v docker-compose >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
bash e2e/setup.sh
source e2e/env.sh
node --import tsx e2e/bench/compare.ts "$@"
