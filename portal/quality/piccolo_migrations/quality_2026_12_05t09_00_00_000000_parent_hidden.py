from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a draft order's QC requirements, and reviews of hidden documents, are hidden from the supplier"

RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql("qc_requirement", supplier_column="supplier", parents={"order": "outsourced_order"})
    + policy_sql("document_review", supplier_column="supplier", parents={"document": "document"})
)

forwards = indexes_and_policies("quality", ID, DESCRIPTION, [], RLS)
