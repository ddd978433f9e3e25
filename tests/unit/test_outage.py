"""Which errors mean "the database cannot be reached" (503, logged once)
and which are a request's own failure (500 with its traceback), judged on
errors raised by the real drivers."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from portal.outage import database_unavailable
from tests.support.ports import free_port


def test_a_sqlite_database_locked_past_the_timeout_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    waiting = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as locked:
        waiting.execute("SELECT * FROM t")
    assert database_unavailable(locked.value)
    holder.close()
    waiting.close()


def test_a_sqlite_file_out_of_reach_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError) as cannot_open:
        sqlite3.connect(tmp_path / "gone" / "portal.db")
    assert database_unavailable(cannot_open.value)


def test_a_wrong_query_is_not_an_outage(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "ok.db") as connection, pytest.raises(sqlite3.OperationalError) as wrong:
        connection.execute("SELECT * FROM no_such_table")
    assert not database_unavailable(wrong.value)


def test_a_refused_postgresql_connection_is_unavailable_even_when_wrapped() -> None:
    async def connect() -> None:
        await asyncpg.connect(host="127.0.0.1", port=free_port(), user="nobody", timeout=5)

    with pytest.raises(ConnectionRefusedError) as refused:
        asyncio.run(connect())
    assert database_unavailable(refused.value)
    wrapped = RuntimeError("while loading the session")
    wrapped.__cause__ = refused.value
    assert database_unavailable(wrapped)


def test_other_os_errors_are_not_an_outage(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as missing:
        (tmp_path / "missing").read_bytes()
    assert not database_unavailable(missing.value)
    assert not database_unavailable(ConnectionRefusedError("storage endpoint"))
