from tenants.rls import run_on_postgres, run_sql

ID = "2026-12-06T14:09:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "number the messages stored before, in (created_at, id) order, and carry read markers over to those numbers"

# Before numbers, a marker said "read up to this time": each marker becomes
# the number of the last message at or before its time, as it counted.
NUMBER = """
UPDATE conversation_message SET seq = (
  SELECT COUNT(*) FROM conversation_message earlier
  WHERE earlier.thread = conversation_message.thread
    AND (earlier.created_at < conversation_message.created_at
         OR (earlier.created_at = conversation_message.created_at AND earlier.id <= conversation_message.id)));
UPDATE conversation_thread SET message_count = (
  SELECT COALESCE(MAX(seq), 0) FROM conversation_message WHERE conversation_message.thread = conversation_thread.id);
UPDATE conversation_read SET read_seq = (
  SELECT COALESCE(MAX(seq), 0) FROM conversation_message
  WHERE conversation_message.thread = conversation_read.thread AND conversation_message.created_at <= conversation_read.read_at)
"""
INDEXES = "CREATE UNIQUE INDEX IF NOT EXISTS conversation_message_seq ON conversation_message (tenant, thread, seq)"


async def forwards() -> object:
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager

    from portal.db import get_engine

    manager = MigrationManager(migration_id=ID, app_name="conversations", description=DESCRIPTION)

    async def run() -> None:
        engine = get_engine()
        # The owner is subject to row-level security too (FORCE): a named
        # system scope for this one transaction lets the update see rows.
        await run_on_postgres(engine, "SELECT set_config('app.system', 'on', true)")
        await run_sql(engine, NUMBER)
        await run_sql(engine, INDEXES)
        await run_on_postgres(engine, "SELECT set_config('app.system', '', true)")

    manager.add_raw(run)
    return manager
