from tenants.rls import keep_one_per, rows_and_indexes

ID = "2026-12-07T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one reconciliation setting per tenant, for real: the unique index was never made"

# 2026-12-05T21:36:00 asked for a unique reconciliation_setting_tenant "IF
# NOT EXISTS", and Piccolo had already named its plain index of the tenant
# column so: the unique one was silently skipped. The row has no time of
# its own: the one with the greatest id stays.
STATEMENTS = [
    keep_one_per("reconciliation_setting", "tenant", "id"),
    "DROP INDEX IF EXISTS reconciliation_setting_tenant",
    "CREATE UNIQUE INDEX reconciliation_setting_tenant ON reconciliation_setting (tenant)",
]

forwards = rows_and_indexes("reconciliation", ID, DESCRIPTION, STATEMENTS)
