"""``portal migrate``: Piccolo migrations of every app, then (PostgreSQL) the
grants that let the unprivileged app role use the tables it does not own."""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.postgres import PostgresEngine

from portal.db import get_engine
from portal.settings import Settings

log = structlog.get_logger(__name__)

# Tables the app may read and add to but never change: the audit trail is
# append-only for the app role, and only migrations touch the migration table.
APPEND_ONLY_TABLES = ("audit_event",)
OWNER_ONLY_TABLES = ("migration",)
# Documents are evidence: the app role never deletes them, and may update
# only the bookkeeping columns named here (version counter, withdrawal,
# preview state, and the supplier it is shared with: a draft order's
# documents are shared when the order is issued); what was uploaded, by
# whom and where it is stored stays as first written.
UPDATABLE_COLUMNS = {
    # The chain head moves; its legacy seal is written once, by a migration.
    "audit_chain_head": ("seq", "hash"),
    "document": ("current_version", "supplier", "withdrawn", "withdrawn_at", "withdrawn_by", "withdrawn_reason"),
    "document_version": ("preview_status", "thumbnail_key", "preview_key", "supplier"),
}


class MigrationFailed(Exception):
    pass


async def migrate_database(settings: Settings) -> None:
    result = await run_forwards(app_name="all")
    if not result.success:
        raise MigrationFailed(result.message or "see the output above")
    engine = get_engine()
    app_role = urlsplit(settings.database_url).username
    owner_role = urlsplit(settings.migration_database_url).username
    if isinstance(engine, PostgresEngine) and app_role and app_role != owner_role:
        await grant_app_role(engine, app_role)


async def grant_app_role(engine: PostgresEngine, role: str) -> None:
    quoted = '"' + role.replace('"', '""') + '"'
    connection = await engine.get_new_connection()
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        existing = {row["tablename"] for row in rows}
        statements = [
            f"GRANT USAGE ON SCHEMA public TO {quoted}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        ]
        statements += [f'REVOKE UPDATE, DELETE, TRUNCATE ON "{t}" FROM {quoted}' for t in APPEND_ONLY_TABLES if t in existing]
        statements += [f'REVOKE ALL ON "{t}" FROM {quoted}' for t in OWNER_ONLY_TABLES if t in existing]
        for table, columns in UPDATABLE_COLUMNS.items():
            if table in existing:
                # Revoking the table's UPDATE also drops earlier column grants,
                # so running this again leaves exactly these columns.
                statements.append(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM {quoted}')
                statements.append(f'GRANT UPDATE ({", ".join(columns)}) ON "{table}" TO {quoted}')
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()
    log.info("app_role_granted", role=role)
