#!/usr/bin/env bash
# Fuzzes both services from their own OpenAPI documents with schemathesis
# (`--checks all`, every phase, stateful links included), signed in through
# the running account manager (scripts/fuzz/hooks.py), and fails on any
# failure, any server error, or fewer generated cases than FUZZ_MIN_CASES
# per service.
#
#   scripts/fuzz.sh                 both services on fresh SQLite files
#   FUZZ_DATABASE_URL=postgres://…/postgres FUZZ_REDIS_URL=redis://… scripts/fuzz.sh
#                                   on fresh databases of that PostgreSQL
#                                   server (an admin URL), following Redis
#
# FUZZ_MAX_EXAMPLES (default 25) bounds the cases per operation and phase;
# FUZZ_TIME_LIMIT (default 600 s) bounds each service's run; FUZZ_SEED
# (default 1) picks the generated cases; FUZZ_OUT names a folder to keep
# the full reports and both services' logs in.
# schemathesis is installed into a virtual environment under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/servers.sh

SCHEMATHESIS_VERSION=4.32.5
VENV="$(realpath -m "${FUZZ_VENV:-target/fuzz-venv}")"
MIN_CASES="${FUZZ_MIN_CASES:-2000}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-25}"
TIME_LIMIT="${FUZZ_TIME_LIMIT:-600}"

if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet --bin auth-service --bin kanban-service

RUN=$(mktemp -d /tmp/account-manager-fuzz.XXXXXX)
pids=()
finish() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${FUZZ_OUT:-}" ]; then mkdir -p "$FUZZ_OUT" && cp "$RUN"/*.out "$RUN"/*.log "$FUZZ_OUT"/ 2>/dev/null; fi
  rm -rf "$RUN"
}
trap finish EXIT

suffix="$(date +%s)_$$"
if [ -n "${FUZZ_DATABASE_URL:-}" ]; then
  psql="$(pg_bin_dir)/psql"
  for name in auth kanban; do
    "$psql" "$FUZZ_DATABASE_URL" -qc "CREATE DATABASE fuzz_${name}_$suffix" >/dev/null
  done
  auth_db="${FUZZ_DATABASE_URL%/*}/fuzz_auth_$suffix"
  kanban_db="${FUZZ_DATABASE_URL%/*}/fuzz_kanban_$suffix"
  backend="PostgreSQL"
else
  auth_db="sqlite://$RUN/auth.db?mode=rwc"
  kanban_db="sqlite://$RUN/kanban.db?mode=rwc"
  backend="SQLite"
fi
if [ -n "${FUZZ_REDIS_URL:-}" ]; then
  export AUTH_REDIS_URL="$FUZZ_REDIS_URL" KANBAN_REDIS_URL="$FUZZ_REDIS_URL"
  export AUTH_REDIS_PREFIX="fuzz-$suffix" KANBAN_REDIS_PREFIX="fuzz-$suffix"
  backend="$backend + Redis"
fi

auth_port=$(free_port)
kanban_port=$(free_port)
AUTH_URL="http://127.0.0.1:$auth_port"
KANBAN_URL="http://127.0.0.1:$kanban_port"
SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

# Google sign-in is configured with the account manager's own key set as
# the issuer's (a real local one): the fuzzer's ID tokens are refused as
# badly signed, never as "not configured".
# The sign-in limits are raised so the fuzzer reaches the routes behind
# them (each limit has tests of its own), and hashing is made cheap: the
# run is about the contract, not the password hash.
AUTH_BIND="127.0.0.1:$auth_port" AUTH_PUBLIC_URL="$AUTH_URL" \
  AUTH_DATABASE_URL="$auth_db" AUTH_MAIL_OUTBOX="$RUN/outbox" \
  AUTH_SERVICE_CLIENTS="kanban-service:$SECRET" AUTH_TRUSTED_PROXIES="127.0.0.1,::1" \
  AUTH_LOGIN_LIMIT=1000000/1 AUTH_LOGIN_FAILURE_LIMIT=1000000/1 AUTH_REGISTER_LIMIT=1000000/1 \
  AUTH_REFRESH_LIMIT=1000000/1 AUTH_RECOVERY_LIMIT=1000000/1 \
  AUTH_ARGON2_MEMORY_KIB=256 AUTH_ARGON2_ITERATIONS=1 AUTH_LOG_FORMAT=text \
  AUTH_GOOGLE_CLIENT_IDS=fuzz-google-client AUTH_GOOGLE_JWKS_URL="$AUTH_URL/.well-known/jwks.json" \
  target/debug/auth-service serve >"$RUN/auth.log" 2>&1 &
