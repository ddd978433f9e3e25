"""An adjustment still waiting for approval when its period closes moves
to the next period as a correction of the closed one, where it can still
be approved and counts: it is neither lost nor stuck."""

from __future__ import annotations

from typing import Any

from tests.integration.orders.conftest import OrderWorld
from tests.integration.reconciliation.conftest import NOVEMBER, OCTOBER, by_currency, compute, october, shop

__all__ = ["shop"]


def test_a_pending_adjustment_moves_to_the_next_period_when_its_period_closes(client: Any, run: Any, shop: OrderWorld) -> None:
    october(client, run, shop)
    supplier = str(shop.world.supplier_ids[0])
    body = {"supplier_id": supplier, "period": OCTOBER, "amount": "10.00", "reason": "freight refund"}
    made = client.post("/api/v1/statement-adjustments", json=body, headers=shop.as_("finance"))
    assert made.status_code == 201, made.text
    elsewhere = client.post("/api/v1/statement-adjustments", json={**body, "corrects": "2026-08"}, headers=shop.as_("finance"))
    closed = client.post("/api/v1/statements/close", json={"supplier_id": supplier, "period": OCTOBER}, headers=shop.as_("finance"))
    assert closed.status_code == 200, closed.text
    assert by_currency(closed)["CNY"]["total"] == "619.08"  # not approved: not in October

    approved = client.post(f"/api/v1/statement-adjustments/{made.json()['id']}/approve", headers=shop.as_("admin"))
    assert approved.status_code == 200, approved.text
    assert (approved.json()["period"], approved.json()["corrects"], approved.json()["status"]) == (NOVEMBER, OCTOBER, "approved")
    # One that already named the month it corrects keeps it.
    other = client.post(f"/api/v1/statement-adjustments/{elsewhere.json()['id']}/approve", headers=shop.as_("admin")).json()
    assert (other["period"], other["corrects"]) == (NOVEMBER, "2026-08")
    november = by_currency(compute(client, shop, NOVEMBER))["CNY"]
    assert [(line["amount"], line["reference"]) for line in november["lines"] if line["kind"] == "adjustment"] == [
        ("10.00", OCTOBER),
        ("10.00", "2026-08"),
    ]
    frozen = client.get(f"/api/v1/statements/{by_currency(closed)['CNY']['id']}", headers=shop.as_("finance")).json()
    assert frozen["total"] == "619.08"
