"""Two people acting on one handover at the same moment (PostgreSQL, where
requests really run side by side, each in its own transaction): two
completions, one wins and the other gets 409 with nothing moved twice;
two sign-offs of different entries both stay; two of the same entry, one
wins."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from tests.integration.handover.conftest import HandoverWorld, _ok, sign_everything, started
from tests.support.held_rows import WAITERS, while_held
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.postgres


async def _context(ho: HandoverWorld, account: str, role: str) -> Any:
    from tenants.context import operator_context, system_scope
    from tenants.roles import Role
    from tenants.services.tenants import tenant_by_slug

    async with system_scope("test-factory"):
        tenant = await tenant_by_slug(ho.world.slug)
    member = ho.world.accounts[account]
    return dataclasses.replace(
        operator_context(tenant, account), role=Role(role), user_id=member.user_id, membership_id=member.membership_id
    )


async def _request(context: Any, action: Callable[[], Awaitable[Any]]) -> str:
    """One person's request: its own transaction, as the middleware opens."""
    from portal.errors import DomainError
    from tenants.context import tenant_scope

    try:
        async with tenant_scope(context):
            await action()
    except DomainError as error:
        return str(error.code)
    return "ok"


async def _race(
    owner_url: str, table: str, row_ids: list[UUID], *requests: tuple[Any, Callable[[], Awaitable[Any]]]
) -> tuple[list[str], int]:
    """Another connection holds the rows the requests write, so each gets as
    far as it can and waits; then all go on at once."""
    results, waiting = await while_held(owner_url, table, row_ids, lambda: [_request(context, action) for context, action in requests])
    return sorted(results), waiting


async def _moved(handover_id: str, number: str, tenant_id: UUID) -> dict[str, int]:
    from portal.handover.tables import HandoverAccess, HandoverLink
    from portal.orders.tables import Order
    from tenants.context import system_scope

    async with system_scope("test-read"):
        links = await HandoverLink.count().where(HandoverLink.handover == handover_id)
        access = await HandoverAccess.count().where(HandoverAccess.handover == handover_id)
        made = await Order.count().where(Order.status_reason.like(f"%{number}%")).where(Order.tenant == tenant_id)
    return {"links": links, "access": access, "cancelled_originals": made}


def test_two_completions_at_once_one_wins_and_nothing_moves_twice(
    client: Any, run: Any, ho: HandoverWorld, postgres: PostgresCluster
) -> None:
    from portal.handover import services

    handover = started(client, ho)
    transfer, cancel = ho.orders["transfer"]["id"], ho.orders["cancel"]["id"]
    signed = sign_everything(client, ho, handover["id"], {transfer: "transfer", cancel: "cancel_rest", ho.material_id: "transfer"})
    planner = run(_context, ho, "planner", "planner")
    admin = run(_context, ho, "admin", "admin")

    def complete() -> Callable[[], Awaitable[Any]]:
        return lambda: services.complete_handover(handover["id"], signed["version"])

    results, waiting = run(_race, postgres.owner_url, "handover", [UUID(handover["id"])], (planner, complete()), (admin, complete()))
    assert waiting == 2, f"both completions should have been waiting on the held handover: {results}"
    assert results == ["ok", "stale_handover"]
    done = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))
    assert done["status"] == "completed"
    assert len(done["transferred_orders"]) == 1
    # One transfer's worth of links and access rows: the loser wrote nothing.
    # (Numbers are per tenant: other tests' tenants have an HO-…-0001 too.)
    moved = run(_moved, handover["id"], handover["number"], ho.world.tenant_id)
    assert moved["links"] == 3  # the transferred order, the cancelled one, the material
    # The transferred original and the one whose rest was cancelled, once each.
    assert moved["cancelled_originals"] == 2


def test_sign_offs_at_once_keep_each_other_and_one_entry_is_signed_once(
    client: Any, run: Any, ho: HandoverWorld, postgres: PostgresCluster
) -> None:
    from portal.handover import services

    handover = started(client, ho)
    planner_entries = [item for item in handover["items"] if item["party"] == "planner" and not item["source"]]
    qa_entries = [item for item in handover["items"] if item["party"] == "qa" and not item["source"]]
    first, second = planner_entries[0], qa_entries[0]
    planner = run(_context, ho, "planner", "planner")
    qa = run(_context, ho, "qa", "qa")
    admin = run(_context, ho, "admin", "admin")

    def sign(item: dict[str, Any], note: str) -> Callable[[], Awaitable[Any]]:
        return lambda: services.sign_off(handover["id"], item["id"], "", note)

    # Different entries, by different people, at once: both stay.
    ids = [UUID(first["id"]), UUID(second["id"])]
    results, waiting = run(_race, postgres.owner_url, "handover_item", ids, (planner, sign(first, "planner's")), (qa, sign(second, "qa's")))
    assert waiting == 2, results
    assert results == ["ok", "ok"]
    after = {item["id"]: item for item in _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))["items"]}
    assert (after[first["id"]]["done"], after[first["id"]]["note"]) == (True, "planner's")
    assert (after[second["id"]]["done"], after[second["id"]]["note"]) == (True, "qa's")

    # The same entry, by the planner and the admin, at once: one wins, the other is told.
    third = planner_entries[1]
    results, waiting = run(
        _race, postgres.owner_url, "handover_item", [UUID(third["id"])], (planner, sign(third, "first")), (admin, sign(third, "second"))
    )
    assert waiting == 2, results
    assert results == ["already_signed_off", "ok"]
    entry = next(
        item
        for item in _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))["items"]
        if item["id"] == third["id"]
    )
    assert entry["done"]
    assert entry["note"] in ("first", "second")


