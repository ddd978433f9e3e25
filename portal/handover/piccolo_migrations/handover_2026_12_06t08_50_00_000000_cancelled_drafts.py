from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies

ID = "2026-12-06T08:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a handover cancelled as a draft, never started, stays hidden from both suppliers in the database too"

# The scoping layer's Handover.supplier_visible again: once started; a
# draft cancelled before it started is the buyer's own. Its entries follow
# through their parent subquery.
HANDOVER = """
DROP POLICY IF EXISTS tenant_isolation ON handover;
CREATE POLICY tenant_isolation ON handover USING (
  portal_tenant_ok(tenant)
  AND (portal_supplier_ok(from_supplier) OR portal_supplier_ok(to_supplier))
  AND (NOT portal_as_supplier() OR (status <> 'draft' AND (status <> 'cancelled' OR started_at IS NOT NULL)))
) WITH CHECK (portal_tenant_ok(tenant) AND NOT portal_as_supplier());
"""

forwards = indexes_and_policies("handover", ID, DESCRIPTION, [], SUPPLIER_FUNCTIONS + HANDOVER)
