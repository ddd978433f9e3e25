"""Statements build on orders, deliveries and materials: the ``shop`` world
(part P-100 using 1.25 kg of steel M-STEEL per unit with 2 % allowed scrap)
and helpers that put records at chosen times.

Records are made through the API, the way users make them; their times are
then moved into the past period under test (``at``), because every record's
time is the server's clock when it was made and a test cannot wait for a
month to end."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from tests.integration.deliveries.conftest import create, receive
from tests.integration.materials.conftest import receipt, sent_dispatch
from tests.integration.orders.conftest import OrderWorld, due, shop

__all__ = ["at", "deliver", "order_in", "revise_price", "shop", "steel_moves"]


def at(run: Any, table: str, row_id: str | UUID, **times: datetime) -> None:
    """Set the named time columns of one row (as a clock would have)."""
    from portal.deliveries.tables import Delivery
    from portal.materials.tables import Dispatch, MaterialMovement
    from portal.orders.tables import OrderRevision
    from tenants.context import system_scope

    tables: dict[str, Any] = {
        "delivery": Delivery,
        "dispatch": Dispatch,
        "movement": MaterialMovement,
        "revision": OrderRevision,
    }
    model = tables[table]

    async def move() -> None:
        async with system_scope("test-clock"):
            await model.update({getattr(model, name): value for name, value in times.items()}).where(model.id == UUID(str(row_id)))

    run(move)


def order_in(client: Any, shop: OrderWorld, quantity: str, price: str, currency: str | None = None) -> dict[str, Any]:
    """An order of P-100 for the first supplier, issued and accepted."""
    body: dict[str, Any] = {
        "supplier_id": str(shop.world.supplier_ids[0]),
        "lines": [{"item_id": shop.part_id, "quantity": quantity, "unit_price": price, "due_date": due(14)}],
    }
    if currency:
        body["currency"] = currency
    created = client.post("/api/v1/orders", json=body, headers=shop.as_("planner"))
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    for who, event in (("planner", "issue"), ("supplier_admin", "accept")):
        fired = client.post(f"/api/v1/orders/{order_id}/transitions", json={"event": event}, headers=shop.as_(who))
        assert fired.status_code == 200, fired.text
    return dict(fired.json())


def revise_price(client: Any, shop: OrderWorld, order: dict[str, Any], price: str) -> str:
    """A revision of the first line's unit price; returns the revision's id."""
    current = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()
    line = current["lines"][0]
    body = {
        "version": current["version"],
        "reason": "new price agreed",
        "lines": [
            {
                "id": line["id"],
                "item_id": line["item_id"],
                "quantity": line["quantity"],
                "unit_price": price,
                "due_date": line["due_date"],
                "operation": line["operation"],
            }
        ],
    }
    revised = client.patch(f"/api/v1/orders/{order['id']}", json=body, headers=shop.as_("planner"))
    assert revised.status_code == 200, revised.text
    revisions = client.get(f"/api/v1/orders/{order['id']}/revisions", headers=shop.as_("planner")).json()
    items = revisions["items"] if isinstance(revisions, dict) else revisions
    return str(max(items, key=lambda revision: revision["number"])["id"])


def deliver(
    client: Any, run: Any, shop: OrderWorld, order: dict[str, Any], shipped: str, accepted: str, received_at: datetime, **extra: datetime
) -> dict[str, Any]:
    """A notice of ``shipped`` received with ``accepted`` (the rest rejected)
    at ``received_at``."""
    notice = create(client, shop, order, shipped)
    assert notice.status_code == 201, notice.text
    rejected = str(_decimal(shipped) - _decimal(accepted))
    done = receive(client, shop, notice.json(), (accepted, rejected, "scratches" if rejected != "0" else ""))
    assert done.status_code == 200, done.text
    at(run, "delivery", notice.json()["id"], received_at=received_at, **extra)
    return dict(done.json())


def _decimal(value: str) -> Any:
    from decimal import Decimal

    return Decimal(value)


def steel_moves(client: Any, run: Any, shop: OrderWorld, *, sent: str, received: str, returned: str, scrapped: str, when: datetime) -> None:
    """Steel sent and confirmed, some returned and some scrapped, all at ``when``."""
    dispatch = sent_dispatch(client, shop, (sent, "H-1"))
    reason = "" if received == sent else "short"
    confirmed = receipt(client, shop, dispatch, (received, reason))
    assert confirmed.status_code == 200, confirmed.text
    at(run, "dispatch", dispatch["id"], sent_at=when, received_at=when)
    for kind, quantity in (("material-returns", returned), ("material-scrap", scrapped)):
        body = {"item_id": shop.material_id, "quantity": quantity, "reason": "cracked"}
        made = client.post(f"/api/v1/{kind}", json=body, headers=shop.as_("supplier_operator"))
        assert made.status_code == 201, made.text
        at(run, "movement", made.json()["id"], reported_at=when)
