from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.revocation import TRIGGER_SQL
from tenants.rls import engine_kind, run_each

ID = "2026-12-06T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "auth generation: a counter that every change to a session, membership, account or tenant moves (triggers)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        from portal.db import get_engine

        engine = get_engine()
        await run_each(engine, TRIGGER_SQL[engine_kind(engine)])

    manager.add_raw(run)
    return manager
