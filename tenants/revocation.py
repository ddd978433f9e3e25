"""The auth generation: one number that moves whenever what a session stands
for may have changed, so each app process can keep the sessions it resolved
and still never honour one that was signed out, revoked or demoted.

Database triggers (migration ``auth_generation``) add one to it on every
UPDATE or DELETE of a session, a membership, an account or a tenant,
whichever code path (or operator's SQL) made the change, in the same
transaction as the change. A request reads it with one plain statement
before it trusts a cached session; when it moved, the process forgets every
session it had cached. So a sign-out committed on process A is refused on
process B from B's next request that starts after the commit: the bound is
the request in flight, not a time-to-live.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from piccolo.engine.postgres import PostgresEngine

from portal.db import get_engine

_SELECT = "SELECT value FROM auth_generation WHERE id = 1"
# The same read as a value inside another statement: on PostgreSQL the
# request's RLS settings and the generation go in one round trip
# (tenants.context.apply_database_settings).
GENERATION_VALUE = f"({_SELECT})"

# Tables whose change may end or alter what a session stands for: the
# session itself (sign-out, revocation), the membership (role, supplier,
# removal), the account (deactivation, password) and the tenant (the
# context carries its name, time zone and currency).
WATCHED_TABLES = ("auth_session", "membership", "portal_user", "tenant")

TRIGGER_SQL: dict[str, list[str]] = {
    "postgresql": [
        "CREATE TABLE IF NOT EXISTS auth_generation (id integer PRIMARY KEY, value bigint NOT NULL)",
        "INSERT INTO auth_generation (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
        """CREATE OR REPLACE FUNCTION portal_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE auth_generation SET value = value + 1 WHERE id = 1;
  RETURN NULL;
END $$""",
        *(
            f'DROP TRIGGER IF EXISTS auth_changed ON "{table}"; '
            f'CREATE TRIGGER auth_changed AFTER UPDATE OR DELETE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION portal_auth_changed()"
            for table in WATCHED_TABLES
        ),
    ],
    "sqlite": [
        "CREATE TABLE IF NOT EXISTS auth_generation (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT OR IGNORE INTO auth_generation (id, value) VALUES (1, 0)",
        *(
            f'CREATE TRIGGER IF NOT EXISTS "{table}_auth_{event.lower()}" AFTER {event} ON "{table}" '  # noqa: S608 - names from this module
            "BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END"
            for table in WATCHED_TABLES
            for event in ("UPDATE", "DELETE")
        ),
    ],
}


async def current_generation() -> int:
    """The generation as the running transaction sees it: one statement,
    no query building (it runs on every authenticated request)."""
    engine: Any = get_engine()
    transaction = engine.current_transaction.get()
    if transaction is None:
        rows = await engine._run_in_new_connection(_SELECT)
        return int(rows[0]["value"])
    if isinstance(engine, PostgresEngine):
        return int(await transaction.connection.fetchval(_SELECT))
    async with transaction.connection.execute(_SELECT) as cursor:
        row = await cursor.fetchone()
    return int(row["value"])


V = TypeVar("V")


@dataclass(frozen=True)
class Entry(Generic[V]):
    value: V
    expires_at: datetime


class GenerationCache(Generic[V]):
    """What this process resolved while the generation stood still; every
    entry is dropped at once when it moves. Bounded: the oldest entries go
    first."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.generation: int | None = None
        self._entries: OrderedDict[Any, Entry[V]] = OrderedDict()

    def candidate(self, key: Any, now: datetime) -> V | None:
        """The entry of ``key`` whatever the generation: not to be trusted
        before ``get`` confirms it with the generation read since."""
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= now:
            return None
        return entry.value

    def get(self, key: Any, generation: int, now: datetime) -> V | None:
        if generation != self.generation:
            self._entries.clear()
            self.generation = generation
            return None
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= now:
            return None
        return entry.value

    def put(self, key: Any, generation: int, value: V, expires_at: datetime) -> None:
        # Filled under an older generation while another request saw the
        # newer one: keep nothing rather than a possibly stale entry.
        if generation != self.generation:
            return
        self._entries[key] = Entry(value, expires_at)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