async def _in_turn(
    owner_url: str, table: str, row_ids: list[UUID], *requests: tuple[Any, Callable[[], Awaitable[Any]]]
) -> tuple[list[str], int]:
    """Like ``_race``, but each request starts only once the ones before it
    wait on a lock (or are done): the order in which they reach the
    database is fixed. Results in the order of ``requests``."""
    blocker = await asyncpg.connect(owner_url)
    try:
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute(f"SELECT id FROM {table} WHERE id = ANY($1::uuid[]) FOR UPDATE", row_ids)  # noqa: S608
        tasks: list[asyncio.Task[str]] = []
        waiting = 0
        for context, action in requests:
            tasks.append(asyncio.create_task(_request(context, action)))
            for _ in range(400):
                await blocker.execute("SELECT pg_stat_clear_snapshot()")
                waiting = await blocker.fetchval(WAITERS)
                if waiting >= len(tasks) or tasks[-1].done():
                    break
                await asyncio.sleep(0.05)
        await hold.commit()
        results = list(await asyncio.gather(*tasks))
    finally:
        await blocker.close()
    return results, waiting


async def _audit_order(tenant_id: UUID, handover_id: str, item_id: str) -> list[str]:
    """The handover's sign-off of ``item_id`` and its completion, in the
    order the audit chain has them."""
    from portal.audit.tables import AuditEvent
    from tenants.context import system_scope

    async with system_scope("test-read"):
        rows = await (
            AuditEvent.select(AuditEvent.action, AuditEvent.after)
            .where(AuditEvent.tenant == tenant_id)
            .where(AuditEvent.entity_id == handover_id)
            .where(AuditEvent.action.is_in(["handover.sign_off", "handover.complete"]))
            .order_by(AuditEvent.seq)
        )
    order = []
    for row in rows:
        after = row["after"] if isinstance(row["after"], dict) else json.loads(row["after"] or "{}")
        if row["action"] == "handover.complete" or after.get("item") == item_id:
            order.append(row["action"])
    return order


@pytest.mark.parametrize("left", ["the last blocking entry", "an entry that does not block"])
def test_a_sign_off_and_the_completion_at_once_are_served_one_after_the_other(
    client: Any, run: Any, ho: HandoverWorld, postgres: PostgresCluster, left: str
) -> None:
    """The sign-off reaches the handover first and waits (on its entry, held
    by another connection); the completion comes in meanwhile. Without a
    lock on the handover the completion went ahead: it refused for a
    blocking entry it read as open, or completed and the entry was signed
    off after the handover had ended. Now it waits for the sign-off and
    reads it."""
    from portal.handover import services

    handover = started(client, ho)
    blocking = left == "the last blocking entry"
    entry = next(item for item in handover["items"] if item["party"] == "planner" and not item["source"] and item["blocking"] == blocking)
    decisions = {ho.orders["transfer"]["id"]: "transfer", ho.orders["cancel"]["id"]: "cancel_rest", ho.material_id: "transfer"}
    signed = sign_everything(client, ho, handover["id"], decisions, skip={entry["id"]})
    assert signed["blocking_open"] == (1 if blocking else 0)
    planner = run(_context, ho, "planner", "planner")
    admin = run(_context, ho, "admin", "admin")

    results, waiting = run(
        _in_turn,
        postgres.owner_url,
        "handover_item",
        [UUID(entry["id"])],
        (planner, lambda: services.sign_off(handover["id"], entry["id"], "", "signed as it completed")),
        (admin, lambda: services.complete_handover(handover["id"], signed["version"])),
    )
    assert waiting == 2, f"the completion should have waited for the sign-off: {results}"
    assert results == ["ok", "ok"]
    done = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))
    assert done["status"] == "completed"
    assert next(item for item in done["items"] if item["id"] == entry["id"])["note"] == "signed as it completed"
    assert run(_audit_order, ho.world.tenant_id, handover["id"], entry["id"]) == ["handover.sign_off", "handover.complete"]
