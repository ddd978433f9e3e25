from tenants.rls import keep_one_per, rows_and_indexes

ID = "2026-12-07T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one handover template per tenant, for real: the unique index was never made"

# 2026-12-06T02:09:00 asked for a unique handover_template_tenant "IF NOT
# EXISTS", and Piccolo had already named its plain index of the tenant
# column so: the unique one was silently skipped. The newest template stays.
STATEMENTS = [
    keep_one_per("handover_template", "tenant", "updated_at"),
    "DROP INDEX IF EXISTS handover_template_tenant",
    "CREATE UNIQUE INDEX handover_template_tenant ON handover_template (tenant)",
]

forwards = rows_and_indexes("handover", ID, DESCRIPTION, STATEMENTS)
