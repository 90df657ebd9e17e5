#!/usr/bin/env bash
# Keeps the layering ARCHITECTURE.md describes: each rule is a grep that
# must find nothing. Run by scripts/test.sh; exits non-zero on a violation.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=0
forbid() {
  local rule="$1" pattern="$2"
  shift 2
  local path
  for path in "$@"; do
    if [ ! -e "$path" ]; then
      printf 'layering: %s names %s, which does not exist\n' "$rule" "$path"
      failed=1
    fi
  done
  local hits
  hits=$(grep -rnE "$pattern" "$@" 2>/dev/null)
  if [ -n "$hits" ]; then
    printf 'layering: %s\n%s\n\n' "$rule" "$hits"
    failed=1
  fi
}

for service in auth-service kanban-service; do
  forbid "$service: api/ reaches storage only through the domain" \
    'crate::(store|entity)|sea_orm' "$service/src/api"
done
forbid "domain rooms know nothing of the HTTP server" \
  '\bpoem(_openapi)?::|use poem' \
  auth-service/src/accounts auth-service/src/tokens auth-service/src/audit.rs \
  kanban-service/src/boards kanban-service/src/accounts kanban-service/src/avatars.rs
forbid "domain rooms never call back into the API, wiring or state" \
  'crate::(api|startup|state)\b' \
  auth-service/src/accounts auth-service/src/tokens auth-service/src/audit.rs \
  kanban-service/src/boards kanban-service/src/accounts kanban-service/src/avatars.rs
forbid "boards/ never sees SQL or the ORM" 'sea_orm|Statement|crate::entity' kanban-service/src/boards
forbid "tokens/ takes decided subjects; it never asks accounts/" 'crate::accounts' auth-service/src/tokens
forbid "the audit log is a leaf: it records what others tell it" \
  'crate::(accounts|tokens|throttle|mail)' auth-service/src/audit.rs
forbid "shared depends on no service" 'auth[-_]service|kanban[-_]service' shared/src shared/Cargo.toml

if [ "$failed" = 0 ]; then
  echo "layering: ok"
fi
exit "$failed"
