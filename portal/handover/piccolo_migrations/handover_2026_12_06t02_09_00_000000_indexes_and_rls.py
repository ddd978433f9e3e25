from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-06T02:09:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "handover indexes per tenant, row-level security, and the access a completed handover moves"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS handover_template_tenant ON handover_template (tenant)",
    "CREATE UNIQUE INDEX IF NOT EXISTS handover_tenant_number ON handover (tenant, number)",
    "CREATE INDEX IF NOT EXISTS handover_tenant_created ON handover (tenant, created_at, id)",
    "CREATE INDEX IF NOT EXISTS handover_item_tenant_handover ON handover_item (tenant, handover, position)",
    "CREATE INDEX IF NOT EXISTS handover_access_tenant_supplier ON handover_access (tenant, supplier, effect, record_id)",
    "CREATE INDEX IF NOT EXISTS handover_link_tenant_handover ON handover_link (tenant, handover, kind)",
]

_SUPPLIER = "current_setting('app.supplier_id', true)"
_REVOKED = f"SELECT record_id FROM handover_access WHERE effect = 'revoke' AND supplier::text = {_SUPPLIER}"  # noqa: S608
_GRANTED = f"SELECT record_id FROM handover_access WHERE effect = 'grant' AND supplier::text = {_SUPPLIER}"  # noqa: S608

# The handover itself: the outgoing supplier's or the incoming one's, once
# started (the scoping layer's Handover.supplier_share and supplier_visible).
HANDOVER = """
ALTER TABLE handover ENABLE ROW LEVEL SECURITY;
ALTER TABLE handover FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON handover;
CREATE POLICY tenant_isolation ON handover USING (
  portal_tenant_ok(tenant)
  AND (portal_supplier_ok(from_supplier) OR portal_supplier_ok(to_supplier))
  AND (NOT portal_as_supplier() OR status <> 'draft')
) WITH CHECK (portal_tenant_ok(tenant) AND NOT portal_as_supplier());
"""

# What a completed handover took away from the outgoing supplier stays
# away: restrictive policies (AND-ed with every permissive one) on the
# orders and the documents, repeating tenants.scoping's supplier limits.
# Lines, revisions, deliveries, dispatches, QC requirements and versions
# follow through their parent subqueries.
REVOKED = f"""
DROP POLICY IF EXISTS handover_revoked ON outsourced_order;
CREATE POLICY handover_revoked ON outsourced_order AS RESTRICTIVE USING (
  NOT portal_as_supplier() OR id NOT IN ({_REVOKED}));
DROP POLICY IF EXISTS handover_revoked ON document;
CREATE POLICY handover_revoked ON document AS RESTRICTIVE USING (
  NOT portal_as_supplier() OR attached_id NOT IN ({_REVOKED}));
"""

# What it gave the incoming supplier to read: the documents attached to the
# handed-over orders, their lines and deliveries (documents.attachments
# share_with_suppliers, registered by portal.handover.access). Reads only.
GRANTED = f"""
DROP POLICY IF EXISTS handover_granted ON document;
CREATE POLICY handover_granted ON document FOR SELECT USING (
  portal_tenant_ok(tenant) AND portal_as_supplier() AND attached_id IN ({_GRANTED}));
DROP POLICY IF EXISTS handover_granted ON document_version;
CREATE POLICY handover_granted ON document_version FOR SELECT USING (
  portal_tenant_ok(tenant) AND portal_as_supplier()
  AND document IN (SELECT id FROM document WHERE attached_id IN ({_GRANTED})));
"""

RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql("handover_template")
    + HANDOVER
    + policy_sql("handover_item", supplier_column="supplier", parents={"handover": "handover"})
    + policy_sql("handover_access", supplier_column="supplier")
    + policy_sql("handover_link", supplier_column="supplier")
    + REVOKED
    + GRANTED
)

forwards = indexes_and_policies("handover", ID, DESCRIPTION, INDEXES, RLS)
