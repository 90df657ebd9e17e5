#!/usr/bin/env bash
# Benchmarks both services on this machine; prints a Markdown table and
# writes the figures as JSON (bench-results.json, or --out FILE).
#
#   scripts/bench.sh            full run: release build, 1000 users, 50 organizations,
#                               20 000 tasks, 10 s per scenario at concurrency 32
#   scripts/bench.sh --short    smoke run: debug build, a small board, 1.5 s per
#                               scenario; fails only when a request fails
#   --growth                    also boards of 200, 1 000 and 5 000 cards and a database
#                               padded to 200 000 tasks (not with --short: minutes of seeding)
#   --only TEXT                 runs only the scenarios whose name contains TEXT (or one of
#                               several, comma-separated; and the
#                               /healthz ceilings): for measuring one change, not the README
#   --unsafe                    then runs everything again on PostgreSQL with fsync=off and
#                               synchronous_commit=off and Redis without persistence, a
#                               second, clearly labelled result (FILE-unsafe.json)
#
# It starts throwaway PostgreSQL and Redis servers with durable settings
# (fsync=on, synchronous_commit=on; Redis appendonly with appendfsync everysec;
# see scripts/lib/servers.sh), or uses BENCH_DATABASE_URL and BENCH_REDIS_URL
# with --servers-running. The report reads the settings back from the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/servers.sh

short=""
out="bench-results.json"
servers_running=0
unsafe=0
growth=""
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short="--short" ;;
    --out) out="$2"; shift ;;
    --servers-running) servers_running=1 ;;
    --unsafe) unsafe=1 ;;
    --growth) growth="--growth" ;;
    --only) only=(--only "$2"); shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -n "$short" ] && [ -n "$growth" ]; then
  echo "--growth seeds thousands of cards; it does not go with --short" >&2
  exit 2
fi
if [ "$servers_running" = 1 ] && [ "$unsafe" = 1 ]; then
  echo "--unsafe starts its own servers; it does not go with --servers-running" >&2
  exit 2
fi

if [ -n "$short" ]; then
  profile=debug
  cargo build --quiet --bin auth-service --bin kanban-service --bin bench
else
  profile=release
  log "building release binaries"
  cargo build --release --quiet --bin auth-service --bin kanban-service --bin bench
fi

target_dir="${CARGO_TARGET_DIR:-target}"
run_bench() {
  "$target_dir/$profile/bench" $short $growth "${only[@]}" --out "$1" \
    --auth-bin "$target_dir/$profile/auth-service" --kanban-bin "$target_dir/$profile/kanban-service" \
    --database-url "$PG_URL" --redis-url "$REDIS_URL"
}

if [ "$servers_running" = 1 ]; then
  PG_URL="$BENCH_DATABASE_URL"
  REDIS_URL="$BENCH_REDIS_URL"
else
  start_servers durable
fi

log "benchmark ($profile binaries)"
run_bench "$out"

if [ "$unsafe" = 1 ]; then
  stop_servers
  set -e  # stop_servers turns errexit off
  start_servers fast
  log "benchmark again on UNSAFE settings (fsync=off, synchronous_commit=off, Redis without persistence)"
  run_bench "${out%.json}-unsafe.json"
fi
