from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.orders.counting import CANCELLED_DRAFT, RECOUNT, TRIGGERS
from tenants.rls import SUPPLIER_FUNCTIONS, engine_kind, policy_sql, run_each, run_on_postgres

ID = "2026-12-06T08:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an order cancelled as a draft, never issued, stays hidden from the supplier in the database too"

# The scoping layer's rule again (orders.tables.shared_with_supplier): a
# supplier user sees an order once issued; a draft cancelled before it was
# ever issued is the buyer's own, and so are the drawings of its items.
# Lines and revisions follow through their parent subqueries. The status
# counts hold such drafts apart (portal.orders.counting), out of the
# supplier's counts.
SHARED = "status <> 'draft' AND (status <> 'cancelled' OR issued_at IS NOT NULL)"

ITEM_DRAWINGS = f"""
DROP POLICY IF EXISTS shared_item_documents ON document;
CREATE POLICY shared_item_documents ON document FOR SELECT USING (
  portal_tenant_ok(tenant)
  AND coalesce(current_setting('app.supplier_id', true), '') <> ''
  AND attached_type = 'item'
  AND attached_id IN (
    SELECT l.item FROM order_line l JOIN outsourced_order o ON o.id = l."order"
    WHERE o.status <> 'draft' AND (o.status <> 'cancelled' OR o.issued_at IS NOT NULL) AND NOT l.removed
      AND o.supplier::text = current_setting('app.supplier_id', true)));
"""

RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql("outsourced_order", supplier_column="supplier", visible=SHARED)
    + ITEM_DRAWINGS
    + policy_sql("order_status_count", supplier_column="supplier", visible=f"status NOT IN ('draft', '{CANCELLED_DRAFT}')")
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="orders", description=DESCRIPTION)

    async def run() -> None:
        from portal.db import get_engine

        engine = get_engine()
        await run_each(engine, TRIGGERS[engine_kind(engine)])
        await run_on_postgres(engine, RLS)
        # Counted again with cancelled drafts apart, once as the owner
        # across tenants; from here on the triggers keep the counts.
        await run_on_postgres(engine, "SELECT set_config('app.system', 'on', true)")
        await run_each(engine, RECOUNT)
        await run_on_postgres(engine, "SELECT set_config('app.system', '', true)")

    manager.add_raw(run)
    return manager
