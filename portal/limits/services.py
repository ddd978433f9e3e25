"""Rate limits per caller, counted in the database so that every app process
shares one budget (a per-process counter would give N processes N budgets).

Fixed windows: a caller's hits in the current window are one row, added to
with one upsert that returns the new count. The count is written outside the
request's transaction, so a refused or failed request still counts.

Each request gets its own number in its window (the upsert's result), so
the limit is exact across processes: the request numbered ``count + 1`` is
the first refused, however the requests were spread over processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import sqlite3
import threading
import time
import weakref
from typing import Any

import anyio.to_thread
import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from portal.limits.rates import Rate
from portal.limits.tables import RateLimitHit

_HIT = (
    "INSERT INTO rate_limit_hit (key, hits, expires_at) VALUES ({}, 1, {}) "
    "ON CONFLICT (key) DO UPDATE SET hits = rate_limit_hit.hits + 1 RETURNING hits"
)
# PostgreSQL: the hits of every request waiting in this process, added in
# one upsert (one row per key, the requests of a key added at once), and
# committed without waiting for the WAL to reach disk (synchronous_commit
# off for this one statement's transaction, not the session's: safe behind
# PgBouncer). A crash may forget the last few counts, which a rate limit
# can afford; a request should not wait on an fsync for it.
_HITS_POSTGRES = (
    "INSERT INTO rate_limit_hit (key, hits, expires_at) "
    "SELECT added.key, added.hits, added.expires_at "
    "FROM unnest($1::varchar[], $2::int[], $3::bigint[]) AS added (key, hits, expires_at), "
    "(SELECT set_config('synchronous_commit', 'off', true)) AS unsynced "
    "ON CONFLICT (key) DO UPDATE SET hits = rate_limit_hit.hits + excluded.hits RETURNING key, hits"
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


class PostgresCounter:
    """The counts of one process (one event loop) on PostgreSQL.

    Every API request counts, so counting through the request pool made
    each API request wait for a pooled connection twice: once for its count,
    once for its transaction. Under load the pool is what requests queue
    for (measured: 0.28 s mean wait for the count, 0.75 s for the
    transaction, at 50 clients on one process), and the API actions were
    several times slower than the page of the same user, which does not
    count. Counts therefore go through one connection of their own, never
    the pool's, and the requests that arrive while a count is on its way
    are added together in the next statement: one round trip serves them
    all, and each still gets its own number in its window, so the limit
    stays exact (the row's lock orders the statements of all processes).
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config
        self._connection: Any = None
        self._waiting: list[tuple[str, int, int, asyncio.Future[int]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def count(self, key: str, ends: int, now: int) -> int:
        """This request's number among its key's hits in the window."""
        number: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, ends, now, number))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await number

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._send(batch)
                except BaseException as exc:
                    for *_, number in batch:
                        if not number.done():
                            number.set_exception(exc)
                    await self._drop_connection()
                    if not isinstance(exc, Exception):
                        raise
        finally:
            self._flushing = None

    async def _send(self, batch: list[tuple[str, int, int, asyncio.Future[int]]]) -> None:
        added: dict[str, list[asyncio.Future[int]]] = {}
        ends: dict[str, int] = {}
        for key, key_ends, _, number in batch:
            added.setdefault(key, []).append(number)
            ends[key] = key_ends
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(**self._config)
        keys = list(added)
        rows = await self._connection.fetch(_HITS_POSTGRES, keys, [len(added[key]) for key in keys], [ends[key] for key in keys])
        new_window = False
        for row in rows:
            numbers = added[row["key"]]
            first = int(row["hits"]) - len(numbers) + 1
            new_window = new_window or first == 1
            for offset, number in enumerate(numbers):
                if not number.done():
                    number.set_result(first + offset)
        if new_window:
            # The first hit of a caller's window: a cheap moment to drop the
            # windows that ended (indexed), so the table holds current ones.
            await self._connection.execute(_EXPIRE.replace("{}", "$1"), max(now for _, _, now, _ in batch))

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=1)

    async def close(self) -> None:
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        await self._drop_connection()


# One counter per event loop: a connection belongs to the loop it was made on.
_postgres_counters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PostgresCounter] = weakref.WeakKeyDictionary()


def _postgres_counter(engine: PostgresEngine) -> PostgresCounter:
    loop = asyncio.get_running_loop()
    counter = _postgres_counters.get(loop)
    if counter is None:
        counter = _postgres_counters[loop] = PostgresCounter(
            {**engine.config, "server_settings": {"application_name": "portal rate limits"}}
        )
    return counter


async def close_counters() -> None:
    """Close this event loop's counting connection (at the app's shutdown)."""
    counter = _postgres_counters.pop(asyncio.get_running_loop(), None)
    if counter is not None:
        await counter.close()


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
    elif isinstance(engine, PostgresEngine):
        hits = await _postgres_counter(engine).count(key, ends, int(now))
    else:
        raise TypeError(f"no rate-limit counter for {type(engine).__name__}")
    if hits > rate.count:
        return max(1, math.ceil(ends - now))
    return None
