"""Rate limits per caller, counted in the database so that every app process
shares one budget (a per-process counter would give N processes N budgets).

Fixed windows: a caller's hits in the current window are one row, added to
with one upsert that returns the new count. The count is written outside the
request's transaction, so a refused or failed request still counts.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import threading
import time

import anyio.to_thread
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from portal.limits.rates import Rate
from portal.limits.tables import RateLimitHit

_HIT = (
    "INSERT INTO rate_limit_hit (key, hits, expires_at) VALUES ({}, 1, {}) "
    "ON CONFLICT (key) DO UPDATE SET hits = rate_limit_hit.hits + 1 RETURNING hits"
)
# PostgreSQL: the same upsert, committed without waiting for the WAL to
# reach disk (synchronous_commit off for this one statement's transaction).
# A crash may forget the last few counts, which a rate limit can afford; a
# request should not wait on an fsync for it.
_HIT_POSTGRES = (
    "INSERT INTO rate_limit_hit (key, hits, expires_at) "
    "SELECT {}, 1, {} FROM (SELECT set_config('synchronous_commit', 'off', true)) AS unsynced "
    "ON CONFLICT (key) DO UPDATE SET hits = rate_limit_hit.hits + 1 RETURNING hits"
)
_EXPIRE = "DELETE FROM rate_limit_hit WHERE expires_at < {}"
# SQLite: the counters live in a file of their own beside the database
# (``portal.db-limits``), which every process of the installation shares.
# In the database itself each count would wait for the one write lock
# behind every writing request's transaction (a photo upload holds it for
# its whole request), so a plain API read would queue behind the writers.
# One connection per process, in WAL mode with synchronous=NORMAL, so a
# count commits without an fsync and without a connection per request.
_sqlite_connections: dict[str, sqlite3.Connection] = {}
_sqlite_lock = threading.Lock()
_COUNTERS = "CREATE TABLE IF NOT EXISTS rate_limit_hit (key TEXT PRIMARY KEY, hits INTEGER NOT NULL, expires_at INTEGER NOT NULL)"


def counters_path(database_path: str) -> str:
    return database_path + "-limits"


def _hit_sqlite(path: str, key: str, ends: int, now: int) -> int:
    from portal.db import SQLITE_BUSY_TIMEOUT_SECONDS

    with _sqlite_lock:
        connection = _sqlite_connections.get(path)
        if connection is None:
            connection = sqlite3.connect(
                counters_path(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_COUNTERS)
            connection.execute("CREATE INDEX IF NOT EXISTS rate_limit_hit_expires ON rate_limit_hit (expires_at)")
            _sqlite_connections[path] = connection
        (hits,) = connection.execute(_HIT.replace("{}", "?"), (key, ends)).fetchone()
        if hits == 1:
            connection.execute(_EXPIRE.replace("{}", "?"), (now,))
        return int(hits)


def caller_key(*, token: str | None, address: str) -> str:
    """The token's hash (never the token itself) or the address."""
    if token:
        return "t:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "a:" + address


async def hit(limit: str, caller: str, rate: Rate, *, now: float | None = None) -> int | None:
    """Count one request; the seconds until the window ends when this one
    is over the limit, else None."""
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    ends = (window + 1) * rate.seconds
    key = f"{limit}:{caller}:{window}"
    engine = RateLimitHit._meta.db
    if isinstance(engine, SQLiteEngine):
        hits = await anyio.to_thread.run_sync(_hit_sqlite, engine.path, key, ends, int(now))
    else:
        rows = await RateLimitHit.raw(_HIT_POSTGRES if isinstance(engine, PostgresEngine) else _HIT, key, ends)
        hits = int(rows[0]["hits"])
        if hits == 1:
            # The first hit of a caller's window: a cheap moment to drop the
            # windows that ended (indexed), so the table holds current ones.
            await RateLimitHit.raw(_EXPIRE, int(now))
    if hits > rate.count:
        return max(1, math.ceil(ends - now))
    return None
