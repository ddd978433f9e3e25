from tenants.rls import indexes_and_policies

ID = "2026-12-06T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for the scorecards' response times: acceptances, acknowledgements, NCRs issued, contained and closed"

# A month's response times select these by time; without the indexes each
# is a scan of the tenant's orders (250,000 at 1M order lines) or NCRs.
INDEXES = [
    "CREATE INDEX IF NOT EXISTS kpi_order_accepted ON outsourced_order (tenant, accepted_at)",
    "CREATE INDEX IF NOT EXISTS kpi_order_revision_acknowledged ON order_revision (tenant, acknowledged_at)",
    "CREATE INDEX IF NOT EXISTS kpi_ncr_issued ON ncr (tenant, issued_at)",
    "CREATE INDEX IF NOT EXISTS kpi_ncr_closed ON ncr (tenant, closed_at)",
    "CREATE INDEX IF NOT EXISTS kpi_ncr_step_accepted ON ncr_step (tenant, accepted_at)",
]

forwards = indexes_and_policies("kpi", ID, DESCRIPTION, INDEXES, "")
