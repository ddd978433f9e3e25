"""The first open of a record's conversation makes its threads: a GET that
writes. Another connection writing at that moment must not fail it.

On SQLite a GET's transaction was deferred: a reading transaction that then
wants to write while another connection holds the write lock is refused at
once (SQLite calls no busy handler for a reader's upgrade), which the portal
answered as an outage (503). htmx swaps no error answer, so the record's
page kept "Loading…" in place of the conversation: issuing an NCR writes,
and then its notification and mail jobs write, just as the NCR's pages load
the block (tests/browser/test_ncr_conversation_phone.py failed so whenever
those writes fell on the block's GETs).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine

from portal.db import get_engine
from tests.integration.conversations.test_conversation_pages import _page
from tests.integration.conversations.test_threads import _issued
from tests.integration.orders.conftest import OrderWorld

# Long enough for the GET to have read and to want to write.
WRITER_HOLDS_SECONDS = 1.5
# An order row is written (its number set to itself): not a row the GET
# writes, only the database's one write lock is shared.
TOUCH = 'UPDATE "outsourced_order" SET number = number WHERE id = {}'


@contextmanager
def _another_writer(order_id: str) -> Iterator[None]:
    """A connection of its own (as another request or a job) holding a
    write until the block exits, then committing it."""
    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        connection = sqlite3.connect(engine.path, isolation_level=None, timeout=30)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(TOUCH.format("?"), (order_id.replace("-", ""),))
            yield
            connection.execute("COMMIT")
        finally:
            connection.close()
        return
    # PostgreSQL: the same, on a connection in a thread and loop of its own.
    import asyncpg

    held, release = threading.Event(), threading.Event()

    async def write() -> None:
        connection = await asyncpg.connect(os.environ["PORTAL_MIGRATION_DATABASE_URL"])
        try:
            async with connection.transaction():
                await connection.execute(TOUCH.format("$1::uuid"), order_id)
                held.set()
                await asyncio.get_running_loop().run_in_executor(None, release.wait)
        finally:
            await connection.close()

    writer = threading.Thread(target=asyncio.run, args=(write(),))
    writer.start()
    try:
        assert held.wait(30)
        yield
    finally:
        release.set()
        writer.join(30)


def test_the_first_open_of_a_conversation_answers_while_another_connection_writes(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    planner = _page(client, shop, "planner")
    params = {"record_type": "order", "record_id": order["id"]}
    with ThreadPoolExecutor(max_workers=1) as pool, _another_writer(order["id"]):
        opened = pool.submit(client.get, "/conversations", params=params, headers=planner)
        time.sleep(WRITER_HOLDS_SECONDS)
    block = opened.result(timeout=60)
    assert block.status_code == 200, block.text
    assert "With the supplier" in block.text
    assert "Internal notes (buyer only)" in block.text
    # Made once: the API lists the same two threads.
    threads = client.get("/api/v1/threads", params=params, headers=shop.as_("planner")).json()["items"]
    assert sorted(thread["side"] for thread in threads) == ["internal", "shared"]
