from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-12-02T02:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "quality indexes per tenant, row-level security"

INDEXES = [
    'CREATE INDEX IF NOT EXISTS qc_requirement_tenant_order ON qc_requirement (tenant, "order")',
    "CREATE INDEX IF NOT EXISTS qc_requirement_tenant_supplier ON qc_requirement (tenant, supplier, created_at)",
    "CREATE INDEX IF NOT EXISTS document_review_tenant_document ON document_review (tenant, document, version, reviewed_at)",
]

RLS = policy_sql("qc_requirement", supplier_column="supplier") + policy_sql("document_review", supplier_column="supplier")

forwards = indexes_and_policies("quality", ID, DESCRIPTION, INDEXES, RLS)
