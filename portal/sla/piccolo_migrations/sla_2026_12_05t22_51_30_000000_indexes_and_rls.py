from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-12-05T22:51:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "one rule per tenant, one breach per thing due, row-level security"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS response_rule_tenant_one ON response_rule (tenant)",
    "CREATE UNIQUE INDEX IF NOT EXISTS response_breach_record ON response_breach (tenant, kind, record_id)",
    "CREATE INDEX IF NOT EXISTS response_breach_open ON response_breach (tenant, resolved_at, due_at)",
    "CREATE INDEX IF NOT EXISTS response_breach_supplier ON response_breach (tenant, supplier, due_at)",
]

RLS = policy_sql("response_rule") + policy_sql("response_breach", supplier_column="supplier")

forwards = indexes_and_policies("sla", ID, DESCRIPTION, INDEXES, RLS)
