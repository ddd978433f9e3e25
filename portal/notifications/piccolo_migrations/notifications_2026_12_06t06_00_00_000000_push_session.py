from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.rls import run_sql

ID = "2026-12-06T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Web Push: the sign-in session that subscribed each device, so signing out stops its pushes"

# Not a foreign key: sessions are pruned on their own schedule, and a
# device subscribed before this column simply has none.
STATEMENTS = [
    "ALTER TABLE push_subscription ADD COLUMN session UUID NULL",
    "CREATE INDEX IF NOT EXISTS push_subscription_session ON push_subscription (session)",
]


async def forwards():
    from portal.db import get_engine

    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(get_engine(), ";".join(STATEMENTS))

    manager.add_raw(run)
    return manager
