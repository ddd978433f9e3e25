"""Upgrading a database whose audit trail was recorded before the chain was
keyed: on a database of its own, migrated to the schema before keys, given
a trail hashed as the old code hashed it, then `portal migrate`d for real."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from portal.audit.hashing import GENESIS_HASH, EventFields
from tests.integration.audit.conftest import Tamper, owner_sql, sqlite_sql
from tests.support.postgres import APP_PASSWORD, APP_ROLE, OWNER

# The last audit migration before keys.
BEFORE_KEYS = "2026-11-21T11:25:00:000000"

OLD_SCHEMA = """
import asyncio
import sys

from piccolo.apps.migrations.commands.forwards import run_forwards

from portal.db import get_engine, start_engine, stop_engine


async def main() -> None:
    engine = get_engine()
    await start_engine(engine)
    try:
        for app, upto in (("tenants", "all"), ("audit", sys.argv[1])):
            result = await run_forwards(app_name=app, migration_id=upto)
            assert result.success, result.message
    finally:
        await stop_engine(engine)


asyncio.run(main())
"""

RECORD_ONE = """
import sys
from uuid import UUID

from portal.audit.services import record
from portal.cli import run
from tenants.context import system_scope


async def main() -> None:
    async with system_scope("after-upgrade"):
        await record("order.close", entity_type="order", entity_id="PO-2026-00003", tenant_id=UUID(sys.argv[1]))


run(main)
"""

INSERT_EVENT = (
    "INSERT INTO audit_event"
    " (id, tenant, seq, at, actor, actor_label, action, entity_type, entity_id, before, after, address, prev_hash, hash)"
    " VALUES (:id, :tenant, :seq, :at, NULL, :label, :action, 'order', :entity, NULL, NULL, '', :prev, :hash)"
)


@dataclass
class Database:
    env: dict[str, str]
    sql: Tamper

    def python(self, code: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code, *args], env={**self.env, **env}, capture_output=True, text=True, timeout=180, check=False
        )

    def portal(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "portal", *args], env=self.env, capture_output=True, text=True, timeout=180, check=False
        )


@pytest.fixture
def fresh_database(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    env = {**os.environ, "PORTAL_VAR_DIR": str(tmp_path), "PORTAL_STORAGE_URL": f"file://{tmp_path}/blobs"}
    if database_kind == "sqlite":
        env["PORTAL_DATABASE_URL"] = env["PORTAL_MIGRATION_DATABASE_URL"] = f"sqlite:///{tmp_path}/legacy.db"
        yield Database(env, sqlite_sql(tmp_path / "legacy.db"))
        return
    cluster = request.getfixturevalue("postgres")
    name = f"legacy_{uuid4().hex[:10]}"
    cluster.psql(f"CREATE DATABASE {name}", database="postgres")
    env["PORTAL_DATABASE_URL"] = f"postgresql://{APP_ROLE}:{APP_PASSWORD}@127.0.0.1:{cluster.port}/{name}"
    env["PORTAL_MIGRATION_DATABASE_URL"] = f"postgresql://{OWNER}@127.0.0.1:{cluster.port}/{name}"
    try:
        yield Database(env, owner_sql(cluster, name))
    finally:
        cluster.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", database="postgres")


def old_trail(tenant: UUID, count: int) -> list[EventFields]:
    """Events as the code before keys hashed them: plain SHA-256, no key id."""
    events: list[EventFields] = []
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    for seq in range(1, count + 1):
        fields = EventFields(
            tenant=tenant,
            seq=seq,
            at=start + timedelta(minutes=seq),
            actor=None,
            actor_label="system:legacy",
            action="order.issue",
            entity_type="order",
            entity_id=f"PO-2026-{seq:05d}",
            before=None,
            after=None,
            address="",
            prev_hash=events[-1].digest(None) if events else GENESIS_HASH,
        )
        events.append(fields)
    return events


def write_old_trail(database: Database, tenant: UUID, slug: str, events: list[EventFields]) -> None:
    database.sql(
        "INSERT INTO tenant (id, slug, name, locale, time_zone, currency, over_delivery_tolerance, dispatch_tolerance, created_at)"
        " VALUES (:id, :slug, :slug, 'zh_CN', 'Asia/Shanghai', 'CNY', 0.05, 0.02, :at)",
        id=tenant,
        slug=slug,
        at=events[0].at,
    )
    for fields in events:
        database.sql(
            INSERT_EVENT,
            id=uuid4(),
            tenant=tenant,
            seq=fields.seq,
            at=fields.at.isoformat(),
            label=fields.actor_label,
            action=fields.action,
            entity=fields.entity_id,
            prev=fields.prev_hash,
            hash=fields.digest(None),
        )
    database.sql(
        "INSERT INTO audit_chain_head (id, tenant, seq, hash) VALUES (:id, :tenant, :seq, :hash)",
        id=uuid4(),
        tenant=tenant,
        seq=events[-1].seq,
        hash=events[-1].digest(None),
    )


def test_an_unkeyed_trail_verifies_after_the_upgrade_and_is_pinned_by_its_seal(fresh_database: Database) -> None:
    database = fresh_database
    tenant, slug = uuid4(), f"legacy-{uuid4().hex[:8]}"
    old_schema = database.python(OLD_SCHEMA, BEFORE_KEYS, PORTAL_DB_ROLE="owner")
    assert old_schema.returncode == 0, old_schema.stderr
    events = old_trail(tenant, 3)
    write_old_trail(database, tenant, slug, events)

    migrated = database.portal("migrate")
    assert migrated.returncode == 0, migrated.stderr

    untouched = database.portal("audit", "verify")
    assert (untouched.returncode, untouched.stdout.strip()) == (0, "portal: audit trail intact"), untouched.stderr
    assert database.portal("audit", "checkpoint").stdout.strip() == "portal: 1 audit checkpoints written"
    # New events are keyed and chain on from the old ones.
    appended = database.python(RECORD_ONE, str(tenant))
    assert appended.returncode == 0, appended.stderr
    assert database.portal("audit", "verify").returncode == 0

    # The old events' hashes need no key: a forger can rewrite one and
    # recompute the rest of the old part; the seal names the result.
    forged = [dataclasses.replace(events[0], entity_id="forged")]
    for fields in events[1:]:
        forged.append(dataclasses.replace(fields, prev_hash=forged[-1].digest(None)))
    for fields in forged:
        database.sql(
            "UPDATE audit_event SET entity_id = :entity, prev_hash = :prev, hash = :hash WHERE tenant = :tenant AND seq = :seq",
            entity=fields.entity_id,
            prev=fields.prev_hash,
            hash=fields.digest(None),
            tenant=tenant,
            seq=fields.seq,
        )
    broken = database.portal("audit", "verify")

    assert broken.returncode == 1
    lines = broken.stderr.splitlines()
    assert any(
        line.startswith(f"tenant {slug}: edited: event seq 3 (") and "is not the event the legacy seal of " in line for line in lines
    )
