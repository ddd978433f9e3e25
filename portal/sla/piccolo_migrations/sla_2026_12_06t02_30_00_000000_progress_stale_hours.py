from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.rls import run_sql

ID = "2026-12-06T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "response rules: hours without progress before a due line is reminded or escalated"

STATEMENTS = ["ALTER TABLE response_rule ADD COLUMN progress_stale_hours INTEGER NOT NULL DEFAULT 24"]


async def forwards():
    from portal.db import get_engine

    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(get_engine(), ";".join(STATEMENTS))

    manager.add_raw(run)
    return manager
