from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.rls import policy_sql, run_on_postgres, run_sql

ID = "2026-12-06T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "work chat group robots (DingTalk, WeCom, Feishu) of the buyer and of each supplier"

STATEMENTS = [
    "CREATE TABLE IF NOT EXISTS chat_robot (id UUID PRIMARY KEY,"
    " tenant UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,"
    " supplier UUID NULL REFERENCES supplier (id) ON DELETE RESTRICT,"
    " service VARCHAR(10) NOT NULL, url VARCHAR(500) NOT NULL, secret VARCHAR(200) NOT NULL DEFAULT '',"
    " events TEXT NOT NULL DEFAULT '[\"*\"]', description VARCHAR(200) NOT NULL DEFAULT '', active BOOLEAN NOT NULL DEFAULT TRUE,"
    " last_sent_at TIMESTAMPTZ NULL, last_error VARCHAR(300) NOT NULL DEFAULT '',"
    ' created_by UUID NULL REFERENCES portal_user (id) ON DELETE RESTRICT, created_at TIMESTAMPTZ NOT NULL)',
    "CREATE INDEX IF NOT EXISTS chat_robot_tenant ON chat_robot (tenant, supplier)",
]

# A supplier's robots are its own; the buyer's (no supplier) no supplier sees.
RLS = policy_sql("chat_robot", supplier_column="supplier")


async def forwards():
    from portal.db import get_engine

    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run() -> None:
        engine = get_engine()
        await run_sql(engine, ";".join(STATEMENTS))
        await run_on_postgres(engine, RLS)

    manager.add_raw(run)
    return manager
