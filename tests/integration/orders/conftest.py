from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.factories import World, api_token, bearer, make_world


@dataclass
class OrderWorld:
    world: World
    headers: dict[str, dict[str, str]]
    part_id: str
    material_id: str

    def as_(self, key: str) -> dict[str, str]:
        return self.headers[key]


def due(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.fixture
def shop(client: Any, run: Any) -> OrderWorld:
    """A tenant with a planner, supplier users and one part with a BOM."""
    world = run(make_world, "ord")
    headers = {key: bearer(api_token(client, account, world.slug)) for key, account in world.accounts.items()}
    planner = headers["planner"]
    part = client.post("/api/v1/items", json={"code": "P-100", "name": "Flange", "unit": "pcs"}, headers=planner)
    material = client.post(
        "/api/v1/items", json={"code": "M-STEEL", "name": "Steel bar", "unit": "kg", "kind": "material"}, headers=planner
    )
    assert part.status_code == 201, part.text
    assert material.status_code == 201, material.text
    bom = client.put(
        f"/api/v1/items/{part.json()['id']}/bom",
        json=[{"material_id": material.json()["id"], "quantity_per_unit": "1.25", "scrap_rate": "0.02"}],
        headers=planner,
    )
    assert bom.status_code == 200, bom.text
    return OrderWorld(world, headers, part.json()["id"], material.json()["id"])


def draft(client: Any, shop: OrderWorld, quantity: str = "100", price: str = "12.50", days: int = 14) -> dict[str, Any]:
    response = client.post(
        "/api/v1/orders",
        json={
            "supplier_id": str(shop.world.supplier_ids[0]),
            "lines": [{"item_id": shop.part_id, "quantity": quantity, "unit_price": price, "due_date": due(days), "operation": "CNC"}],
            "notes_internal": "target cost 11.00",
            "notes_shared": "Deburr all edges",
        },
        headers=shop.as_("planner"),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def fire(client: Any, shop: OrderWorld, order_id: str, who: str, event: str, reason: str = "") -> Any:
    return client.post(f"/api/v1/orders/{order_id}/transitions", json={"event": event, "reason": reason}, headers=shop.as_(who))
