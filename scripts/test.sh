#!/usr/bin/env bash
# Runs every check and test of the workspace:
#   1. cargo fmt --check, cargo clippy (warnings are errors), the layering
#      rules of ARCHITECTURE.md (scripts/check-layers.sh) and the offline
#      validation of the deployment files (scripts/check-deploy.sh);
#   2. the whole test suite on SQLite with the embedded defaults;
#   3. the whole test suite again on throwaway PostgreSQL and Redis servers,
#      started here on free ports in a temporary folder and removed after;
#   4. schemathesis against both services' OpenAPI documents, once on
#      SQLite and once on PostgreSQL + Redis (scripts/fuzz.sh: at least
#      2,000 generated cases per service and run, zero failures);
#   5. the benchmark in its short mode, as a smoke check that it still runs
#      with zero errors (its figures are not judged).
# PostgreSQL and Redis are installed with apt-get when the machine lacks them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/servers.sh

# No incremental caches: a run builds once, and they would double target/.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
log "disk before the build: $(df -h . | awk 'NR == 2 { print $4 " free of " $2 }')"

RESULTS=$(mktemp /tmp/account-manager-results.XXXXXX)
run_tests() { cargo test --workspace 2>&1 | tee -a "$RESULTS"; }

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "layering rules"
scripts/check-layers.sh

log "deployment files (Dockerfile, docker-compose.yml, Kubernetes manifests)"
scripts/check-deploy.sh

# Some tests start Redis servers of their own, on both runs.
ensure_server_packages

log "tests on SQLite (embedded defaults, no Redis)"
run_tests

log "schemathesis on SQLite"
scripts/fuzz.sh

start_servers

log "tests on PostgreSQL + Redis"
TEST_DATABASE_URL="$PG_URL" TEST_REDIS_URL="$REDIS_URL" run_tests

log "schemathesis on PostgreSQL + Redis"
FUZZ_DATABASE_URL="$PG_URL" FUZZ_REDIS_URL="$REDIS_URL" scripts/fuzz.sh

log "benchmark smoke run (short mode)"
BENCH_DATABASE_URL="$PG_URL" BENCH_REDIS_URL="$REDIS_URL" scripts/bench.sh --short --servers-running

log "disk after the runs: $(df -h . | awk 'NR == 2 { print $4 " free" }'), target/ $(du -sh target | cut -f1)"
log "all checks and tests passed"
# Both runs together, as one closing line.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$RESULTS"
rm -f "$RESULTS"
