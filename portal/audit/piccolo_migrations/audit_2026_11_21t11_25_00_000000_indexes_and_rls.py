from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.rls import policy_sql, run_on_postgres, run_sql

ID = "2026-11-21T11:25:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit sequence and entity indexes, row-level security"

INDEXES = [
    # Unique: two events can never share a place in a tenant's chain.
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_event_tenant_seq ON audit_event (tenant, seq)",
    "CREATE INDEX IF NOT EXISTS audit_event_tenant_entity ON audit_event (tenant, entity_type, entity_id)",
]

# The policy functions exist already: the tenants app's migrations run first.
RLS = policy_sql("audit_event") + policy_sql("audit_chain_head")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run() -> None:
        from portal.db import get_engine

        engine = get_engine()
        await run_sql(engine, ";".join(INDEXES))
        await run_on_postgres(engine, RLS)

    manager.add_raw(run)
    return manager