pids+=($!)
KANBAN_BIND="127.0.0.1:$kanban_port" KANBAN_PUBLIC_URL="$KANBAN_URL" \
  KANBAN_DATABASE_URL="$kanban_db" KANBAN_AUTH_URL="$AUTH_URL" \
  KANBAN_AUTH_CLIENT_ID=kanban-service KANBAN_AUTH_CLIENT_SECRET="$SECRET" KANBAN_LOG_FORMAT=text \
  target/debug/kanban-service serve >"$RUN/kanban.log" 2>&1 &
pids+=($!)
for url in "$AUTH_URL" "$KANBAN_URL"; do
  for _ in $(seq 1 200); do
    curl -fsS "$url/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "$url/readyz" >/dev/null || { echo "$url is not ready" >&2; cat "$RUN"/*.log >&2; exit 1; }
done

# The first account is the admin; the hooks sign in as it for admin routes.
export FUZZ_AUTH_URL="$AUTH_URL" FUZZ_ADMIN_EMAIL="fuzz-admin@example.com"
export FUZZ_PASSWORD="fuzz-password-$SECRET" FUZZ_CLIENT_ID=kanban-service FUZZ_CLIENT_SECRET="$SECRET"
curl -fsS -o /dev/null -H 'content-type: application/json' \
  -d "{\"email\":\"$FUZZ_ADMIN_EMAIL\",\"password\":\"$FUZZ_PASSWORD\",\"password2\":\"$FUZZ_PASSWORD\"}" \
  "$AUTH_URL/api/v1/auth/register/email"

export PYTHONPATH="$PWD/scripts/fuzz" SCHEMATHESIS_HOOKS=hooks
CONFIG="$PWD/scripts/fuzz/schemathesis.toml"
status=0
for service in auth:"$AUTH_URL" kanban:"$KANBAN_URL"; do
  name="${service%%:*}"
  url="${service#*:}"
  log "schemathesis on $name-service ($backend)"
  out="$RUN/$name.out"
  set +e
  # Run from the scratch folder, so no cache of an earlier run replays.
  (cd "$RUN" && timeout "$TIME_LIMIT" "$VENV/bin/st" --config-file "$CONFIG" run "$url/openapi.json" \
    --checks all --max-examples "$MAX_EXAMPLES" --request-timeout 40 \
    --workers 1 --no-color --seed "${FUZZ_SEED:-1}") >"$out" 2>&1
  code=$?
  set -e
  cases=$(awk '/generated/ { for (i = 1; i < NF; i++) if ($(i + 1) == "generated" || $(i + 1) == "generated,") print $i }' "$out" | tail -n 1)
  # Every error and failure in full, and the summary.
  if grep -qE '^=+ (ERRORS|FAILURES|SUMMARY) =+$' "$out"; then
    awk '/^=+ (ERRORS|FAILURES|SUMMARY) =+$/ { on = 1 } on' "$out"
  else
    tail -n 40 "$out"
  fi
  if [ "$code" -ne 0 ]; then
    echo "schemathesis found failures on $name-service (exit $code)" >&2
    [ "$code" -eq 124 ] && echo "it ran past FUZZ_TIME_LIMIT=$TIME_LIMIT s" >&2
    status=1
  elif [ -z "$cases" ] || [ "$cases" -lt "$MIN_CASES" ]; then
    echo "schemathesis generated ${cases:-no} cases on $name-service, fewer than $MIN_CASES" >&2
    status=1
  else
    echo "$name-service: $cases cases, no failures"
  fi
  if grep -E "panicked|ERROR" "$RUN/$name.log" >/dev/null; then
    echo "$name-service logged errors during the run:" >&2
    grep -E "panicked|ERROR" "$RUN/$name.log" | head -n 20 >&2
    status=1
  fi
done
exit "$status"
