"""Database engines and the one-transaction-per-request middleware."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import sqlite3
import warnings
import weakref
from typing import TYPE_CHECKING, Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

import portal.decimals  # noqa: F401 - exact Decimal storage on SQLite, registered before any query
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
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    # Piccolo asks the server for its version on creation and warns on
    # stderr when it cannot connect; `portal serve` reports that itself.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PostgresEngine(config={"dsn": url.replace("postgres://", "postgresql://", 1), "timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS})


@functools.cache
def get_engine() -> Engine[Any]:
    """The process's one engine: Piccolo tables find it through
    ``portal.piccolo_conf`` and the request transaction must use the same
    object, or queries would not join it. ``PORTAL_DB_ROLE=owner`` (set by
    ``portal migrate``) connects with the migration URL instead."""
    from portal.settings import get_settings

    return create_engine(get_settings(), role=os.environ.get("PORTAL_DB_ROLE", "app"))


def enable_sqlite_wal(path: str) -> None:
    """WAL lets readers run beside the one writer; the mode is stored in the
    database file, so setting it once at start-up is enough."""
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


async def start_engine(engine: Engine[Any]) -> None:
    if isinstance(engine, SQLiteEngine):
        enable_sqlite_wal(engine.path)
    elif isinstance(engine, PostgresEngine):
        from portal.settings import get_settings

        threshold_ms = get_settings().slow_query_ms

        async def watch_queries(connection: Any) -> None:
            connection.add_query_logger(functools.partial(log_slow_query, threshold_ms=threshold_ms))

        await engine.start_connection_pool(min_size=1, max_size=10, **({"init": watch_queries} if threshold_ms else {}))


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
        writes = scope.get("method", "GET") not in READ_ONLY_METHODS
        turn = sqlite_writer_turn() if writes and isinstance(self.engine, SQLiteEngine) else contextlib.nullcontext()
        try:
            async with turn, open_transaction(self.engine, writes=writes) as transaction:
                # A connection and a BEGIN: the database answers again.
                OUTAGE.recovered()
                request.transaction = transaction
                await self.app(scope, receive, request.send)
                if not request.finished:
                    await transaction.rollback()
        except Exception as exc:
            # After a failed commit the client already has its 503; the
            # transaction's own exit then fails too and must not raise
            # again. Nor may a connection lost after the answer went out:
            # nothing of this request was committed.
            if not (request.commit_failed or (request.finished and database_unavailable(exc))):
                raise


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
