from tenants.rls import run_on_postgres, run_sql

ID = "2026-12-05T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents of draft dispatches are not shared yet; sending the dispatch shares them"

# Documents stored on a draft dispatch used to carry its supplier at once,
# which showed them to the supplier before the dispatch was sent. They become
# the buyer's own again; sending the dispatch shares them.
UNSHARE_DRAFTS = """
UPDATE document SET supplier = NULL WHERE supplier IS NOT NULL
  AND attached_type = 'dispatch' AND attached_id IN (SELECT id FROM dispatch WHERE status = 'draft');
UPDATE document_version SET supplier = NULL WHERE supplier IS NOT NULL
  AND document IN (SELECT id FROM document WHERE supplier IS NULL)
"""


async def forwards() -> object:
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager

    from portal.db import get_engine

    manager = MigrationManager(migration_id=ID, app_name="materials", description=DESCRIPTION)

    async def run() -> None:
        engine = get_engine()
        # The owner is subject to row-level security too (FORCE): a named
        # system scope for this one transaction lets the update see rows.
        await run_on_postgres(engine, "SELECT set_config('app.system', 'on', true)")
        await run_sql(engine, UNSHARE_DRAFTS)
        await run_on_postgres(engine, "SELECT set_config('app.system', '', true)")

    manager.add_raw(run)
    return manager
