from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-11-21T11:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "item keys per tenant and row-level security"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS item_tenant_code ON item (tenant, code)",
    "CREATE INDEX IF NOT EXISTS bom_line_tenant_item ON bom_line (tenant, item)",
]

RLS = policy_sql("item") + policy_sql("bom_line")

forwards = indexes_and_policies("items", ID, DESCRIPTION, INDEXES, RLS)
