#!/usr/bin/env bash
# Builds and starts both services with embedded defaults (SQLite files under
# ./data, no Redis needed), wired together, prints where they listen, and
# stops them on Ctrl-C. AUTH_* and KANBAN_* variables set in the environment
# are passed through.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin auth-service --bin kanban-service

export AUTH_LOG_FORMAT="${AUTH_LOG_FORMAT:-text}"
export KANBAN_LOG_FORMAT="${KANBAN_LOG_FORMAT:-text}"
export AUTH_BIND="${AUTH_BIND:-127.0.0.1:8081}"
export KANBAN_BIND="${KANBAN_BIND:-127.0.0.1:8082}"
AUTH_URL="${AUTH_PUBLIC_URL:-http://$AUTH_BIND}"
KANBAN_URL="${KANBAN_PUBLIC_URL:-http://$KANBAN_BIND}"
export KANBAN_AUTH_URL="${KANBAN_AUTH_URL:-$AUTH_URL}"
# kanban forwards its callers' addresses to the account manager's sign-in
# limits; on this machine it connects from loopback.
export AUTH_TRUSTED_PROXIES="${AUTH_TRUSTED_PROXIES:-127.0.0.1,::1}"

# kanban looks members up at the account manager and follows its revocation
# feed with client credentials;
# a secret is made once and kept beside the data.
mkdir -p data
if [ ! -s data/kanban-client-secret ]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > data/kanban-client-secret
  chmod 600 data/kanban-client-secret
fi
SECRET=$(cat data/kanban-client-secret)
export AUTH_SERVICE_CLIENTS="${AUTH_SERVICE_CLIENTS:-kanban-service:$SECRET}"
export KANBAN_AUTH_CLIENT_ID="${KANBAN_AUTH_CLIENT_ID:-kanban-service}"
export KANBAN_AUTH_CLIENT_SECRET="${KANBAN_AUTH_CLIENT_SECRET:-$SECRET}"

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

wait_ready() {
  for _ in $(seq 1 100); do
    if curl -fsS "$1/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$1 did not answer /healthz" >&2
  return 1
}

target/debug/auth-service serve &
pids+=($!)
wait_ready "$AUTH_URL"
target/debug/kanban-service serve &
pids+=($!)
wait_ready "$KANBAN_URL"

cat <<MSG

  auth-service (account manager)  $AUTH_URL
      API docs (Swagger UI)       $AUTH_URL/docs
      JWKS                        $AUTH_URL/.well-known/jwks.json
  kanban-service (boards)         $KANBAN_URL
      API docs (Swagger UI)       $KANBAN_URL/docs

  Data: SQLite files under ./data; mail (password-reset and verification
  links) is written to ./data/outbox as .eml files. Press Ctrl-C to stop.

MSG
wait
