"""The SQLite pool hands out at most SQLITE_CONNECTIONS connections per
event loop at once: more concurrent transactions wait for one and all of
them finish (no connection, thread and page cache per waiting request),
and a failed transaction gives its connection back too."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from piccolo.querystring import QueryString

from portal.db import SQLITE_CONNECTIONS, PooledSQLiteEngine, open_transaction


class Failed(Exception):
    pass


@pytest.mark.anyio
async def test_concurrent_transactions_share_a_bounded_pool(tmp_path: Path) -> None:
    engine = PooledSQLiteEngine(path=str(tmp_path / "pool.db"))
    await engine._run_in_new_connection("CREATE TABLE seen (n integer)")
    in_use = peak = 0
    connections = set()

    async def one(number: int, *, fail: bool = False) -> None:
        nonlocal in_use, peak
        async with open_transaction(engine, writes=False) as transaction:
            in_use += 1
            peak = max(peak, in_use)
            connections.add(id(transaction.connection))
            try:
                await engine.run_querystring(QueryString("SELECT count(*) AS n FROM seen WHERE n < {}", number))
                await asyncio.sleep(0.01)
                if fail:
                    raise Failed()
            finally:
                in_use -= 1

    async def failing(number: int) -> None:
        with pytest.raises(Failed):
            await one(number, fail=True)

    await asyncio.wait_for(asyncio.gather(*(one(number) for number in range(4 * SQLITE_CONNECTIONS))), timeout=60)
    assert peak == SQLITE_CONNECTIONS
    assert len(connections) <= SQLITE_CONNECTIONS
    # Failed transactions give their connections back: afterwards a burst
    # gets the whole pool again.
    await asyncio.wait_for(asyncio.gather(*(failing(number) for number in range(2 * SQLITE_CONNECTIONS))), timeout=60)
    peak = 0
    await asyncio.wait_for(asyncio.gather(*(one(number) for number in range(2 * SQLITE_CONNECTIONS))), timeout=60)
    assert peak == SQLITE_CONNECTIONS
    await engine.close_idle()


@pytest.mark.anyio
async def test_the_apps_engine_never_makes_a_database_where_the_file_is_gone(tmp_path: Path) -> None:
    """Only the installation makes the file: a serving process or a job
    child that meets a vanished database (a volume unmounted, a file moved)
    must see an outage, not start over on a new empty database."""
    from portal.db import start_engine

    made = PooledSQLiteEngine(path=str(tmp_path / "made.db"))
    await start_engine(made)
    assert (tmp_path / "made.db").exists()

    gone = tmp_path / "gone.db"
    engine = PooledSQLiteEngine(path=str(gone), may_create=False)
    with pytest.raises(sqlite3.OperationalError):
        await start_engine(engine)
    with pytest.raises(sqlite3.OperationalError):
        async with open_transaction(engine, writes=True):
            pass
    assert not gone.exists()
    # A path with characters that mean something in a URI still opens.
    odd = tmp_path / "a ?#%.db"
    await start_engine(PooledSQLiteEngine(path=str(odd)))
    async with open_transaction(PooledSQLiteEngine(path=str(odd), may_create=False), writes=False) as transaction:
        assert transaction.connection is not None
