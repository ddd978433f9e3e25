from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.rls import FUNCTIONS, run_on_postgres

ID = "2026-12-06T03:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "RLS checks compare uuids, so the planner estimates them from the statistics"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        from portal.db import get_engine

        # The policies call these functions, so every policy follows.
        await run_on_postgres(get_engine(), FUNCTIONS)

    manager.add_raw(run)
    return manager
