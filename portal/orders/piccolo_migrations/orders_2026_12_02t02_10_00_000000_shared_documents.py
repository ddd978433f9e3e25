from tenants.rls import run_on_postgres, run_sql

ID = "2026-12-02T02:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents of draft orders are not shared yet; suppliers read the drawings of their issued orders' items"

# Documents stored on a draft order used to carry the order's supplier at
# once, which showed them to the supplier before the order was issued. They
# become the buyer's own again; issuing the order shares them.
UNSHARE_DRAFTS = """
UPDATE document SET supplier = NULL WHERE supplier IS NOT NULL AND (
  (attached_type = 'order' AND attached_id IN (SELECT id FROM outsourced_order WHERE status = 'draft'))
  OR (attached_type = 'order_line' AND attached_id IN (
    SELECT l.id FROM order_line l JOIN outsourced_order o ON o.id = l."order" WHERE o.status = 'draft')));
UPDATE document_version SET supplier = NULL WHERE supplier IS NOT NULL
  AND document IN (SELECT id FROM document WHERE supplier IS NULL)
"""

# A second, permissive policy (policies are OR-ed) repeating the scoping
# rule of orders.services.items_on_shared_orders: supplier users may read
# the documents of the items on their issued orders' lines. Reads only.
ITEM_DRAWINGS = """
DROP POLICY IF EXISTS shared_item_documents ON document;
CREATE POLICY shared_item_documents ON document FOR SELECT USING (
  portal_tenant_ok(tenant)
  AND coalesce(current_setting('app.supplier_id', true), '') <> ''
  AND attached_type = 'item'
  AND attached_id IN (
    SELECT l.item FROM order_line l JOIN outsourced_order o ON o.id = l."order"
    WHERE o.status <> 'draft' AND NOT l.removed
      AND o.supplier::text = current_setting('app.supplier_id', true)));
DROP POLICY IF EXISTS shared_item_documents ON document_version;
CREATE POLICY shared_item_documents ON document_version FOR SELECT USING (
  portal_tenant_ok(tenant)
  AND coalesce(current_setting('app.supplier_id', true), '') <> ''
  AND document IN (SELECT d.id FROM document d WHERE d.attached_type = 'item'));
"""


async def forwards() -> object:
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager

    from portal.db import get_engine

    manager = MigrationManager(migration_id=ID, app_name="orders", description=DESCRIPTION)

    async def run() -> None:
        engine = get_engine()
        # The owner is subject to row-level security too (FORCE): a named
        # system scope for this one transaction lets the update see rows.
        await run_on_postgres(engine, "SELECT set_config('app.system', 'on', true)")
        await run_sql(engine, UNSHARE_DRAFTS)
        await run_on_postgres(engine, "SELECT set_config('app.system', '', true)")
        await run_on_postgres(engine, ITEM_DRAWINGS)

    manager.add_raw(run)
    return manager
