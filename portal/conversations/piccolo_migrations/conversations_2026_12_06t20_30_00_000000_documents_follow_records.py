from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies

ID = "2026-12-06T20:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a supplier reads its own documents only while it reads the record each is attached to (row-level security)"

# The scoping layer's per-row rule (``Scoped.record_read``: a document
# names its record by kind and id and follows it) repeated in SQL for
# supplier users: a document of its own supplier is visible only while the
# record it is attached to is, each record read through a subquery that the
# record table's own policy limits (drafts, other suppliers, handed-over
# work). Documents of no supplier or another one stand on the other
# policies (item drawings, work handed over). A kind missing here reaches
# no supplier, as in the app.
#
# One kind is left to the app: a file on a message. The message's policy
# follows its thread, the thread's follows the QC document it may be about,
# and that document's would follow the message again: PostgreSQL refuses
# such a policy ("infinite recursion detected in policy for relation
# document") when any query plans it, even for another kind. Those files
# are shared by ``share_thread_files`` only when their record is, and the
# scoping layer still checks each one.
#
# Here, not in documents: the record tables belong to apps migrated after
# documents, and conversations (the message table) comes last.
KINDS = {
    "delivery": "delivery",
    "delivery_line": "delivery_line",
    "dispatch": "dispatch",
    "handover": "handover",
    "handover_item": "handover_item",
    "ncr": "ncr",
    "ncr_step": "ncr_step",
    "order": "outsourced_order",
    "order_line": "order_line",
    "progress_report": "progress_report",
    "statement": "statement",
    "supplier": "supplier",
}
_CASES = "\n".join(f"    WHEN '{kind}' THEN attached_id IN (SELECT id FROM \"{table}\")" for kind, table in KINDS.items())

RLS = (
    SUPPLIER_FUNCTIONS
    + f"""
DROP POLICY IF EXISTS record_followed ON document;
CREATE POLICY record_followed ON document AS RESTRICTIVE FOR SELECT USING (
  NOT portal_as_supplier()
  OR supplier IS DISTINCT FROM nullif(current_setting('app.supplier_id', true), '')::uuid
  OR CASE attached_type
{_CASES}
    WHEN 'message' THEN true
    -- An item's drawings are shared with no one supplier (its resolver
    -- names none; suppliers read them by the shared_item_documents
    -- policy): one naming a supplier as its own is read by nobody, as in
    -- the app, where a supplier reads no item row as its own.
    WHEN 'item' THEN false
    ELSE false
  END);
"""
)

forwards = indexes_and_policies("conversations", ID, DESCRIPTION, [], RLS)
