from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-11-21T12:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "delivery keys and list indexes per tenant, row-level security"

# Every index starts with the tenant: a tenant's lists never scan another
# tenant's rows, however many there are.
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS delivery_tenant_number ON delivery (tenant, number)",
    "CREATE INDEX IF NOT EXISTS delivery_tenant_status_number ON delivery (tenant, status, number)",
    "CREATE INDEX IF NOT EXISTS delivery_tenant_supplier_status_number ON delivery (tenant, supplier, status, number)",
    'CREATE INDEX IF NOT EXISTS delivery_tenant_order ON delivery (tenant, "order", status)',
    "CREATE INDEX IF NOT EXISTS delivery_line_tenant_delivery ON delivery_line (tenant, delivery, line_no)",
    # What is in transit on an order line: the over-delivery check sums it.
    "CREATE INDEX IF NOT EXISTS delivery_line_tenant_order_line ON delivery_line (tenant, order_line)",
    "CREATE UNIQUE INDEX IF NOT EXISTS delivery_counter_tenant_year ON delivery_counter (tenant, year)",
]

# Lines are limited to the tenant in the database; the scoping layer limits
# them to the supplier through their delivery.
RLS = policy_sql("delivery", supplier_column="supplier") + policy_sql("delivery_line") + policy_sql("delivery_counter")

forwards = indexes_and_policies("deliveries", ID, DESCRIPTION, INDEXES, RLS)
