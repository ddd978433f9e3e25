"""Every round trip the app's asyncpg connections make to PostgreSQL: the
request's transaction (BEGIN, COMMIT), its settings, the session's checks,
the domain statements and each statement's preparation when the
connection's statement cache did not hold it. Used by the round-trip test
of tests/integration/runtime and by bench/request_profile.py --trace.

Counted at asyncpg's ``Connection``: a plain ``execute(sql)`` is one
simple-query round trip; ``fetch``/``fetchval``/``execute`` with arguments
go through ``_execute`` (one round trip to bind and run) and, when the
statement was not yet prepared on that connection, ``_get_statement``'s
``prepare`` (one more). Rate-limit counts ride on a connection of their
own (portal.limits.services) and are recorded the same way, marked by the
connection's application name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg.connection


@dataclass(frozen=True)
class RoundTrip:
    kind: str  # "simple", "prepare" or "execute"
    sql: str
    connection: str  # the connection's application_name ("" for the pool's)
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        where = f" [{self.connection}]" if self.connection else ""
        return f"{self.kind:8}{where} {' '.join(self.sql.split())}"


@contextlib.contextmanager
def recorded_round_trips() -> Iterator[list[RoundTrip]]:
    """The round trips every asyncpg connection of this process makes inside the block."""
    cls: Any = asyncpg.connection.Connection
    execute, run, get_statement = cls.execute, cls._execute, cls._get_statement
    trips: list[RoundTrip] = []

    async def recording_execute(self: Any, query: str, *args: Any, **options: Any) -> Any:
        if not args:
            trips.append(RoundTrip("simple", query, _application_name(self)))
        return await execute(self, query, *args, **options)

    async def recording_run(self: Any, query: str, args: Any, *rest: Any, **options: Any) -> Any:
        trips.append(RoundTrip("execute", query, _application_name(self), tuple(args)))
        return await run(self, query, args, *rest, **options)

    async def recording_get_statement(self: Any, query: str, *rest: Any, **options: Any) -> Any:
        key = (query, options.get("record_class") or self._protocol.get_record_class(), options.get("ignore_custom_codec", False))
        if not (options.get("use_cache", True) and self._stmt_cache.get(key) is not None):
            trips.append(RoundTrip("prepare", query, _application_name(self)))
        return await get_statement(self, query, *rest, **options)

    cls.execute, cls._execute, cls._get_statement = recording_execute, recording_run, recording_get_statement
    try:
        yield trips
    finally:
        cls.execute, cls._execute, cls._get_statement = execute, run, get_statement


def _application_name(connection: Any) -> str:
    return str(getattr(connection.get_settings(), "application_name", "") or "")
