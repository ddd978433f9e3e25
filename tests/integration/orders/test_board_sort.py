"""The board sorts the whole filtered list, not the page shown: every sort
key, both ways, paged a few orders at a time, gives the same orders in the
same order as one long page, sorted by that key; a cursor keeps its sort (one
of another sort, or garbage, answers 400)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from portal.orders.schemas import BOARD_SORTS
from portal.orders.states import Status
from tests.integration.orders.conftest import OrderWorld, due, fire

# (number, days until due, supplier index, events): two orders share a due
# date, numbers are not in due order, and the suppliers alternate.
ORDERS = [
    ("SORT-07", 20, 0, ["issue"]),
    ("SORT-02", 5, 1, ["issue"]),
    ("SORT-05", 12, 0, []),
    ("SORT-01", 12, 1, ["issue", "accept"]),
    ("SORT-06", 30, 1, []),
    ("SORT-03", 8, 0, ["issue", "accept"]),
    ("SORT-04", 15, 0, ["issue"]),
]


@pytest.fixture
def sorted_shop(client: Any, run: Any, shop: OrderWorld) -> dict[str, str]:
    ids = {}
    for number, days, supplier, events in ORDERS:
        body = {
            "number": number,
            "supplier_id": str(shop.world.supplier_ids[supplier]),
            "lines": [{"item_id": shop.part_id, "quantity": "5", "unit_price": "2", "due_date": due(days)}],
        }
        order = client.post("/api/v1/orders", json=body, headers=shop.as_("planner")).json()
        for event in events:
            who = "planner" if event == "issue" else ("supplier_admin" if supplier == 0 else "other_supplier_admin")
            assert fire(client, shop, order["id"], who, event).status_code == 200
        ids[number] = order["id"]
    # Time passes for one issued order: it is late now.
    run(_make_late, UUID(ids["SORT-04"]))
    return ids


async def _make_late(order_id: UUID) -> None:
    from datetime import date, timedelta

    from portal.orders.tables import Order
    from tenants.context import system_scope

    async with system_scope("board-sort-test"):
        await Order.update({Order.due_date: date.today() - timedelta(days=3)}).where(Order.id == order_id)


async def _walk(world: Any, sort: str, descending: bool, limit: int) -> tuple[list[Any], list[str | None]]:
    """Every order of the board, ``limit`` at a time, and the cursors used."""
    from portal.orders import services
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant

    async with system_scope("board-sort-test"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    found, cursors, cursor = [], [], None
    async with tenant_scope(operator_context(tenant, "board-sort-test")):
        while True:
            page = await services.board(cursor=cursor, limit=limit, sort=sort, descending=descending)
            found += page.items
            cursors.append(page.next)
            if page.next is None:
                return found, cursors
            cursor = page.next


def _key(sort: str, order: Any) -> Any:
    return {
        "due": (order.due_date,),
        "number": (order.number,),
        "supplier": (order.supplier_name, order.due_date),
        "status": (list(Status).index(Status(order.status)), order.due_date),
        "late": (not order.overdue, order.due_date),
    }[sort]


@pytest.mark.parametrize("sort", BOARD_SORTS)
@pytest.mark.parametrize("descending", [False, True])
def test_every_sort_orders_the_whole_list_page_after_page(
    run: Any, shop: OrderWorld, sorted_shop: dict[str, str], sort: str, descending: bool
) -> None:
    whole, _ = run(_walk, shop.world, sort, descending, 1000)
    assert {order.number for order in whole} == set(sorted_shop)
    keys = [_key(sort, order) for order in whole]
    assert keys == sorted(keys, reverse=descending)
    for limit in (1, 2, 3):
        paged, cursors = run(_walk, shop.world, sort, descending, limit)
        assert [order.id for order in paged] == [order.id for order in whole], (sort, descending, limit)
        assert len(cursors) == -(-len(whole) // limit), "a page per limit orders, the last one without a next"


def test_the_api_sorts_the_whole_list_and_keeps_a_cursor_to_its_sort(
    client: Any, run: Any, shop: OrderWorld, sorted_shop: dict[str, str]
) -> None:
    planner = {**shop.as_("planner"), "accept-language": "en"}
    listed = client.get("/api/v1/orders", params={"sort": "number", "dir": "desc"}, headers=planner)
    assert listed.status_code == 200, listed.text
    assert [order["number"] for order in listed.json()["items"]] == sorted(sorted_shop, reverse=True)
    late = client.get("/api/v1/orders", params={"sort": "late"}, headers=planner).json()["items"]
    assert late[0]["number"] == "SORT-04"
    assert late[0]["overdue"] is True

    # A cursor from a sort by number goes on with that sort, and no other.
    _, cursors = run(_walk, shop.world, "number", False, 2)
    first = cursors[0]
    assert first is not None
    after = client.get("/api/v1/orders", params={"sort": "number", "cursor": first}, headers=planner)
    assert [order["number"] for order in after.json()["items"]] == sorted(sorted_shop)[2:]
    for params in ({"cursor": first}, {"sort": "number", "dir": "desc", "cursor": first}, {"sort": "status", "cursor": first}):
        refused = client.get("/api/v1/orders", params=params, headers=planner)
        assert refused.status_code == 400, params
        assert refused.json()["error"]["fields"]["cursor"] == "This page link is not valid."
    for cursor in ("garbage", "WyJudW1iZXIiLCAiYXNjIiwgWzFdLCAieCJd"):
        assert client.get("/api/v1/orders", params={"sort": "number", "cursor": cursor}, headers=planner).status_code == 400
    assert client.get("/api/v1/orders", params={"sort": "open"}, headers=planner).status_code == 400

    # A supplier's board sorts its own issued orders alike.
    supplier = client.get("/api/v1/orders", params={"sort": "number"}, headers=shop.as_("supplier_admin")).json()["items"]
    assert [order["number"] for order in supplier] == ["SORT-03", "SORT-04", "SORT-07"]


def test_the_board_page_sorts_the_whole_list_and_links_only_sortable_columns(
    client: Any, shop: OrderWorld, sorted_shop: dict[str, str]
) -> None:
    import re

    from tests.support.factories import page_headers

    token = shop.as_("planner")["authorization"].removeprefix("Bearer ")
    headers = {**page_headers(client, token), "accept-language": "en"}
    page = client.get("/orders", params={"sort": "number", "dir": "desc"}, headers=headers)
    assert page.status_code == 200, page.text
    table = page.text[page.text.index('class="board-table"') :]
    assert re.findall(r"<strong>(SORT-\d+)</strong>", table) == sorted(sorted_shop, reverse=True)
    assert 'aria-sort="descending"' in table
    assert "sort=supplier&amp;dir=asc" in table
    assert "sort=ordered" not in table, "a sum over lines is not sortable"
    # An unknown key falls back to the due date, soonest first.
    fallback = client.get("/orders", params={"sort": "open"}, headers=headers).text
    assert re.findall(r"<strong>(SORT-\d+)</strong>", fallback[fallback.index('class="board-table"') :])[0] == "SORT-04"
