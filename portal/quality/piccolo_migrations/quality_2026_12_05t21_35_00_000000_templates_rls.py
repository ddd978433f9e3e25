from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-12-05T21:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes and row-level security of QC templates, reject reasons and gate overrides"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS qc_template_tenant_item ON qc_template (tenant, item, position)",
    "CREATE UNIQUE INDEX IF NOT EXISTS reject_reason_tenant_code ON reject_reason (tenant, code)",
    "CREATE INDEX IF NOT EXISTS qc_gate_override_tenant_delivery ON qc_gate_override (tenant, delivery)",
]

# Templates and overrides are the buyer's own: no supplier role reads them
# through the scoping layer, and the database refuses them to a supplier
# user's transaction as well. Reject reasons are read by the tenant's
# suppliers (their rejected lines name them).
BUYER_ONLY = "NOT portal_as_supplier()"
RLS = (
    policy_sql("qc_template", visible=BUYER_ONLY)
    + policy_sql("qc_gate_override", visible=BUYER_ONLY)
    + policy_sql("reject_reason")
)

forwards = indexes_and_policies("quality", ID, DESCRIPTION, INDEXES, RLS)
