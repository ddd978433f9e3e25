from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-11-21T11:25:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit sequence and entity indexes, row-level security"

INDEXES = [
    # Unique: two events can never share a place in a tenant's chain.
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_event_tenant_seq ON audit_event (tenant, seq)",
    "CREATE INDEX IF NOT EXISTS audit_event_tenant_entity ON audit_event (tenant, entity_type, entity_id)",
]

# The policy functions exist already: the tenants app's migrations run first.
RLS = policy_sql("audit_event") + policy_sql("audit_chain_head")

forwards = indexes_and_policies("audit", ID, DESCRIPTION, INDEXES, RLS)
