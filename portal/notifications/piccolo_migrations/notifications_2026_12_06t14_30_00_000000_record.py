from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

from tenants.rls import run_sql

ID = "2026-12-06T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Notifications name the record they are about, so a supplier stops reading one once the record is hidden from it"

ADD = [
    "ALTER TABLE notification ADD COLUMN record_type VARCHAR(30) NOT NULL DEFAULT ''",
    "ALTER TABLE notification ADD COLUMN record_id UUID NULL",
]
# Notifications from before name their record only in their link; the
# links each kind of record's events carry give it back.
LINKS = {
    "order": "/orders/",
    "ncr": "/ncrs/",
    "delivery": "/deliveries/",
    "handover": "/handovers/",
    "statement": "/statements/",
    "dispatch": "/materials/dispatches/",
}
UUID_LENGTH = 36


def _backfill(postgres: bool) -> list[str]:
    statements = []
    for kind, prefix in LINKS.items():
        start = len(prefix) + 1
        value = f"substr(link, {start})"
        record = f"CAST({value} AS UUID)" if postgres else value
        # A link that is no record's id is left alone rather than fail the cast.
        shape = f" AND {value} ~ '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$'" if postgres else ""
        # Kinds and prefixes are the constants above, never input.
        statements.append(
            f"UPDATE notification SET record_type = '{kind}', record_id = {record} "  # noqa: S608
            f"WHERE record_type = '' AND link LIKE '{prefix}%' AND length(link) = {len(prefix) + UUID_LENGTH} "
            f"AND {value} NOT LIKE '%/%'{shape}"
        )
    return statements


async def forwards():
    from portal.db import get_engine

    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run() -> None:
        engine = get_engine()
        await run_sql(engine, ";".join(ADD + _backfill(isinstance(engine, PostgresEngine))))

    async def back() -> None:
        await run_sql(get_engine(), "ALTER TABLE notification DROP COLUMN record_id;ALTER TABLE notification DROP COLUMN record_type")

    manager.add_raw(run)
    manager.add_raw_backwards(back)
    return manager
