"""A GET route that makes a row on first read says so (``portal.db.WRITES_OPT``)
and runs, on SQLite, in a writer's transaction: another writer committing
between its read and its write waits for it instead of failing it with
"database is locked" (the conversation block of a record's page answered
503 that way while the record's own jobs wrote, and stayed "Loading...")."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from piccolo.querystring import QueryString

from portal.db import WRITES_OPT, PooledSQLiteEngine, TransactionMiddleware, enable_sqlite_wal


def _write_elsewhere(path: str) -> None:
    """Another process's writer (a job runner), with SQLite's busy wait."""
    connection = sqlite3.connect(path, timeout=10)
    try:
        connection.execute("INSERT INTO thread (made_by) VALUES ('job')")
        connection.commit()
    finally:
        connection.close()


async def _get_that_makes_a_row(tmp_path: Path, opt: dict[str, Any]) -> list[str]:
    """A GET whose handler reads, lets another writer try its luck, then
    makes its row; returns who wrote, in commit order."""
    path = str(tmp_path / "portal.db")
    engine = PooledSQLiteEngine(path=path)
    await engine._run_in_new_connection("CREATE TABLE thread (n integer primary key, made_by text)")
    enable_sqlite_wal(path)
    other: asyncio.Future[None] | None = None

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        nonlocal other
        await engine.run_querystring(QueryString("SELECT count(*) AS n FROM thread"))
        other = asyncio.ensure_future(asyncio.to_thread(_write_elsewhere, path))
        await asyncio.sleep(0.3)
        await engine.run_querystring(QueryString("INSERT INTO thread (made_by) VALUES ('request')"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    scope: Any = {"type": "http", "path": "/conversations", "method": "GET", "headers": [], "state": {}}
    scope["route_handler"] = SimpleNamespace(opt=opt)
    try:
        await TransactionMiddleware(handler, engine)(scope, receive, send)
    finally:
        if other is not None:
            await asyncio.wait_for(other, timeout=20)
    rows = await engine._run_in_new_connection("SELECT made_by FROM thread ORDER BY n")
    await engine.close_idle()
    return [row["made_by"] for row in rows]


@pytest.mark.anyio
async def test_a_get_that_says_it_writes_holds_off_other_writers_until_it_is_done(tmp_path: Path) -> None:
    assert await _get_that_makes_a_row(tmp_path, {WRITES_OPT: True}) == ["request", "job"]


@pytest.mark.anyio
async def test_a_plain_get_that_writes_fails_when_another_writer_got_in_between(tmp_path: Path) -> None:
    """Why the opt exists: the same GET without it."""
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await _get_that_makes_a_row(tmp_path, {})
