from tenants.rls import indexes_and_policies

ID = "2026-12-06T05:26:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an NCR answer is stored once per phone-made client id"

# NULLs are distinct on both databases: QA's entries carry none.
INDEXES = ["CREATE UNIQUE INDEX IF NOT EXISTS ncr_entry_client ON ncr_entry (tenant, created_by, client_id)"]

forwards = indexes_and_policies("quality", ID, DESCRIPTION, INDEXES, "")
