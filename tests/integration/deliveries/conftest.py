"""Deliveries build on the order loop: the ``shop`` world and its helpers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.orders.conftest import OrderWorld, draft, fire, shop

__all__ = ["accepted_order", "create", "line_of", "open_of", "order_of", "receive", "shop"]


def accepted_order(client: Any, shop: OrderWorld, quantity: str = "100") -> dict[str, Any]:
    """An order the planner issued and the first supplier accepted."""
    order = draft(client, shop, quantity=quantity)
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    accepted = fire(client, shop, order["id"], "supplier_admin", "accept")
    assert accepted.status_code == 200, accepted.text
    return dict(accepted.json())


def create(
    client: Any,
    shop: OrderWorld,
    order: dict[str, Any],
    *quantities: str,
    lot: str = "LOT-1",
    ship: bool = True,
    who: str = "supplier_operator",
) -> Any:
    """A notice with one line per quantity, all on the order's first line."""
    line_id = order["lines"][0]["id"]
    body = {"order_id": order["id"], "lines": [{"order_line_id": line_id, "quantity": q, "lot": lot} for q in quantities], "ship": ship}
    return client.post("/api/v1/deliveries", json=body, headers=shop.as_(who))


def receive(client: Any, shop: OrderWorld, delivery: dict[str, Any], *answers: tuple[str, str, str], who: str = "planner") -> Any:
    """``answers`` are (accepted, rejected, reason) per line of the notice."""
    lines = [
        {"line_id": line["id"], "accepted_quantity": accepted, "rejected_quantity": rejected, "reject_reason": reason}
        for line, (accepted, rejected, reason) in zip(delivery["lines"], answers, strict=True)
    ]
    return client.post(f"/api/v1/deliveries/{delivery['id']}/receipt", json={"lines": lines}, headers=shop.as_(who))


def order_of(client: Any, shop: OrderWorld, order: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def line_of(client: Any, shop: OrderWorld, order: dict[str, Any]) -> dict[str, Any]:
    return dict(order_of(client, shop, order)["lines"][0])


def open_of(client: Any, shop: OrderWorld, order: dict[str, Any]) -> Decimal:
    return Decimal(line_of(client, shop, order)["open_quantity"])


def sent_dispatch(
    client: Any, shop: OrderWorld, lots: list[str], order_id: str | None = None, quantity: str = "1", supplier: int = 0
) -> dict[str, Any]:
    """A material dispatch to one of the shop's suppliers (the first unless
    told), a line of ``quantity`` per lot (for ``order_id`` when given), made
    and sent by the planner."""
    body: dict[str, Any] = {
        "supplier_id": str(shop.world.supplier_ids[supplier]),
        "lines": [{"item_id": shop.material_id, "quantity": quantity, "lot": lot} for lot in lots],
    }
    if order_id:
        body["order_id"] = order_id
    made = client.post("/api/v1/dispatches", json=body, headers=shop.as_("planner"))
    assert made.status_code == 201, made.text
    sent = client.post(f"/api/v1/dispatches/{made.json()['id']}/send", headers=shop.as_("planner"))
    assert sent.status_code == 200, sent.text
    return dict(sent.json())
