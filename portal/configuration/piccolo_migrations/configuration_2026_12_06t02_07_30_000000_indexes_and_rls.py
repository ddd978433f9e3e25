from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-12-06T02:07:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "one row per category key and per item, row-level security"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS document_category_key ON document_category (tenant, key)",
    "CREATE UNIQUE INDEX IF NOT EXISTS item_tolerance_item ON item_tolerance (tenant, item)",
]

RLS = policy_sql("document_category") + policy_sql("item_tolerance")

forwards = indexes_and_policies("configuration", ID, DESCRIPTION, INDEXES, RLS)
