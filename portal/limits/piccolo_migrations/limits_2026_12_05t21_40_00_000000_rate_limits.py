from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.rls import run_sql

ID = "2026-12-05T21:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "request counters of the rate limits"

# The same statements on SQLite and PostgreSQL; the app role gets its grants
# from `portal migrate` like on every table. No RLS: not tenant data.
STATEMENTS = [
    "CREATE TABLE IF NOT EXISTS rate_limit_hit (key VARCHAR(200) PRIMARY KEY, hits INTEGER NOT NULL DEFAULT 0, expires_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rate_limit_hit_expires_at ON rate_limit_hit (expires_at)",
]


async def forwards():
    from portal.db import get_engine

    manager = MigrationManager(migration_id=ID, app_name="limits", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(get_engine(), ";".join(STATEMENTS))

    manager.add_raw(run)
    return manager
