from portal.conversations.piccolo_migrations.conversations_2026_12_06t20_30_00_000000_documents_follow_records import KINDS
from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, parent_visible, policy_sql

ID = "2026-12-07T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "supplier policies look their parent row up by key instead of reading every parent row the supplier can see"

# Same rules, cheaper plans. Every supplier policy that follows a parent
# read it as ``col IN (SELECT id FROM parent)``: PostgreSQL plans that as a
# hashed SubPlan and builds the hash from every parent row the user can
# see, each through the parent's own policy, on every statement. A supplier
# opening one document read all 36,000 documents of the tenant's table and
# every order of its supplier (docs/performance.md "Request cost and
# scale"). A correlated EXISTS on the parent's key is one index lookup per
# row read; the parent's policy still limits what the lookup finds, so what
# each user sees is unchanged (tests/tenancy). ``policy_sql`` writes the
# lookup now; here each table's latest policy is written again with the
# same arguments as its latest migration, and the hand-written policies
# that followed a parent the same way are rewritten alike. Here because
# conversations migrates last and its tables are among them.
PARENT_POLICIES = (
    policy_sql("order_line", parents={"order": "outsourced_order"})
    + policy_sql("order_revision", parents={"order": "outsourced_order"})
    + policy_sql("progress_report", supplier_column="supplier", parents={"order": "outsourced_order"})
    + policy_sql("progress_photo", supplier_column="supplier", parents={"report": "progress_report"})
    + policy_sql("document_version", supplier_column="supplier", parents={"document": "document"})
    + policy_sql("qc_requirement", supplier_column="supplier", parents={"order": "outsourced_order"})
    + policy_sql("document_review", supplier_column="supplier", parents={"document": "document"})
    + policy_sql(
        "ncr",
        supplier_column="supplier",
        visible="status <> 'draft' AND (status <> 'cancelled' OR issued_at IS NOT NULL)",
        parents={"order": "outsourced_order"},
    )
    + policy_sql("ncr_step", supplier_column="supplier", parents={"ncr": "ncr"})
    + policy_sql("ncr_entry", supplier_column="supplier", parents={"ncr": "ncr"})
    + policy_sql("ncr_disposition", supplier_column="supplier", parents={"ncr": "ncr"})
    + policy_sql("dispatch", supplier_column="supplier", visible="status <> 'draft'", parents={"order": "outsourced_order"})
    + policy_sql("dispatch_line", supplier_column="supplier", parents={"dispatch": "dispatch"})
    + policy_sql("material_movement", supplier_column="supplier", parents={"dispatch": "dispatch"})
    + policy_sql("delivery", supplier_column="supplier", parents={"order": "outsourced_order"})
    + policy_sql("delivery_line", parents={"delivery": "delivery"})
    + policy_sql("delivery_material_lot", supplier_column="supplier", parents={"delivery": "delivery"})
    + policy_sql("handover_item", supplier_column="supplier", parents={"handover": "handover"})
    + policy_sql("statement_line", supplier_column="supplier", parents={"statement": "statement"})
    + policy_sql("statement_step", supplier_column="supplier", parents={"statement": "statement"})
    + policy_sql("statement_material", supplier_column="supplier", parents={"statement": "statement"})
    + policy_sql("statement_pdf", supplier_column="supplier", parents={"statement": "statement"})
    + policy_sql(
        "conversation_thread",
        supplier_column="supplier",
        visible="side = 'shared'",
        parents={
            "order": "outsourced_order",
            "dispatch": "dispatch",
            "delivery": "delivery",
            "document": "document",
            "ncr": "ncr",
            "handover": "handover",
        },
    )
    + policy_sql("conversation_message", supplier_column="supplier", parents={"thread": "conversation_thread"})
    + policy_sql("conversation_read", supplier_column="supplier", parents={"thread": "conversation_thread"})
)

_CASES = "\n".join(f"    WHEN '{kind}' THEN {parent_visible(table, 'document.attached_id')}" for kind, table in KINDS.items())

# conversations_2026_12_06t20_30 (record_followed), handover_2026_12_06t05_45
# (QC history) and orders_2026_12_02t02_10 (item drawings' versions), each
# with the lookup in place of the IN list.
HAND_WRITTEN = f"""
DROP POLICY IF EXISTS record_followed ON document;
CREATE POLICY record_followed ON document AS RESTRICTIVE FOR SELECT USING (
  NOT portal_as_supplier()
  OR supplier IS DISTINCT FROM nullif(current_setting('app.supplier_id', true), '')::uuid
  OR CASE attached_type
{_CASES}
    WHEN 'message' THEN true
    WHEN 'item' THEN false
    ELSE false
  END);
DROP POLICY IF EXISTS handover_granted ON document_review;
CREATE POLICY handover_granted ON document_review FOR SELECT USING (
  portal_tenant_ok(tenant) AND portal_as_supplier() AND {parent_visible("document", "document_review.document")});
DROP POLICY IF EXISTS handover_revoked ON document_review;
CREATE POLICY handover_revoked ON document_review AS RESTRICTIVE USING (
  NOT portal_as_supplier() OR {parent_visible("document", "document_review.document")});
DROP POLICY IF EXISTS shared_item_documents ON document_version;
CREATE POLICY shared_item_documents ON document_version FOR SELECT USING (
  portal_tenant_ok(tenant)
  AND coalesce(current_setting('app.supplier_id', true), '') <> ''
  AND EXISTS (SELECT 1 FROM document d WHERE d.id = document_version.document AND d.attached_type = 'item'));
"""

forwards = indexes_and_policies("conversations", ID, DESCRIPTION, [], SUPPLIER_FUNCTIONS + PARENT_POLICIES + HAND_WRITTEN)
