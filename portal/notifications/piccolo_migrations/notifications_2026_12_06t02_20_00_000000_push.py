from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.rls import policy_sql, run_on_postgres, run_sql

ID = "2026-12-06T02:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Web Push: the VAPID key pair, each device's subscription, the push channel of each preference"

# The same statements on both databases (the column types are the ones
# Piccolo declares, so its SQLite converters apply).
STATEMENTS = [
    "CREATE TABLE IF NOT EXISTS vapid_key (id VARCHAR(20) PRIMARY KEY, private_pem TEXT NOT NULL,"
    " public_key VARCHAR(200) NOT NULL, created_at TIMESTAMPTZ NOT NULL)",
    "CREATE TABLE IF NOT EXISTS push_subscription (id UUID PRIMARY KEY,"
    " tenant UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,"
    ' "user" UUID NOT NULL REFERENCES portal_user (id) ON DELETE RESTRICT,'
    " supplier UUID NULL REFERENCES supplier (id) ON DELETE RESTRICT,"
    " endpoint VARCHAR(1000) NOT NULL, p256dh VARCHAR(200) NOT NULL, auth VARCHAR(100) NOT NULL,"
    " user_agent VARCHAR(300) NOT NULL DEFAULT '', created_at TIMESTAMPTZ NOT NULL)",
    # A device subscribes once per tenant; subscribing again replaces its keys.
    "CREATE UNIQUE INDEX IF NOT EXISTS push_subscription_endpoint ON push_subscription (tenant, endpoint)",
    'CREATE INDEX IF NOT EXISTS push_subscription_user ON push_subscription (tenant, "user")',
    "ALTER TABLE notification_preference ADD COLUMN push BOOLEAN NULL",
]

# vapid_key is the portal's own, not a tenant's: no policy.
RLS = policy_sql("push_subscription", supplier_column="supplier")


async def forwards():
    from portal.db import get_engine

    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run() -> None:
        engine = get_engine()
        await run_sql(engine, ";".join(STATEMENTS))
        await run_on_postgres(engine, RLS)

    manager.add_raw(run)
    return manager
