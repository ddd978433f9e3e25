"""Database engines and the one-transaction-per-request middleware."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import sqlite3
import urllib.parse
import warnings
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiosqlite
import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

import portal.decimals
import portal.lengths  # noqa: F401 - every write checked against its columns' lengths, before any query
from portal.i18n import N_, gettext
from portal.outage import OUTAGE, RETRY_AFTER_SECONDS, database_unavailable

if TYPE_CHECKING:
    from portal.settings import Settings

log = structlog.get_logger(__name__)

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# A PostgreSQL host that drops packets (rather than refusing) would hold
# each request for asyncpg's default minute before its 503.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Set in the opt of a GET route that may write (a row made on first read):
# on SQLite it runs in a writer's transaction, as a POST does. A deferred
# transaction that has read and then writes fails at once with "database is
# locked" when another writer committed in between (the GET answers 503).
WRITES_OPT = "writes"
# Routes of read requests without WRITES_OPT whose transaction changed rows
# on SQLite (route path -> method): each is a 503 waiting for a concurrent
# writer. Logged as an error; the test suite fails on any entry, so a GET
# that starts to write is found by the tests that open it, not by a user.
reads_that_wrote: dict[str, str] = {}
# Paths that need no transaction: static files never touch the database and
# /health runs its own probe so that it can report a broken database;
# /metrics reads process counters.
NO_TRANSACTION_PREFIXES = ("/static/", "/health", "/metrics")


def create_engine(settings: Settings, *, role: str = "app") -> Engine[Any]:
    """The engine for the configured database; ``role="owner"`` is the
    migration connection, which on PostgreSQL may be a different user."""
    url = settings.migration_database_url if role == "owner" else settings.database_url
    if settings.database_kind == "sqlite":
        path = settings.sqlite_path
        # Only the installation (migrations, restore: the owner's engine)
        # makes the database. A serving process or a job that found the
        # file gone (a volume unmounted) and made a new empty one would end
        # the outage onto an empty database.
        owner = role == "owner"
        if owner:
            path.parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS, may_create=owner)
    # Piccolo asks the server for its version on creation and warns on
    # stderr when it cannot connect; `portal serve` reports that itself.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PostgresEngine(config={"dsn": url.replace("postgres://", "postgresql://", 1), "timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS})


# Idle SQLite connections kept per event loop; a busier moment opens more
# and closes what exceeds this when it calms down.
SQLITE_IDLE_CONNECTIONS = 16
# Connections in use at once per event loop, as the PostgreSQL pool: more
# transactions than this wait for one. Unbounded, 200 waiting readers each
# had a connection, a thread and a page cache of their own (268 MB
# resident after a 200-client run, against 150 MB allowed).
SQLITE_CONNECTIONS = 10


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a connection (and aiosqlite a thread)
    for every transaction and closes it at the end; this one keeps finished
    transactions' connections for the next, one pool per event loop (an
    aiosqlite connection answers on the loop that asked).

    A kept connection holds the file it opened even when the path no longer
    leads there (a volume unmounted, a restore that put another file in
    place): each checkout compares the path's device and inode with the
    connection's, and when the file is gone a new connection is tried,
    which fails as before, so an outage is still seen as one."""

    def __init__(self, *args: Any, may_create: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.may_create = may_create
        self._idle: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[tuple[Any, tuple[int, int]]]] = weakref.WeakKeyDictionary()
        self._opened_on: weakref.WeakKeyDictionary[Any, tuple[int, int]] = weakref.WeakKeyDictionary()
        self._in_use: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()

    def _turns(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        turns = self._in_use.get(loop)
        if turns is None:
            turns = self._in_use[loop] = asyncio.Semaphore(SQLITE_CONNECTIONS)
        return turns

    def _file(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    async def get_connection(self) -> Any:
        """A connection for one transaction, given back with ``release``."""
        turns = self._turns()
        await turns.acquire()
        try:
            return await self._checkout()
        except BaseException:
            turns.release()
            raise

    async def _checkout(self) -> Any:
        file = self._file()
        idle = self._idle.setdefault(asyncio.get_running_loop(), [])
        while idle:
            connection, opened_on = idle.pop()
            if opened_on == file:
                return connection
            await connection.close()
        pending = aiosqlite.connect(**sqlite_connect_kwargs(self.connection_kwargs, create=self.may_create))
        # A kept connection's thread waits for work until it is closed; as a
        # daemon it does not hold the interpreter open at exit (SQLite is
        # safe against a process that ends mid-way).
        pending._thread.daemon = True
        connection = await pending
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        if file is not None:
            self._opened_on[connection] = file
        return connection

    async def release(self, connection: Any, *, reusable: bool) -> None:
        try:
            idle = self._idle.setdefault(asyncio.get_running_loop(), [])
            opened_on = self._opened_on.get(connection)
            if reusable and opened_on is not None and not connection.in_transaction and len(idle) < SQLITE_IDLE_CONNECTIONS:
                idle.append((connection, opened_on))
                return
            await connection.close()
        finally:
            self._turns().release()

    async def close_idle(self) -> None:
        idle = self._idle.pop(asyncio.get_running_loop(), [])
        for connection, _opened_on in idle:
            await connection.close()

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True) -> SQLiteTransaction:
        return _PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: Any = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        # Piccolo sets foreign_keys before each statement of a transaction,
        # where SQLite ignores it (a no-op inside a transaction): a pooled
        # connection set it once when it was opened. A thread hop saved per
        # statement.
        connection.row_factory = dict_factory
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()


class _PooledTransaction(SQLiteTransaction):
    """Gives its connection back to the pool instead of closing it; a
    connection whose COMMIT or ROLLBACK failed is closed, never reused."""

    engine: PooledSQLiteEngine

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        reusable = True
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        except BaseException:
            reusable = False
            raise
        finally:
            try:
                await self.engine.release(self.connection, reusable=reusable)
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None


@functools.cache
def get_engine() -> Engine[Any]:
    """The process's one engine: Piccolo tables find it through
    ``portal.piccolo_conf`` and the request transaction must use the same
    object, or queries would not join it. ``PORTAL_DB_ROLE=owner`` (set by
    ``portal migrate``) connects with the migration URL instead."""
    from portal.settings import get_settings

    return create_engine(get_settings(), role=os.environ.get("PORTAL_DB_ROLE", "app"))


def sqlite_connect_kwargs(kwargs: dict[str, Any], *, create: bool) -> dict[str, Any]:
    """``kwargs`` for ``connect``, opening only an existing file unless ``create``."""
    if create:
        return kwargs
    return {**kwargs, "database": f"file:{urllib.parse.quote(str(kwargs['database']))}?mode=rw", "uri": True}


def enable_sqlite_wal(path: str, *, create: bool = True) -> None:
    """WAL lets readers run beside the one writer; the mode is stored in the
    database file, so setting it once at start-up is enough."""
    kwargs = sqlite_connect_kwargs({"database": path, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, create=create)
    with sqlite3.connect(**kwargs) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


async def start_engine(engine: Engine[Any]) -> None:
    if isinstance(engine, SQLiteEngine):
        enable_sqlite_wal(engine.path, create=getattr(engine, "may_create", True))
    elif isinstance(engine, PostgresEngine):
        from portal.settings import get_settings

        threshold_ms = get_settings().slow_query_ms

        async def watch_queries(connection: Any) -> None:
            connection.add_query_logger(functools.partial(log_slow_query, threshold_ms=threshold_ms))

        await engine.start_connection_pool(
            min_size=1, max_size=POOL_SIZE, reset=keep_session, **({"init": watch_queries} if threshold_ms else {})
        )


# Connections per process: two cores serve well below this many statements
# at once; more requests than connections wait their turn in the pool.
POOL_SIZE = 10


async def keep_session(connection: Any) -> None:
    """What a pooled connection needs between two requests: nothing more
    than the rollback asyncpg itself does before calling this. Its default
    also runs ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL`` - a round trip on every release, two per request with the rate
    limit's count, for state the portal never leaves on a pooled
    connection: settings are transaction-local (``set_config(..., true)``,
    tenants/context.py), cursors end with their transaction, and LISTEN
    and advisory locks are never taken on one (the job runner listens on a
    connection of its own). tests/integration/runtime/test_pool_reuse.py
    holds the portal to that."""


SLOW_QUERY_TEXT = 1000


def log_slow_query(record: Any, *, threshold_ms: int) -> None:
    """asyncpg's query logger: one line per statement slower than the
    threshold, with its text but never its arguments (they may hold
    passwords' hashes, tokens, documents' names)."""
    ms = record.elapsed * 1000
    if ms < threshold_ms:
        return
    from portal.metrics import SLOW_QUERIES

    SLOW_QUERIES.inc()
    log.warning(
        "slow_query",
        ms=round(ms, 1),
        query=" ".join(record.query.split())[:SLOW_QUERY_TEXT],
        failed=type(record.exception).__name__ if record.exception else None,
    )


async def stop_engine(engine: Engine[Any]) -> None:
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.close_idle()


async def ping(engine: Any) -> None:
    """Raise when the database does not answer a trivial query."""
    await engine._run_in_new_connection("SELECT 1")


def open_transaction(engine: Engine[Any], *, writes: bool) -> Any:
    if isinstance(engine, SQLiteEngine):
        # A deferred transaction that reads and then writes fails with
        # "database is locked" when another writer got in between.
        kind = TransactionType.immediate if writes else TransactionType.deferred
        return engine.transaction(transaction_type=kind)
    return engine.transaction()


@contextlib.asynccontextmanager
async def in_index_order() -> AsyncIterator[None]:
    """Plan the statements inside in an index's order, never a sort, on
    PostgreSQL (within the current transaction; nothing on SQLite).

    For a page of a filtered list the planner weighs a walk of the index in
    the page's order, which stops after one page, against reading every
    matching row and sorting them. The row-level security checks are ORs of
    settings it cannot see into, so it takes them to keep a few rows out of
    thousands and finds the sort cheap: a tenant with 100,000 orders then
    reads all of those in one status for a page of 50. Turning sorts off
    for the statement leaves the index walk (a sort still happens where no
    index gives the order; it only costs more in the planner's eyes)."""
    engine = get_engine()
    if not isinstance(engine, PostgresEngine) or engine.current_transaction.get() is None:
        yield
        return
    # SELECTs, not SET/RESET: asyncpg runs them as any query, with results.
    (row,) = await engine.run_querystring(
        QueryString("SELECT current_setting('enable_sort') AS was, set_config('enable_sort', 'off', true)")
    )
    try:
        yield
    finally:
        await engine.run_querystring(QueryString("SELECT set_config('enable_sort', {}, true)", row["was"]))


_sqlite_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def sqlite_writer_turn() -> asyncio.Lock:
    """SQLite lets one writer in at a time and makes the others poll (its
    busy handler sleeps and retries), so under load a writer that just came
    can slip in before one that has waited for a second. Writing requests of
    this process queue here instead, first come first served; another
    process still meets the busy handler. One lock per event loop: a lock
    is bound to the loop it is used on."""
    loop = asyncio.get_running_loop()
    lock = _sqlite_writers.get(loop)
    if lock is None:
        lock = _sqlite_writers[loop] = asyncio.Lock()
    return lock


class TransactionMiddleware:
    """Runs each HTTP request in one database transaction.

    The transaction is finished when the response starts, before any byte
    reaches the client: committed for a success, rolled back for an error
    status, so a client never sees "saved" for something that was not.
    Litestar runs middleware in the handler's own task, so Piccolo's
    per-task current transaction reaches every query of the handler.
    """

    def __init__(self, app: ASGIApp, engine: Engine[Any]) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(NO_TRANSACTION_PREFIXES):
            await self.app(scope, receive, send)
            return
        request = _RequestTransaction(send, scope)
        opt = getattr(scope.get("route_handler"), "opt", None) or {}
        writes = scope.get("method", "GET") not in READ_ONLY_METHODS or bool(opt.get(WRITES_OPT))
        turn = sqlite_writer_turn() if writes and isinstance(self.engine, SQLiteEngine) else contextlib.nullcontext()
        try:
            async with turn, open_transaction(self.engine, writes=writes) as transaction:
                # A connection and a BEGIN: the database answers again.
                OUTAGE.recovered()
                request.transaction = transaction
                changes = _sqlite_changes(transaction) if not writes else None
                await self.app(scope, receive, request.send)
                if not request.finished:
                    await transaction.rollback()
                if changes is not None and _sqlite_changes(transaction) != changes:
                    _read_wrote(scope)
        except Exception as exc:
            # After a failed commit the client already has its 503; the
            # transaction's own exit then fails too and must not raise
            # again. Nor may a connection lost after the answer went out:
            # nothing of this request was committed.
            if not (request.commit_failed or (request.finished and database_unavailable(exc))):
                raise


def _sqlite_changes(transaction: Any) -> int | None:
    """Rows the SQLite connection has changed since it was opened (None on
    PostgreSQL, where a reading transaction may write without that risk)."""
    connection = getattr(transaction, "connection", None)
    return connection.total_changes if isinstance(connection, aiosqlite.Connection) else None


def _read_wrote(scope: Scope) -> None:
    handler = scope.get("route_handler")
    route = getattr(handler, "paths", None)
    path = sorted(route)[0] if route else scope["path"]
    method = str(scope.get("method", "GET"))
    reads_that_wrote[path] = method
    log.error("read_request_wrote", path=path, method=method, hint=f"set {WRITES_OPT!r} in the route's opt")


def keep_changes_on_error(scope: Scope) -> None:
    """For the rare handler whose failure must still leave a trace (a failed
    sign-in counts towards the lock-out): commit even on an error status."""
    scope.setdefault("state", {})["commit_on_error"] = True


class _RequestTransaction:
    def __init__(self, send: Send, scope: Scope) -> None:
        self._send = send
        self._scope = scope
        self.transaction: Any = None
        self.finished = False
        self.commit_failed = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and not self.finished:
            self.finished = True
            if message["status"] >= 400 and not self._scope.get("state", {}).get("commit_on_error"):
                try:
                    await self.transaction.rollback()
                except Exception as exc:
                    # The error answer (often the outage's own 503) still
                    # goes out; a lost connection committed nothing.
                    if not database_unavailable(exc):
                        raise
            else:
                try:
                    await self.transaction.commit()
                except Exception as exc:
                    if database_unavailable(exc):
                        OUTAGE.failed(exc)
                    else:
                        log.exception("commit_failed")
                    self.commit_failed = True
                    await _send_commit_failure(self._send)
        if not self.commit_failed:
            await self._send(message)


async def _send_commit_failure(send: Send) -> None:
    message = gettext(N_("The change could not be saved. Please try again."))
    body = json.dumps({"error": {"code": "commit_failed", "message": message}}, ensure_ascii=False).encode()
    start: Any = {
        "type": "http.response.start",
        "status": 503,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        ],
    }
    end: Any = {"type": "http.response.body", "body": body}
    await send(start)
    await send(end)
