from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.decimals import store_sqlite_decimals_as_text

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "exact decimals on SQLite: quantities, prices and rates stored as text"

COLUMNS = {
    "tenant": ("over_delivery_tolerance", "dispatch_tolerance"),
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        from portal.db import get_engine

        await store_sqlite_decimals_as_text(get_engine(), COLUMNS)

    manager.add_raw(run)
    return manager
