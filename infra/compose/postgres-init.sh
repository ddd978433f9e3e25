#!/bin/sh
# Runs once, when the data volume is first created: the role the app connects
# as. It owns no table and cannot bypass row-level security; `portal migrate`
# (as portal_owner) grants it what it may do.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_password="$PORTAL_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE portal_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'app_password';
SQL
