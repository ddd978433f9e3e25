from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-06T05:13:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one shared thread per record and supplier (a handover has two), row-level security following NCRs and handovers"

INDEXES = [
    "DROP INDEX IF EXISTS conversation_thread_record",
    # The buyer's side: one per record, however many first readers race.
    "CREATE UNIQUE INDEX IF NOT EXISTS conversation_thread_internal ON conversation_thread (tenant, record_type, record_id) "
    "WHERE side = 'internal'",
    # The shared side: one per record and supplier; a handover's outgoing and
    # incoming suppliers each talk with the buyer on their own.
    "CREATE UNIQUE INDEX IF NOT EXISTS conversation_thread_shared ON conversation_thread (tenant, record_type, record_id, supplier) "
    "WHERE side = 'shared'",
]

# A supplier sees a shared thread of its own while it sees the record: the
# handover's own policy lets both of its suppliers read it, the thread's
# supplier column keeps each to its own side of the talk.
RLS = SUPPLIER_FUNCTIONS + policy_sql(
    "conversation_thread",
    supplier_column="supplier",
    visible="side = 'shared'",
    parents={
        "order": "outsourced_order",
        "dispatch": "dispatch",
        "delivery": "delivery",
        "document": "document",
        "ncr": "ncr",
        "handover": "handover",
    },
)

forwards = indexes_and_policies("conversations", ID, DESCRIPTION, INDEXES, RLS)
