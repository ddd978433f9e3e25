from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-12-06T02:33:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "one rule per kind, the waiting requests of a record, row-level security"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS approval_rule_kind ON approval_rule (tenant, kind)",
    "CREATE INDEX IF NOT EXISTS approval_request_record ON approval_request (tenant, record_id, status)",
    "CREATE INDEX IF NOT EXISTS approval_request_waiting ON approval_request (tenant, status, approver_role, requested_at)",
]

RLS = policy_sql("approval_rule") + policy_sql("approval_request")

forwards = indexes_and_policies("approvals", ID, DESCRIPTION, INDEXES, RLS)
