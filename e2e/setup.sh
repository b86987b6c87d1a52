#!/usr/bin/env bash
# Brings the whole offline test bed up, step by step, and prints how long each took
# and the disk it uses. Idempotent: a warm machine skips what is already there.
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$TESTBED_DIR"
timings=()
for step in docker pulumi images keycloak cluster tls stack; do
    start=$(date +%s)
    bash "$E2E_DIR/testbed/$step.sh"
    timings+=("$step $(($(date +%s) - start))")
done
echo
echo "| test-bed step | seconds |"
echo "|---|---|"
for t in "${timings[@]}"; do echo "| ${t% *} | ${t#* } |"; done
echo
echo "disk: $(du -sh "$TESTBED_DIR" 2>/dev/null | cut -f1) in $TESTBED_DIR; Go caches $(du -shc "$(go env GOMODCACHE)" "$(go env GOCACHE)" 2>/dev/null | tail -1 | cut -f1)"
docker system df
