"""Goods shipped and not yet received keep their order open: cancelling
it, or handing its remainder to another supplier, would leave a notice
that can never be received. The order waits for them, whichever of the
cancel and the shipment comes first."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.deliveries.conftest import accepted_order, create, order_of, receive, shop
from tests.integration.orders.conftest import OrderWorld, fire

__all__ = ["shop"]


def _cancel(client: Any, shop: OrderWorld, order: dict[str, Any], language: str = "en") -> Any:
    return client.post(
        f"/api/v1/orders/{order['id']}/transitions",
        json={"event": "cancel", "reason": "no longer needed"},
        headers={**shop.as_("planner"), "accept-language": language},
    )


def test_an_order_with_goods_on_the_way_is_not_cancelled_until_they_are_received(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    notice = create(client, shop, order, "40").json()
    refused = _cancel(client, shop, order)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "deliveries_in_transit")
    assert notice["number"] in refused.json()["error"]["message"]
    assert "on their way" in refused.json()["error"]["message"]
    assert "在途" in _cancel(client, shop, order, "zh-CN").json()["error"]["message"]
    assert order_of(client, shop, order)["status"] == "accepted"

    assert receive(client, shop, notice, ("40", "0", "")).status_code == 200
    cancelled = _cancel(client, shop, order)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"


def test_a_cancel_and_a_shipment_at_once_never_leave_goods_on_a_cancelled_order(app: Any, client: Any, run: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    draft = create(client, shop, order, "40", ship=False).json()
    assert draft["status"] == "draft"

    async def both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return list(
                await asyncio.gather(
                    http.post(
                        f"/api/v1/orders/{order['id']}/transitions",
                        json={"event": "cancel", "reason": "race"},
                        headers=shop.as_("planner"),
                    ),
                    http.post(f"/api/v1/deliveries/{draft['id']}/ship", headers=shop.as_("supplier_operator")),
                )
            )

    cancel, ship = run(both)
    assert sorted([cancel.status_code, ship.status_code]) == [200, 409], (cancel.text, ship.text)
    status = order_of(client, shop, order)["status"]
    notice = client.get(f"/api/v1/deliveries/{draft['id']}", headers=shop.as_("supplier_admin")).json()
    # Either the order is cancelled and nothing shipped, or the goods are on their way to an open order.
    assert (status, notice["status"]) in {("cancelled", "draft"), ("accepted", "shipped")}


def test_a_supplier_cancelled_notice_frees_the_order(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    notice = create(client, shop, order, "10").json()
    assert _cancel(client, shop, order).status_code == 409
    withdrawn = client.post(
        f"/api/v1/deliveries/{notice['id']}/cancel", json={"reason": "truck broke down"}, headers=shop.as_("supplier_admin")
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert fire(client, shop, order["id"], "planner", "cancel", reason="done").status_code == 200
