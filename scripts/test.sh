#!/usr/bin/env bash
# Runs every check and test of the workspace:
#   1. cargo fmt --check and cargo clippy (warnings are errors);
#   2. the whole test suite on SQLite with the embedded defaults;
#   3. the whole test suite again on throwaway PostgreSQL and Redis servers,
#      started here on free ports in a temporary folder and removed after.
# PostgreSQL and Redis are installed with apt-get when the machine lacks them.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -n "$(pg_bin_dir)" ] || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
PG_BIN=$(pg_bin_dir)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 30000))
}

WORK=$(mktemp -d /tmp/account-manager-test.XXXXXX)
chmod 755 "$WORK"
PG_PORT=$(free_port)
REDIS_PORT=$(free_port)
PG_USER_RUN=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: run it as the postgres system user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  PG_USER_RUN=(runuser -u postgres --)
fi

cleanup() {
  set +e
  [ -f "$WORK/pg/postmaster.pid" ] && "${PG_USER_RUN[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "tests on SQLite (embedded defaults, no Redis)"
cargo test --workspace

log "starting PostgreSQL on port $PG_PORT and Redis on port $REDIS_PORT"
mkdir -p "$WORK/pg" "$WORK/sock"
[ ${#PG_USER_RUN[@]} -gt 0 ] && chown postgres "$WORK/pg" "$WORK/sock"
"${PG_USER_RUN[@]}" "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust -E UTF8 >/dev/null
"${PG_USER_RUN[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w \
  -o "-p $PG_PORT -k $WORK/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300" \
  start >/dev/null
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --dir "$WORK" --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
for _ in $(seq 1 50); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

log "tests on PostgreSQL + Redis"
TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
  cargo test --workspace

log "all checks and tests passed"
