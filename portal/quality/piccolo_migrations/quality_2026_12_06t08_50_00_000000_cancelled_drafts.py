from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-06T08:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an NCR cancelled as a draft, never issued, stays hidden from the supplier in the database too"

# The scoping layer's Ncr.supplier_visible again: once issued; a draft QA
# cancelled before issuing it stays QA's. Steps, entries and dispositions
# follow through their parent subqueries.
RLS = SUPPLIER_FUNCTIONS + policy_sql(
    "ncr",
    supplier_column="supplier",
    visible="status <> 'draft' AND (status <> 'cancelled' OR issued_at IS NOT NULL)",
    parents={"order": "outsourced_order"},
)

forwards = indexes_and_policies("quality", ID, DESCRIPTION, [], RLS)
