from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-11-21T12:10:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "dispatch keys, list and balance indexes per tenant, row-level security"

# Every index starts with the tenant: one tenant's lists and balances never
# scan another tenant's rows.
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS dispatch_tenant_number ON dispatch (tenant, number)",
    "CREATE INDEX IF NOT EXISTS dispatch_tenant_status_number ON dispatch (tenant, status, number)",
    "CREATE INDEX IF NOT EXISTS dispatch_tenant_supplier_number ON dispatch (tenant, supplier, number)",
    'CREATE INDEX IF NOT EXISTS dispatch_tenant_order ON dispatch (tenant, "order")',
    "CREATE INDEX IF NOT EXISTS dispatch_line_tenant_dispatch ON dispatch_line (tenant, dispatch, line_no)",
    "CREATE INDEX IF NOT EXISTS dispatch_line_tenant_supplier_item ON dispatch_line (tenant, supplier, item)",
    "CREATE INDEX IF NOT EXISTS material_movement_tenant_kind_time ON material_movement (tenant, kind, reported_at, id)",
    "CREATE INDEX IF NOT EXISTS material_movement_tenant_supplier_item ON material_movement (tenant, supplier, item)",
    "CREATE UNIQUE INDEX IF NOT EXISTS dispatch_counter_tenant_year ON dispatch_counter (tenant, year)",
]

# Dispatches, their lines and the supplier's reports carry the supplier
# themselves, so the database limits supplier users to their own rows too.
RLS = (
    policy_sql("dispatch", supplier_column="supplier")
    + policy_sql("dispatch_line", supplier_column="supplier")
    + policy_sql("material_movement", supplier_column="supplier")
    + policy_sql("dispatch_counter")
)

forwards = indexes_and_policies("materials", ID, DESCRIPTION, INDEXES, RLS)
