from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-11-21T11:55:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "order keys and board indexes per tenant, row-level security"

# Every index starts with the tenant: a tenant's board never scans another
# tenant's rows, however many there are.
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS order_tenant_number ON outsourced_order (tenant, number)",
    "CREATE INDEX IF NOT EXISTS order_tenant_status_due ON outsourced_order (tenant, status, due_date, id)",
    "CREATE INDEX IF NOT EXISTS order_tenant_supplier_status_due ON outsourced_order (tenant, supplier, status, due_date, id)",
    'CREATE INDEX IF NOT EXISTS order_line_tenant_order ON order_line (tenant, "order", line_no)',
    'CREATE INDEX IF NOT EXISTS order_revision_unacknowledged ON order_revision (tenant, "order") WHERE acknowledged_at IS NULL',
    "CREATE UNIQUE INDEX IF NOT EXISTS order_counter_tenant_year ON order_counter (tenant, year)",
]

# Lines and revisions are limited to the tenant in the database; the
# scoping layer limits them to the supplier through their order.
RLS = policy_sql("outsourced_order", supplier_column="supplier") + policy_sql("order_line") + policy_sql("order_revision") + policy_sql("order_counter")

forwards = indexes_and_policies("orders", ID, DESCRIPTION, INDEXES, RLS)
