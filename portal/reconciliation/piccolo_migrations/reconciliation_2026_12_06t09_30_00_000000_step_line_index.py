from tenants.rls import indexes_and_policies

ID = "2026-12-06T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "statement steps indexed by line, for the foreign key's checks"

# Not led by the tenant, unlike the domain's other indexes: the database's
# own foreign-key check looks a step up by its line alone. Every statement
# line deleted (a draft computed again clears its lines) is checked against
# the steps: without this index each check read every step of every tenant.
INDEXES = [
    "CREATE INDEX IF NOT EXISTS statement_step_line ON statement_step (line) WHERE line IS NOT NULL",
]

forwards = indexes_and_policies("reconciliation", ID, DESCRIPTION, INDEXES, "")
