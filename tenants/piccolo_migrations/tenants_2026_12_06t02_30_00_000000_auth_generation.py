from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tenants.revocation import TRIGGER_SQL

ID = "2026-12-06T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "auth generation: a counter that every change to a session, membership, account or tenant moves (triggers)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        from piccolo.engine.postgres import PostgresEngine

        from portal.db import get_engine

        engine = get_engine()
        transaction = engine.current_transaction.get()
        if transaction is None:
            raise RuntimeError("the migration runs inside its transaction")
        # One statement at a time: a trigger body holds semicolons of its own.
        for statement in TRIGGER_SQL["postgresql" if isinstance(engine, PostgresEngine) else "sqlite"]:
            await transaction.connection.execute(statement)

    manager.add_raw(run)
    return manager
