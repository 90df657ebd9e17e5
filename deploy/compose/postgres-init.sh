#!/bin/sh
# Runs once, when the PostgreSQL volume is new (docker-entrypoint-initdb.d):
# one role and one database a service, each owning its own.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v auth_password="$AUTH_DB_PASSWORD" -v kanban_password="$KANBAN_DB_PASSWORD" <<'SQL'
CREATE ROLE auth LOGIN PASSWORD :'auth_password';
CREATE DATABASE auth OWNER auth;
CREATE ROLE kanban LOGIN PASSWORD :'kanban_password';
CREATE DATABASE kanban OWNER kanban;
SQL
