"""The board's counts per status come from ``order_status_count``, which the
database's triggers keep in the transaction of every change: after orders
are created, issued, accepted, rejected, cancelled and moved to another
supplier, the counts equal a count of the orders themselves, for the buyer
and for each supplier (drafts hidden from suppliers); a change that fails
leaves them as they were; another tenant's orders never show."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

from tests.integration.orders.conftest import OrderWorld, draft
from tests.support.factories import api_token, bearer, make_world


async def _counted_orders(tenant_id: UUID, supplier_id: UUID | None) -> dict[str, int]:
    """The orders themselves, counted past the counts table, as the system."""
    from portal.orders.tables import Order
    from tenants.context import system_scope

    async with system_scope("test-count"):
        query = Order.select(Order.status, Order.supplier, Order.issued_at).where(Order.tenant == tenant_id)
        rows = await query
    # A supplier never saw its drafts, nor a draft cancelled unissued.
    counted = Counter(
        row["status"]
        for row in rows
        if supplier_id is None or (row["supplier"] == supplier_id and row["status"] != "draft" and row["issued_at"] is not None)
    )
    return dict(counted)


def fire(client: Any, shop: OrderWorld, order: dict[str, Any], event: str, who: str, reason: str = "") -> dict[str, Any]:
    current = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_(who)).json()
    answer = client.post(
        f"/api/v1/orders/{order['id']}/transitions",
        json={"event": event, "reason": reason, "version": current["version"]},
        headers=shop.as_(who),
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def board_counts(client: Any, headers: dict[str, str]) -> dict[str, int]:
    answer = client.get("/api/v1/orders", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["counts"])


def test_counts_follow_every_status_change_exactly(client: Any, shop: OrderWorld, run: Any) -> None:
    world = shop.world
    orders = [draft(client, shop, days=10 + index) for index in range(7)]
    for order in orders[1:6]:
        fire(client, shop, order, "issue", "planner")
    fire(client, shop, orders[2], "accept", "supplier_admin")
    fire(client, shop, orders[3], "accept", "supplier_admin")
    fire(client, shop, orders[3], "start", "supplier_admin")
    fire(client, shop, orders[4], "reject", "supplier_admin", reason="no capacity")
    fire(client, shop, orders[5], "cancel", "planner", reason="plan changed")
    orders[6] = fire(client, shop, orders[6], "cancel", "planner", reason="drafted by mistake")
    # A refused change (closing an order still issued) moves no count.
    refused = client.post(f"/api/v1/orders/{orders[1]['id']}/transitions", json={"event": "close"}, headers=shop.as_("planner"))
    assert refused.status_code == 409, refused.text

    # The buyer counts the draft it cancelled among the cancelled orders;
    # its supplier never saw that draft and does not count it.
    expected = {"draft": 1, "issued": 1, "accepted": 1, "in_production": 1, "rejected": 1, "cancelled": 2}
    assert board_counts(client, shop.as_("planner")) == expected == run(_counted_orders, world.tenant_id, None)
    supplier_view = board_counts(client, shop.as_("supplier_admin"))
    assert supplier_view == {**{key: value for key, value in expected.items() if key != "draft"}, "cancelled": 1}
    assert supplier_view == run(_counted_orders, world.tenant_id, world.supplier_ids[0])
    # The other supplier has no order; another tenant sees none of these.
    assert board_counts(client, shop.as_("other_supplier_admin")) == {}
    stranger = run(make_world, "cnt")
    assert board_counts(client, bearer(api_token(client, stranger.accounts["planner"], stranger.slug))) == {}


def test_counts_follow_an_order_moved_to_another_supplier(client: Any, shop: OrderWorld, run: Any) -> None:
    from portal.orders.tables import Order
    from tenants.context import system_scope

    world = shop.world
    order = draft(client, shop)
    fire(client, shop, order, "issue", "planner")

    async def move() -> None:
        # As a handover's transfer does: the order changes supplier.
        async with system_scope("test-transfer"):
            await Order.update({Order.supplier: world.supplier_ids[1]}).where(Order.id == UUID(order["id"]))

    run(move)
    assert board_counts(client, shop.as_("supplier_admin")) == run(_counted_orders, world.tenant_id, world.supplier_ids[0])
    assert board_counts(client, shop.as_("other_supplier_admin")) == {"issued": 1}
    assert board_counts(client, shop.as_("planner")) == run(_counted_orders, world.tenant_id, None)
