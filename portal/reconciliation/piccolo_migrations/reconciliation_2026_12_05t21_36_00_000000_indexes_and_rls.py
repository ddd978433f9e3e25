from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-05T21:36:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reconciliation keys and indexes per tenant, row-level security"

# Every index starts with the tenant.
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS reconciliation_setting_tenant ON reconciliation_setting (tenant)",
    "CREATE UNIQUE INDEX IF NOT EXISTS settlement_period_tenant_label ON settlement_period (tenant, label)",
    "CREATE UNIQUE INDEX IF NOT EXISTS period_close_tenant_period_supplier ON period_close (tenant, period, supplier)",
    "CREATE UNIQUE INDEX IF NOT EXISTS statement_tenant_supplier_period_currency ON statement (tenant, supplier, period, currency)",
    "CREATE INDEX IF NOT EXISTS statement_tenant_period ON statement (tenant, period, status)",
    "CREATE INDEX IF NOT EXISTS statement_line_tenant_statement ON statement_line (tenant, statement, line_no)",
    "CREATE INDEX IF NOT EXISTS statement_step_tenant_statement ON statement_step (tenant, statement, created_at)",
    "CREATE INDEX IF NOT EXISTS statement_material_tenant_statement ON statement_material (tenant, statement, item_code)",
    "CREATE INDEX IF NOT EXISTS adjustment_tenant_supplier_period ON adjustment (tenant, supplier, period, currency)",
    "CREATE UNIQUE INDEX IF NOT EXISTS material_price_tenant_item_currency ON material_price (tenant, item, currency)",
]

# The scoping layer's rules again: a supplier user sees its own supplier's
# statements once sent, their lines and material rows only through such a
# statement, its approved adjustments, and nothing of settings and prices.
RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql("reconciliation_setting")
    + policy_sql("settlement_period")
    + policy_sql("period_close", supplier_column="supplier")
    + policy_sql("statement", supplier_column="supplier", visible="status <> 'draft'")
    + policy_sql("statement_line", supplier_column="supplier", parents={"statement": "statement"})
    + policy_sql("statement_step", supplier_column="supplier", parents={"statement": "statement"})
    + policy_sql("statement_material", supplier_column="supplier", parents={"statement": "statement"})
    + policy_sql("adjustment", supplier_column="supplier", visible="status = 'approved'")
    + policy_sql("material_price")
)

forwards = indexes_and_policies("reconciliation", ID, DESCRIPTION, INDEXES, RLS)
