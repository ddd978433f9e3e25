from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-12-06T05:23:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "one scorecard per supplier and period; indexes the computing reads by; row-level security"

INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS scorecard_figures_period ON scorecard_figures (tenant, period, supplier)",
    # What a period's computing selects by: lines by due day, receipts and
    # QA decisions by time.
    "CREATE INDEX IF NOT EXISTS kpi_order_line_due ON order_line (tenant, due_date)",
    "CREATE INDEX IF NOT EXISTS kpi_delivery_received ON delivery (tenant, received_at)",
    "CREATE INDEX IF NOT EXISTS kpi_document_review_reviewed ON document_review (tenant, reviewed_at)",
    # The changes since a scorecard was computed, which make it stale.
    "CREATE INDEX IF NOT EXISTS kpi_order_updated ON outsourced_order (tenant, updated_at)",
    "CREATE INDEX IF NOT EXISTS kpi_delivery_updated ON delivery (tenant, updated_at)",
    "CREATE INDEX IF NOT EXISTS kpi_ncr_updated ON ncr (tenant, updated_at)",
    "CREATE INDEX IF NOT EXISTS kpi_order_revision_created ON order_revision (tenant, created_at)",
]

RLS = policy_sql("scorecard_figures", supplier_column="supplier")

forwards = indexes_and_policies("kpi", ID, DESCRIPTION, INDEXES, RLS)
