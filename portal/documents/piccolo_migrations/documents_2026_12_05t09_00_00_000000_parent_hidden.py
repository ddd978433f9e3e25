from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a document's versions are visible to a supplier only with the document"

RLS = SUPPLIER_FUNCTIONS + policy_sql("document_version", supplier_column="supplier", parents={"document": "document"})

forwards = indexes_and_policies("documents", ID, DESCRIPTION, [], RLS)
