from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.rls import FUNCTIONS, policy_sql, run_on_postgres, run_sql

ID = "2026-11-21T11:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique keys per tenant and row-level security"

UNIQUE_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS supplier_tenant_code ON supplier (tenant, code)",
    'CREATE UNIQUE INDEX IF NOT EXISTS membership_tenant_user ON membership (tenant, "user")',
]

RLS = (
    FUNCTIONS
    + policy_sql("supplier", supplier_column="id")
    # A user must find their own memberships before a tenant is chosen.
    + policy_sql("membership", extra="\"user\"::text = current_setting('app.user_id', true)")
    + policy_sql("invitation")
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        from portal.db import get_engine

        engine = get_engine()
        await run_sql(engine, ";".join(UNIQUE_INDEXES))
        await run_on_postgres(engine, RLS)

    manager.add_raw(run)
    return manager
