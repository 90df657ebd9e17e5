# Throwaway PostgreSQL and Redis servers for tests and benchmarks.
# Source this file, then call `start_servers`; it sets PG_URL (an admin URL),
# REDIS_URL and WORK, and stops the servers and removes their data on exit.
#
#   start_servers           fast settings for tests: PostgreSQL with fsync=off and
#                           synchronous_commit=off, Redis without persistence
#   start_servers durable   production settings for benchmarks: PostgreSQL with
#                           fsync=on and synchronous_commit=on, Redis with an
#                           append-only file written every second (appendfsync everysec)
# Installs postgresql and redis-server with apt-get when they are missing.

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

ensure_server_packages() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [ -n "$(pg_bin_dir)" ] || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 30000))
}

stop_servers() {
  set +e
  [ -n "${WORK:-}" ] || return 0
  [ -f "$WORK/pg/postmaster.pid" ] && "${PG_USER_RUN[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null
  rm -rf "$WORK"
}

start_servers() {
  local durability="${1:-fast}"
  local pg_settings redis_settings
  case "$durability" in
    fast)
      pg_settings="-c fsync=off -c synchronous_commit=off"
      redis_settings=(--save '' --appendonly no) ;;
    durable)
      pg_settings="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
      redis_settings=(--save '' --appendonly yes --appendfsync everysec) ;;
    *) echo "start_servers: unknown durability $durability (fast or durable)" >&2; return 2 ;;
  esac
  ensure_server_packages
  PG_BIN=$(pg_bin_dir)
  WORK=$(mktemp -d /tmp/account-manager-servers.XXXXXX)
  chmod 755 "$WORK"
  trap stop_servers EXIT
  local pg_port redis_port
  pg_port=$(free_port)
  redis_port=$(free_port)
  PG_USER_RUN=()
  mkdir -p "$WORK/pg" "$WORK/sock"
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: run it as the postgres system user.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    PG_USER_RUN=(runuser -u postgres --)
    chown postgres "$WORK/pg" "$WORK/sock"
  fi
  log "starting PostgreSQL on port $pg_port and Redis on port $redis_port ($durability settings)"
  if [ "$durability" = durable ] && [ "$(stat -f -c %T "$WORK")" = tmpfs ]; then
    echo "warning: $WORK is on tmpfs, where fsync costs nothing: durable figures would flatter" >&2
  fi
  "${PG_USER_RUN[@]}" "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust -E UTF8 >/dev/null
  "${PG_USER_RUN[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w \
    -o "-p $pg_port -k $WORK/sock -c listen_addresses=127.0.0.1 $pg_settings -c max_connections=300" \
    start >/dev/null
  redis-server --port "$redis_port" --bind 127.0.0.1 "${redis_settings[@]}" --daemonize yes \
    --dir "$WORK" --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  PG_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
  REDIS_URL="redis://127.0.0.1:$redis_port"
}
