#!/usr/bin/env bash
# Benchmarks both services on this machine; prints a Markdown table and
# writes the figures as JSON (bench-results.json, or --out FILE).
#
#   scripts/bench.sh            full run: release build, 1000 users, 50 organizations,
#                               20 000 tasks, 10 s per scenario at concurrency 32
#   scripts/bench.sh --short    smoke run: debug build, a small board, 1.5 s per
#                               scenario; fails only when a request fails
#
# It starts throwaway PostgreSQL and Redis servers (see scripts/lib/servers.sh),
# or uses BENCH_DATABASE_URL and BENCH_REDIS_URL with --servers-running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/servers.sh

short=""
out="bench-results.json"
servers_running=0
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short="--short" ;;
    --out) out="$2"; shift ;;
    --servers-running) servers_running=1 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -n "$short" ]; then
  profile=debug
  cargo build --quiet --bin auth-service --bin kanban-service --bin bench
else
  profile=release
  log "building release binaries"
  cargo build --release --quiet --bin auth-service --bin kanban-service --bin bench
fi

if [ "$servers_running" = 1 ]; then
  PG_URL="$BENCH_DATABASE_URL"
  REDIS_URL="$BENCH_REDIS_URL"
else
  start_servers
fi

log "benchmark ($profile binaries)"
"target/$profile/bench" $short --out "$out" \
  --auth-bin "target/$profile/auth-service" --kanban-bin "target/$profile/kanban-service" \
  --database-url "$PG_URL" --redis-url "$REDIS_URL"
