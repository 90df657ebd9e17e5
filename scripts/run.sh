#!/usr/bin/env bash
# Builds and starts the services with embedded defaults (SQLite files under
# ./data, no Redis needed), prints where they listen, and stops them on Ctrl-C.
# Any AUTH_* variable set in the environment is passed through.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin auth-service

export AUTH_LOG_FORMAT="${AUTH_LOG_FORMAT:-text}"
export AUTH_BIND="${AUTH_BIND:-127.0.0.1:8081}"
AUTH_URL="${AUTH_PUBLIC_URL:-http://$AUTH_BIND}"

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

target/debug/auth-service serve &
pids+=($!)

wait_ready() {
  for _ in $(seq 1 100); do
    if curl -fsS "$1/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$1 did not answer /healthz" >&2
  return 1
}
wait_ready "$AUTH_URL"

cat <<MSG

  auth-service (account manager)  $AUTH_URL
      API docs (Swagger UI)       $AUTH_URL/docs
      OpenAPI document            $AUTH_URL/openapi.json
      JWKS                        $AUTH_URL/.well-known/jwks.json

  Data: SQLite files under ./data. Press Ctrl-C to stop.

MSG
wait
