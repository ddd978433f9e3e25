"""Statements build on orders, deliveries and materials: the ``shop`` world
(part P-100 using 1.25 kg of steel M-STEEL per unit with 2 % allowed scrap)
and helpers that put records at chosen times.

Records are made through the API, the way users make them; their times are
then moved into the past period under test (``at``), because every record's
time is the server's clock when it was made and a test cannot wait for a
month to end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tests.integration.deliveries.conftest import create, receive
from tests.integration.materials.conftest import receipt, sent_dispatch
from tests.integration.orders.conftest import OrderWorld, due, shop

__all__ = ["NOVEMBER", "OCTOBER", "at", "by_currency", "compute", "deliver", "october", "order_in", "revise_price", "shop", "steel_moves"]


def at(run: Any, table: str, row_id: str | UUID, **times: datetime) -> None:
    """Set the named time columns of one row (as a clock would have)."""
    from portal.deliveries.tables import Delivery
    from portal.materials.tables import Dispatch, MaterialMovement
    from portal.orders.tables import OrderRevision
    from portal.quality.tables import NcrDisposition
    from tenants.context import system_scope

    tables: dict[str, Any] = {
        "delivery": Delivery,
        "dispatch": Dispatch,
        "movement": MaterialMovement,
        "revision": OrderRevision,
        "disposition": NcrDisposition,
    }
    model = tables[table]

    async def move() -> None:
        async with system_scope("test-clock"):
            await model.update({getattr(model, name): value for name, value in times.items()}).where(model.id == UUID(str(row_id)))

    run(move)


def order_in(
    client: Any, shop: OrderWorld, quantity: str, price: str, currency: str | None = None, item_id: str | None = None
) -> dict[str, Any]:
    """An order of P-100 (or ``item_id``) for the first supplier, issued and accepted."""
    body: dict[str, Any] = {
        "supplier_id": str(shop.world.supplier_ids[0]),
        "lines": [{"item_id": item_id or shop.part_id, "quantity": quantity, "unit_price": price, "due_date": due(14)}],
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


# October 2026 in Shanghai (the tenant's zone): 30 Sep 16:00 UTC to 31 Oct 16:00 UTC.
OCTOBER, NOVEMBER = "2026-10", "2026-11"


def utc(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def compute(client: Any, shop: OrderWorld, period: str, supplier: int = 0, who: str = "finance") -> Any:
    body = {"supplier_id": str(shop.world.supplier_ids[supplier]), "period": period}
    return client.post("/api/v1/statements/compute", json=body, headers=shop.as_(who))


def by_currency(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {statement["currency"]: statement for statement in response.json()["items"]}


def october(client: Any, run: Any, shop: OrderWorld) -> dict[str, Any]:
    """The records of the first supplier in October and around its cut-off."""
    tax = client.put("/api/v1/settings/reconciliation", json={"tax_rate": "0.13"}, headers=shop.as_("finance"))
    assert tax.status_code == 200, tax.text
    price = client.put("/api/v1/material-prices", json={"item_id": shop.material_id, "unit_price": "8.20"}, headers=shop.as_("finance"))
    assert price.status_code == 204, price.text
    order = order_in(client, shop, "100", "12.50")
    deliver(client, run, shop, order, "30", "30", utc(10, 5))
    revision = revise_price(client, shop, order, "13.00")
    at(run, "revision", revision, created_at=utc(10, 10))
    # Partial: 20 shipped, 15 accepted at the new price.
    deliver(client, run, shop, order, "20", "15", utc(10, 15))
    # Shipped on 31 October at 23:00 Shanghai time, received 30 minutes
    # after the cut-off: November's.
    deliver(client, run, shop, order, "10", "10", utc(10, 31, 16, 30), shipped_at=utc(10, 31, 15))
    dollars = order_in(client, shop, "50", "3.35", "USD")
    deliver(client, run, shop, dollars, "7", "7", utc(10, 20))
    steel_moves(client, run, shop, sent="100", received="100", returned="5", scrapped="4", when=utc(10, 2))
    return {"order": order, "dollars": dollars}
