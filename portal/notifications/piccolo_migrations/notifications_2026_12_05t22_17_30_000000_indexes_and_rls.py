from tenants.rls import indexes_and_policies, policy_sql

ID = "2026-12-05T22:17:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "notification indexes per tenant and user, one row per event and person, row-level security"

INDEXES = [
    # A job that runs twice tells nobody twice.
    'CREATE UNIQUE INDEX IF NOT EXISTS notification_event_user ON notification (tenant, event_id, "user")',
    'CREATE INDEX IF NOT EXISTS notification_user_list ON notification (tenant, "user", created_at, id)',
    'CREATE INDEX IF NOT EXISTS notification_user_unread ON notification (tenant, "user", read_at)',
    "CREATE INDEX IF NOT EXISTS notification_digest ON notification (tenant, email, created_at)",
    'CREATE UNIQUE INDEX IF NOT EXISTS notification_preference_user_kind ON notification_preference (tenant, "user", kind)',
    "CREATE INDEX IF NOT EXISTS webhook_endpoint_tenant ON webhook_endpoint (tenant, active)",
    "CREATE UNIQUE INDEX IF NOT EXISTS webhook_delivery_event ON webhook_delivery (tenant, endpoint, event_id)",
    "CREATE INDEX IF NOT EXISTS webhook_delivery_endpoint ON webhook_delivery (tenant, endpoint, created_at, id)",
]

RLS = (
    policy_sql("notification", supplier_column="supplier")
    + policy_sql("notification_preference", supplier_column="supplier")
    + policy_sql("webhook_endpoint")
    + policy_sql("webhook_delivery")
)

forwards = indexes_and_policies("notifications", ID, DESCRIPTION, INDEXES, RLS)
