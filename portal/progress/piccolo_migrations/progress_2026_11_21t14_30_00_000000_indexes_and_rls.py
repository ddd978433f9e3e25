from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-11-21T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "progress keys and timeline indexes per tenant, row-level security"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS progress_stage_tenant_code ON progress_stage (tenant, code)",
    # Exactly once per phone-generated id: retries of one report hit this key.
    "CREATE UNIQUE INDEX IF NOT EXISTS progress_report_client_id ON progress_report (tenant, supplier, client_id)",
    'CREATE INDEX IF NOT EXISTS progress_report_tenant_order ON progress_report (tenant, "order", made_at)',
    "CREATE INDEX IF NOT EXISTS progress_report_tenant_line ON progress_report (tenant, order_line, made_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS progress_photo_report_sha256 ON progress_photo (report, sha256)",
]

# Stages are the tenant's reference data, read by its suppliers too.
RLS = (
    policy_sql("progress_stage")
    + policy_sql("progress_report", supplier_column="supplier")
    + policy_sql("progress_photo", supplier_column="supplier")
)

forwards = indexes_and_policies("progress", ID, DESCRIPTION, INDEXES, RLS)
