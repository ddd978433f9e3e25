from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-11-21T11:57:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "document indexes (tenant first) and row-level security"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS document_tenant_attached ON document (tenant, attached_type, attached_id)",
    "CREATE INDEX IF NOT EXISTS document_tenant_created ON document (tenant, created_at, id)",
    "CREATE INDEX IF NOT EXISTS document_tenant_supplier ON document (tenant, supplier)",
    # Unique: two uploads can never both become version n of a document.
    "CREATE UNIQUE INDEX IF NOT EXISTS document_version_tenant_document_version ON document_version (tenant, document, version)",
    "CREATE INDEX IF NOT EXISTS document_version_tenant_supplier ON document_version (tenant, supplier)",
    "CREATE INDEX IF NOT EXISTS document_version_preview_status ON document_version (preview_status)",
]

# The policy functions exist already: the tenants app's migrations run first.
# Versions carry their document's supplier, so the same rule applies to both
# without a join: supplier users see only rows of their own supplier (and no
# buyer-internal rows, whose supplier is NULL).
RLS = policy_sql("document", supplier_column="supplier") + policy_sql("document_version", supplier_column="supplier")

forwards = indexes_and_policies("documents", ID, DESCRIPTION, INDEXES, RLS)
