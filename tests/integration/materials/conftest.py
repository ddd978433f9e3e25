"""Material dispatch builds on the order loop: the ``shop`` world (a part
P-100 whose BOM uses 1.25 kg of steel M-STEEL per unit with 2 % scrap) and
its helpers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from tests.integration.orders.conftest import OrderWorld, draft, fire, shop
from tests.support.factories import api_token, page_headers

__all__ = ["accept_output", "balance_of", "dispatch", "page", "receipt", "sent_dispatch", "shop"]


def dispatch(client: Any, shop: OrderWorld, *lines: tuple[str, str], supplier: int = 0, **extra: Any) -> Any:
    """A draft with one steel line per (quantity, lot)."""
    body = {
        "supplier_id": str(shop.world.supplier_ids[supplier]),
        "lines": [{"item_id": shop.material_id, "quantity": quantity, "lot": lot} for quantity, lot in lines],
        **extra,
    }
    return client.post("/api/v1/dispatches", json=body, headers=shop.as_("planner"))


def sent_dispatch(client: Any, shop: OrderWorld, *lines: tuple[str, str], supplier: int = 0) -> dict[str, Any]:
    created = dispatch(client, shop, *lines, supplier=supplier)
    assert created.status_code == 201, created.text
    sent = client.post(f"/api/v1/dispatches/{created.json()['id']}/send", headers=shop.as_("planner"))
    assert sent.status_code == 200, sent.text
    return dict(sent.json())


def receipt(client: Any, shop: OrderWorld, sent: dict[str, Any], *answers: tuple[str, str], who: str = "supplier_operator") -> Any:
    """``answers`` are (received quantity, reason) per line."""
    lines = [
        {"line_id": line["id"], "received_quantity": received, "reason": reason}
        for line, (received, reason) in zip(sent["lines"], answers, strict=True)
    ]
    return client.post(f"/api/v1/dispatches/{sent['id']}/receipt", json={"lines": lines}, headers=shop.as_(who))


def balance_of(client: Any, shop: OrderWorld, who: str = "planner", supplier: int = 0) -> dict[str, Any]:
    """The steel balance of a supplier, as ``who`` sees it."""
    response = client.get(
        "/api/v1/material-balances", params={"supplier_id": str(shop.world.supplier_ids[supplier])}, headers=shop.as_(who)
    )
    assert response.status_code == 200, response.text
    rows = [row for row in response.json()["items"] if row["item_id"] == shop.material_id]
    assert len(rows) == 1, response.json()
    return dict(rows[0])


def accept_output(client: Any, run: Any, shop: OrderWorld, quantity: str, ordered: str = "100") -> dict[str, Any]:
    """An order of P-100 for the first supplier, issued and accepted, with
    ``quantity`` accepted by the buyer on receipt: through the orders
    service the deliveries domain calls when the buyer accepts goods."""
    from portal.orders.services import apply_accepted_quantities
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant

    order = draft(client, shop, quantity=ordered)
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    assert fire(client, shop, order["id"], "supplier_admin", "accept").status_code == 200

    async def accept() -> None:
        async with system_scope("test"):
            tenant = await Tenant.objects().where(Tenant.id == shop.world.tenant_id).first()
        async with tenant_scope(operator_context(tenant, "test-deliveries")):
            await apply_accepted_quantities(UUID(order["id"]), {UUID(order["lines"][0]["id"]): Decimal(quantity)})

    run(accept)
    return order


def page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    """Headers of a signed-in page request (session cookie and CSRF pair)."""
    return page_headers(client, api_token(client, shop.world.accounts[who], shop.world.slug))
