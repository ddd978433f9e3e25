"""A database that cannot be reached is an outage, not a bug in a request.

Every request then answers 503 with ``Retry-After`` (JSON error on the API,
a "try again" page elsewhere) instead of 500, and the outage is logged once
as a warning when it starts and once when it ends, not as a traceback per
request. Recovery needs nothing: the next request that gets a connection
ends the outage (the PostgreSQL pool reconnects on acquire).
"""

from __future__ import annotations

import sqlite3
import time
from types import TracebackType

import structlog

log = structlog.get_logger(__name__)

RETRY_AFTER_SECONDS = 5
# SQLite primary result codes meaning "not reachable now": BUSY and LOCKED
# after the busy timeout, CANTOPEN (file or folder gone), IOERR.
_SQLITE_UNAVAILABLE = frozenset({5, 6, 10, 14})
# Raised by the socket layer when the server is gone; counted only when
# they come out of the database driver (storage raises its own errors).
_NETWORK_ERRORS = OSError  # ConnectionRefusedError, TimeoutError, gaierror ...
_DRIVER_PATHS = ("/asyncpg/", "/piccolo/engine/", "/aiosqlite/")


def _postgres_unavailable(exc: BaseException) -> bool:
    try:
        from asyncpg import exceptions as pg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    if isinstance(exc, pg.QueryCanceledError):
        return False  # a statement timeout: that request's own problem
    if isinstance(exc, pg.PostgresConnectionError | pg.OperatorInterventionError | pg.TooManyConnectionsError):
        return True
    # The pool or a connection closed under us ("connection is closed").
    return isinstance(exc, pg.InterfaceError) and "closed" in str(exc)


def _from_driver(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        if any(part in traceback.tb_frame.f_code.co_filename for part in _DRIVER_PATHS):
            return True
        traceback = traceback.tb_next
    return False


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _SQLITE_UNAVAILABLE
    if _postgres_unavailable(exc):
        return True
    return isinstance(exc, _NETWORK_ERRORS) and _from_driver(exc.__traceback__)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be
    reached, as opposed to a query that is wrong."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unavailable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def storage_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the document storage cannot
    be reached: a refused or timed-out connection to S3, or the storage's
    own ``StorageUnavailable``. An upload then fails with a message that
    says so, rather than as an error of ours; nothing was recorded, since
    the object is stored before its row is written."""
    try:
        from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    from portal.documents.storage import StorageUnavailable

    kinds = (StorageUnavailable, EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds):
            return True
        current = current.__cause__ or current.__context__
    return False


class Outage:
    """Whether this process currently finds the database unreachable."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.failures = 0

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            log.warning("database_unavailable", error=f"{type(exc).__name__}: {exc}".strip())

    def recovered(self) -> None:
        if self.since is not None:
            log.warning("database_recovered", seconds=round(time.monotonic() - self.since, 1), failed_requests=self.failures)
            self.since, self.failures = None, 0


OUTAGE = Outage()
