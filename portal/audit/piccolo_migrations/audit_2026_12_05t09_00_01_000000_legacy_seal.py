"""Events recorded before the chain was keyed keep their SHA-256 hashes;
this signs each chain's head as it stands, once (portal.audit.legacy)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal the unkeyed audit chains under the audit key"


async def forwards() -> MigrationManager:
    from portal.audit.legacy import seal_legacy_chains

    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def seal() -> None:
        await seal_legacy_chains()

    manager.add_raw(seal)
    return manager
