"""Read markers count messages in the order they were committed, never by
their times: a message that was sent first but committed after a later one
was read still counts as unread (PostgreSQL, where requests really run side
by side). And the record's page marks read only what it showed."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from tests.integration.conversations.test_threads import _issued, _send, _sides
from tests.integration.orders.conftest import OrderWorld
from tests.support.factories import page_headers
from tests.support.postgres import PostgresCluster

WAITERS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


async def _context(shop: OrderWorld, account: str) -> Any:
    from tenants.context import operator_context, system_scope
    from tenants.roles import Role
    from tenants.services.tenants import tenant_by_slug

    async with system_scope("test-factory"):
        tenant = await tenant_by_slug(shop.world.slug)
    member = shop.world.accounts[account]
    return dataclasses.replace(
        operator_context(tenant, account),
        role=Role(member.role),
        user_id=member.user_id,
        membership_id=member.membership_id,
        supplier_id=member.supplier_id,
    )


async def _as(context: Any, action: Callable[[], Awaitable[Any]]) -> None:
    """One person's request: its own transaction, as the middleware opens."""
    from tenants.context import tenant_scope

    async with tenant_scope(context):
        await action()


async def _wait_for(blocker: asyncpg.Connection, waiting: int, task: asyncio.Task[None]) -> int:
    seen = 0
    for _ in range(400):
        await blocker.execute("SELECT pg_stat_clear_snapshot()")
        seen = await blocker.fetchval(WAITERS)
        if seen >= waiting or task.done():
            break
        await asyncio.sleep(0.05)
    return seen


async def _interleave(owner_url: str, shop: OrderWorld, thread_id: str) -> tuple[int, int]:
    """The planner sends first but is held before its message is stored (a
    row another connection is still writing with the same client id); the
    QA engineer sends next; the supplier marks the thread read; then the
    planner's send goes on. Answers how many senders waited at each step."""
    from portal.conversations import services

    planner, qa, supplier = [await _context(shop, key) for key in ("planner", "qa", "supplier_operator")]
    held_client = uuid4()
    blocker = await asyncpg.connect(owner_url)
    try:
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute("SELECT set_config('app.system', 'on', true)")
        await blocker.execute(
            "INSERT INTO conversation_message (id, tenant, supplier, thread, client_id, author, author_name, author_side, body,"
            " mentions, created_at, seq) VALUES ($1, $2, $3, $4, $5, $6, 'held', 'buyer', 'held', '[]', $7, 0)",
            uuid4(),
            shop.world.tenant_id,
            shop.world.supplier_ids[0],
            UUID(thread_id),
            held_client,
            shop.world.accounts["planner"].user_id,
            datetime.now(UTC),
        )
        first = asyncio.create_task(
            _as(planner, lambda: services.post_message(thread_id, services.MessageIn(body="sent first", client_id=held_client)))
        )
        after_first = await _wait_for(blocker, 1, first)
        second = asyncio.create_task(_as(qa, lambda: services.post_message(thread_id, services.MessageIn(body="sent second"))))
        after_second = await _wait_for(blocker, 2, second)
        await _as(supplier, lambda: services.mark_thread_read(thread_id))
        await hold.rollback()
        await asyncio.gather(first, second)
    finally:
        await blocker.close()
    return after_first, after_second


@pytest.mark.postgres
def test_a_message_committed_after_a_later_one_was_read_still_counts_as_unread(
    client: Any, run: Any, shop: OrderWorld, postgres: PostgresCluster
) -> None:
    order = _issued(client, shop)
    thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
    after_first, _ = run(_interleave, postgres.owner_url, shop, thread)
    assert after_first == 1, "the planner's send should have been held"
    messages = client.get(f"/api/v1/threads/{thread}/messages", headers=shop.as_("planner")).json()["items"]
    assert [message["body"] for message in sorted(messages, key=lambda message: message["seq"])] == ["sent first", "sent second"]
    # The supplier marked the thread read before either message was there to
    # see: both are still new to it.
    assert _sides(client, shop, "supplier_operator", order["id"])["shared"]["unread"] == 2
    assert client.post(f"/api/v1/threads/{thread}/read", headers=shop.as_("supplier_operator")).json()["unread"] == 0


def test_the_page_marks_read_only_the_messages_it_showed(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
    assert _send(client, shop, "planner", thread, "Which drawing revision?").status_code == 201
    operator = page_headers(client, shop.as_("supplier_operator")["authorization"].removeprefix("Bearer "))
    shown = client.get("/conversations", params={"record_type": "order", "record_id": order["id"]}, headers=operator).text
    assert f'hx-post="/conversations/{thread}/read?through=1"' in shown
    # A message arrives between the page being shown and its POST: not seen.
    assert _send(client, shop, "qa", thread, "Rev C, see the attached drawing").status_code == 201
    assert client.post(f"/conversations/{thread}/read", params={"through": 1}, headers=operator).status_code == 204
    assert _sides(client, shop, "supplier_operator", order["id"])["shared"]["unread"] == 1
    # A number past the newest message marks no more than the newest.
    marked = client.post(f"/api/v1/threads/{thread}/read", params={"through": 99}, headers=shop.as_("supplier_operator"))
    assert marked.status_code == 200, marked.text
    assert marked.json()["unread"] == 0
    later = _send(client, shop, "planner", thread, "Thanks")
    assert later.json()["seq"] == 3
    assert _sides(client, shop, "supplier_operator", order["id"])["shared"]["unread"] == 1


async def _same_time(thread_ids: list[str]) -> None:
    """Every message and thread of these at one instant (an import, a
    coarse clock)."""
    from portal.conversations.tables import Message, Thread
    from tenants.context import system_scope

    at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    async with system_scope("test-clock"):
        await Thread.update({Thread.last_message_at: at}).where(Thread.id.is_in(thread_ids))
        await Message.update({Message.created_at: at}).where(Message.thread.is_in(thread_ids))


async def _waiting(shop: OrderWorld, account: str) -> list[tuple[str, str]]:
    from portal.conversations import services

    context = await _context(shop, account)
    async with _scope(context):
        return [(str(item.thread_id), item.body) for item in (await services.unanswered()).items]


def _scope(context: Any) -> Any:
    from tenants.context import tenant_scope

    return tenant_scope(context)


def test_waiting_threads_at_one_time_keep_one_order_and_the_last_message_counts(client: Any, run: Any, shop: OrderWorld) -> None:
    threads = []
    for _ in range(3):
        order = _issued(client, shop)
        thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
        assert _send(client, shop, "supplier_operator", thread, "Material short").status_code == 201
        threads.append(thread)
    # In the last thread the planner answered, at the same instant.
    assert _send(client, shop, "planner", threads[-1], "Sending more today").status_code == 201
    run(_same_time, threads)
    waiting = run(_waiting, shop, "planner")
    assert waiting == [(thread, "Material short") for thread in sorted(threads[:2], key=UUID, reverse=True)]
    assert run(_waiting, shop, "planner") == waiting
