from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.rls import policy_sql, run_on_postgres, run_sql

ID = "2026-11-21T11:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "item keys per tenant and row-level security"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS item_tenant_code ON item (tenant, code)",
    "CREATE INDEX IF NOT EXISTS bom_line_tenant_item ON bom_line (tenant, item)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="items", description=DESCRIPTION)

    async def run() -> None:
        from portal.db import get_engine

        engine = get_engine()
        await run_sql(engine, ";".join(INDEXES))
        await run_on_postgres(engine, policy_sql("item") + policy_sql("bom_line"))

    manager.add_raw(run)
    return manager
