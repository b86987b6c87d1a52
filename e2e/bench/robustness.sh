#!/usr/bin/env bash
# Isolation, faults and load on the test bed, as one report: runs the isolation and the
# faults suites (their probes and scenarios are assertions), then the load benchmark on a
# fresh deployment of the test stack, and prints the three tables.
# Usage: bash e2e/bench/robustness.sh [--load-only] [--users N[,N...]]
#   --load-only  skip the two suites (CI runs them in `npm run e2e` already)
#   --users      load sizes (default 50; each at least 1, at most 500)
set -euo pipefail
source "$(dirname "$0")/../env.sh"
suites=1 users=50
while [ $# -gt 0 ]; do
    case $1 in
        --load-only) suites=0 ;;
        --users) users=${2:?--users needs a list such as 10,50,80}; shift ;;
        *) die "unknown option $1 (see the header of $0)" ;;
    esac
    shift
done
[[ $users =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--users takes numbers separated by commas, e.g. 10,50,80"
stack=$(node -p "require('$E2E_DIR/testbed.json').stack")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$PROJECT_DIR"

failed=()
# suite NAME: runs e2e/tests/NAME.e2e.test.ts and keeps the markdown table it prints.
suite() {
    log "running the $1 suite"
    if ! node --import tsx --test --test-concurrency=1 "e2e/tests/$1.e2e.test.ts" >"$work/$1.log" 2>&1; then
        failed+=("$1")
        grep -E '^ *not ok' "$work/$1.log" >&2 || true
    fi
    # The suites print their table through console.log, which the test runner prefixes with "# ".
    sed -n 's/^# \(|.*|\)$/\1/p' "$work/$1.log" >"$work/$1.md"
}
if [ "$suites" = 1 ]; then
    bash e2e/setup.sh
    suite isolation
fi
log "deploying the test stack for the load run"
pulumi up --yes --skip-preview --stack "$stack" >"$work/up.log" 2>&1 || { tail -30 "$work/up.log"; die "pulumi up failed"; }
log "load: $users users"
node --import tsx e2e/bench/load.ts --users "$users" --json "$work/load.json" | tee "$work/load.log"
[ "${PIPESTATUS[0]}" = 0 ] || failed+=(load)
[ "$suites" = 1 ] && suite faults

echo
echo "## Robustness on the test bed, $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
if [ "$suites" = 1 ]; then
    printf '\n### Isolation probes (tried from inside alice'"'"'s server)\n\n'
    cat "$work/isolation.md"
    printf '\n### Faults\n\n'
    cat "$work/faults.md"
fi
printf '\n### Load\n\n'
sed -n '/^| users |/,/^$/p' "$work/load.log"
if [ ${#failed[@]} -gt 0 ]; then
    die "failed: ${failed[*]} (the tables above show what did run)"
fi
