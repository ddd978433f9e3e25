"""Rate limits per caller, counted in the database so that every app process
shares one budget (a per-process counter would give N processes N budgets).

Fixed windows: a caller's hits in the current window are one row, added to
with one upsert that returns the new count. The count is written outside the
request's transaction, so a refused or failed request still counts.
"""

from __future__ import annotations

import contextlib
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
# A count is one small upsert, far cheaper than the hop to a worker thread
# that would wait for the file's write lock: it is tried first on the
# event loop through a connection that never waits (no busy timeout), and
# goes to the thread only when the file or that connection is busy.
_sqlite_now: dict[str, sqlite3.Connection] = {}
_sqlite_now_lock = threading.Lock()
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


def _hit_sqlite_now(path: str, key: str, ends: int, now: int) -> int | None:
    """The count, if it could be made at once; None when it would wait."""
    if path not in _sqlite_connections or not _sqlite_now_lock.acquire(blocking=False):
        # The first count of the process creates the file's table in the thread.
        return None
    try:
        connection = _sqlite_now.get(path)
        if connection is None:
            connection = sqlite3.connect(counters_path(path), timeout=0, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA synchronous=NORMAL")
            _sqlite_now[path] = connection
        try:
            (hits,) = connection.execute(_HIT.replace("{}", "?"), (key, ends)).fetchone()
        except sqlite3.OperationalError:
            # Locked by another process's count: the thread waits for it.
            # A statement that failed changed nothing (autocommit).
            return None
        if hits == 1:
            # Counted already; the ended windows go at another first hit
            # if the file is busy now.
            with contextlib.suppress(sqlite3.OperationalError):
                connection.execute(_EXPIRE.replace("{}", "?"), (now,))
        return int(hits)
    finally:
        _sqlite_now_lock.release()


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
        counted = _hit_sqlite_now(engine.path, key, ends, int(now))
        hits = counted if counted is not None else await anyio.to_thread.run_sync(_hit_sqlite, engine.path, key, ends, int(now))
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
