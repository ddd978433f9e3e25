"""A number sent in exponent form ("1e2", as some JSON writers do) is the
number it names, and comes back as people write it: 100, not "1E+2"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.orders.conftest import OrderWorld, due


def test_a_quantity_and_a_price_in_exponent_form_come_back_plain(client: Any, shop: OrderWorld) -> None:
    line = {"item_id": shop.part_id, "quantity": "1e2", "unit_price": "1.25E+1", "due_date": due(14), "operation": "CNC"}
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "lines": [line]}
    made = client.post("/api/v1/orders", json=body, headers=shop.as_("planner"))
    assert made.status_code == 201, made.text
    shown = client.get(f"/api/v1/orders/{made.json()['id']}", headers=shop.as_("planner")).json()["lines"][0]
    assert (Decimal(shown["quantity"]), Decimal(shown["unit_price"])) == (Decimal(100), Decimal("12.5"))
    assert "E" not in shown["quantity"].upper()
    assert "E" not in shown["unit_price"].upper()
