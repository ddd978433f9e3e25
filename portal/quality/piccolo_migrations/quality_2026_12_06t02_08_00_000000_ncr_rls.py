from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-06T02:08:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes and row-level security of NCRs, their steps, entries and dispositions"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS ncr_tenant_number ON ncr (tenant, number)",
    "CREATE INDEX IF NOT EXISTS ncr_tenant_created ON ncr (tenant, created_at, id)",
    "CREATE INDEX IF NOT EXISTS ncr_tenant_supplier_status ON ncr (tenant, supplier, status)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ncr_step_tenant_ncr_step ON ncr_step (tenant, ncr, step)",
    "CREATE INDEX IF NOT EXISTS ncr_step_tenant_due ON ncr_step (tenant, due_at)",
    "CREATE INDEX IF NOT EXISTS ncr_entry_tenant_ncr ON ncr_entry (tenant, ncr, created_at)",
    "CREATE INDEX IF NOT EXISTS ncr_disposition_tenant_supplier ON ncr_disposition (tenant, supplier, created_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ncr_counter_tenant_year ON ncr_counter (tenant, year)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ncr_step_days_tenant_step ON ncr_step_days (tenant, step)",
]

# An NCR reaches its supplier once issued (a draft is QA's own), and only
# while its order, when it names one, is shared too; its steps, entries and
# dispositions follow the NCR. Step days and the counter are the buyer's.
BUYER_ONLY = "NOT portal_as_supplier()"
RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql("ncr", supplier_column="supplier", visible="status <> 'draft'", parents={"order": "outsourced_order"})
    + policy_sql("ncr_step", supplier_column="supplier", parents={"ncr": "ncr"})
    + policy_sql("ncr_entry", supplier_column="supplier", parents={"ncr": "ncr"})
    + policy_sql("ncr_disposition", supplier_column="supplier", parents={"ncr": "ncr"})
    + policy_sql("ncr_counter", visible=BUYER_ONLY)
    + policy_sql("ncr_step_days", visible=BUYER_ONLY)
)

forwards = indexes_and_policies("quality", ID, DESCRIPTION, INDEXES, RLS)
