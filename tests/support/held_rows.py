"""Requests that meet at a row lock on PostgreSQL: another connection holds
the rows they write, each request gets as far as it can and waits, and
then all go on at once. Truly concurrent, unlike requests merely started
together (which the event loop may still run one after the other)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

WAITERS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


async def while_held(owner_url: str, table: str, row_ids: list[UUID], start: Callable[[], list[Awaitable[Any]]]) -> tuple[list[Any], int]:
    """The results of the awaitables ``start`` makes while ``table``'s rows
    are held, and how many of them were seen waiting on the lock."""
    blocker = await asyncpg.connect(owner_url)
    try:
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute(f"SELECT id FROM {table} WHERE id = ANY($1::uuid[]) FOR UPDATE", row_ids)  # noqa: S608 - a test's own table name
        tasks = [asyncio.ensure_future(awaitable) for awaitable in start()]
        waiting = 0
        for _ in range(400):
            # Activity is read once per transaction unless the snapshot is dropped.
            await blocker.execute("SELECT pg_stat_clear_snapshot()")
            waiting = await blocker.fetchval(WAITERS)
            if waiting >= len(tasks) or any(task.done() for task in tasks):
                break
            await asyncio.sleep(0.05)
        await hold.commit()
        return list(await asyncio.gather(*tasks)), waiting
    finally:
        await blocker.close()
