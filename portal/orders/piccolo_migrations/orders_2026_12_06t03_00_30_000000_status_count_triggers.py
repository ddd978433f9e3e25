from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.orders.counting import BACKFILL, TRIGGERS
from tenants.rls import engine_kind, policy_sql, run_each, run_on_postgres

ID = "2026-12-06T03:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "status counts kept by triggers; board indexes in the order each list sorts"

# Each list reads its page off an index in the order it sorts: the buyer's
# board unfiltered (tenant, due date, id) and a supplier's (tenant,
# supplier, due date, id); filtered by status the older indexes serve.
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS order_status_count_key ON order_status_count (tenant, supplier, status)",
    "CREATE INDEX IF NOT EXISTS order_tenant_due ON outsourced_order (tenant, due_date, id)",
    "CREATE INDEX IF NOT EXISTS order_tenant_supplier_due ON outsourced_order (tenant, supplier, due_date, id)",
]

# A supplier counts only what is shared with it, as it sees only those orders.
RLS = policy_sql("order_status_count", supplier_column="supplier", visible="status <> 'draft'")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="orders", description=DESCRIPTION)

    async def run() -> None:
        from portal.db import get_engine

        engine = get_engine()
        await run_each(engine, [*INDEXES, *TRIGGERS[engine_kind(engine)]])
        await run_on_postgres(engine, RLS)
        # The orders that exist already, counted once as the owner across
        # tenants; from here on the triggers keep the counts.
        await run_on_postgres(engine, "SELECT set_config('app.system', 'on', true)")
        await run_each(engine, [BACKFILL])
        await run_on_postgres(engine, "SELECT set_config('app.system', '', true)")

    manager.add_raw(run)
    return manager
