"""The board's statements are built once per shape and scope and run again
with new values (tenants.prepared): each filter value, page and caller
still gets exactly its own orders."""

from __future__ import annotations

from typing import Any

from tests.integration.orders.conftest import OrderWorld, draft, due, fire


def numbers(client: Any, shop: OrderWorld, who: str, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/orders{query}", headers=shop.as_(who))
    assert response.status_code == 200, response.text
    return [order["number"] for order in response.json()["items"]]


def test_each_filter_value_page_and_caller_gets_its_own_orders(client: Any, shop: OrderWorld, run: Any) -> None:
    kept = draft(client, shop, days=3)
    issued = draft(client, shop, days=5)
    assert fire(client, shop, issued["id"], "planner", "issue").status_code == 200
    other = client.post(
        "/api/v1/orders",
        json={
            "supplier_id": str(shop.world.supplier_ids[1]),
            "lines": [{"item_id": shop.part_id, "quantity": "5", "unit_price": "1.00", "due_date": "2031-01-01", "operation": "Grind"}],
        },
        headers=shop.as_("planner"),
    )
    assert other.status_code == 201, other.text
    assert fire(client, shop, other.json()["id"], "planner", "issue").status_code == 200

    # One statement per shape, run with each value in turn.
    assert numbers(client, shop, "planner", "?status=draft") == [kept["number"]]
    assert numbers(client, shop, "planner", "?status=issued") == [issued["number"], other.json()["number"]]
    assert numbers(client, shop, "planner", "?status=closed") == []
    assert numbers(client, shop, "planner", f"?supplier_id={shop.world.supplier_ids[1]}") == [other.json()["number"]]
    assert numbers(client, shop, "planner", f"?supplier_id={shop.world.supplier_ids[0]}") == [kept["number"], issued["number"]]
    assert numbers(client, shop, "planner", f"?q={other.json()['number']}") == [other.json()["number"]]
    assert numbers(client, shop, "planner", "?q=no-such-order") == []

    assert numbers(client, shop, "planner", f"?due_before={due(4)}") == [kept["number"]]
    assert numbers(client, shop, "planner", f"?due_before={due(6)}") == [kept["number"], issued["number"]]

    # Later pages: the same statement with each cursor's values.
    pages = run(_pages, shop)
    assert pages == [[kept["number"]], [issued["number"]], [other.json()["number"]]]

    # The same shape for each supplier: its own issued orders, never a draft.
    assert numbers(client, shop, "supplier_admin") == [issued["number"]]
    assert numbers(client, shop, "other_supplier_admin") == [other.json()["number"]]
    assert numbers(client, shop, "supplier_admin", "?status=issued") == [issued["number"]]
    assert numbers(client, shop, "other_supplier_admin", "?status=issued") == [other.json()["number"]]
    assert numbers(client, shop, "supplier_admin", "?status=draft") == []

    assert client.get("/api/v1/orders", headers=shop.as_("other_supplier_admin")).json()["counts"] == {"issued": 1}
    assert client.get("/api/v1/orders", headers=shop.as_("planner")).json()["counts"] == {"draft": 1, "issued": 2}


async def _pages(shop: OrderWorld) -> list[list[str]]:
    from portal.orders import services
    from tenants.context import TenantContext, tenant_scope
    from tenants.roles import Role

    world = shop.world
    planner = TenantContext(
        tenant_id=world.tenant_id, tenant_slug=world.slug, tenant_name="t", time_zone="UTC", currency="CNY", role=Role.PLANNER
    )
    pages: list[list[str]] = []
    cursor = None
    async with tenant_scope(planner):
        for _ in range(3):
            page = await services.board(cursor=cursor, limit=1)
            pages.append([order.number for order in page.items])
            cursor = page.next
    return pages
