from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-06T02:08:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "statement PDF renderings: index per tenant, row-level security"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS statement_pdf_tenant_statement_version ON statement_pdf (tenant, statement, statement_version)",
]

# A supplier user sees the renderings of its own statements once sent, as
# the statement itself.
RLS = SUPPLIER_FUNCTIONS + policy_sql("statement_pdf", supplier_column="supplier", parents={"statement": "statement"})

forwards = indexes_and_policies("reconciliation", ID, DESCRIPTION, INDEXES, RLS)
