from tenants.rls import indexes_and_policies

ID = "2026-12-05T21:41:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "job indexes: what is due, what a lease left behind, one job per unique key"

INDEXES = [
    # The claim query: due work by status and time.
    "CREATE INDEX IF NOT EXISTS job_status_run_at ON job (status, run_at)",
    "CREATE INDEX IF NOT EXISTS job_status_lease ON job (status, lease_until)",
    # NULLs are distinct on both databases: only keyed jobs are unique.
    "CREATE UNIQUE INDEX IF NOT EXISTS job_unique_key ON job (unique_key)",
]

# Not tenant data (the payload names the tenant when it matters): no policy.
forwards = indexes_and_policies("jobs", ID, DESCRIPTION, INDEXES, "")
