#!/bin/sh
# Runs once, when the postgres container initialises its data directory: the app role that
# web and workers use. No superuser, no BYPASSRLS, owns nothing; `migrate` grants it rows.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE crm_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
-- Owns the search functions that read past row-level security to use indexes (each one
-- applies the organisation rule itself); it cannot log in.
CREATE ROLE crm_maintenance NOLOGIN BYPASSRLS;
SQL
