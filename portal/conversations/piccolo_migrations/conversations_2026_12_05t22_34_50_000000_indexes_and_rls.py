from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-05T22:34:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "conversation keys per tenant, row-level security following the record"

INDEXES = [
    # One thread per record and side, however many first readers race.
    "CREATE UNIQUE INDEX IF NOT EXISTS conversation_thread_record ON conversation_thread (tenant, record_type, record_id, side)",
    # A retried send is the same message.
    "CREATE UNIQUE INDEX IF NOT EXISTS conversation_message_client ON conversation_message (tenant, author, client_id)",
    "CREATE INDEX IF NOT EXISTS conversation_message_thread ON conversation_message (tenant, thread, created_at)",
    'CREATE UNIQUE INDEX IF NOT EXISTS conversation_read_thread_user ON conversation_read (tenant, thread, "user")',
]

# A supplier sees a shared thread of its own while it sees the record, and
# the messages and read markers of such threads.
RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql(
        "conversation_thread",
        supplier_column="supplier",
        visible="side = 'shared'",
        parents={"order": "outsourced_order", "dispatch": "dispatch", "delivery": "delivery", "document": "document"},
    )
    + policy_sql("conversation_message", supplier_column="supplier", parents={"thread": "conversation_thread"})
    + policy_sql("conversation_read", supplier_column="supplier", parents={"thread": "conversation_thread"})
)

forwards = indexes_and_policies("conversations", ID, DESCRIPTION, INDEXES, RLS)
