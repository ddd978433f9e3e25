"""Drawings on an order: shared with the order's supplier, never with
another supplier."""

from __future__ import annotations

from typing import Any

from tests.integration.documents.conftest import upload
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.support.factories import api_token

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_drawing_on_an_order_reaches_its_supplier_only(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    token = {
        key: api_token(client, shop.world.accounts[key], shop.world.slug) for key in ("planner", "supplier_admin", "other_supplier_admin")
    }
    response = upload(
        client,
        token["planner"],
        PNG,
        name="drawing.png",
        declared="image/png",
        category="photo",
        attached_type="order",
        attached_id=order["id"],
    )
    assert response.status_code == 201, response.text
    document = response.json()
    fire(client, shop, order["id"], "planner", "issue")
    assert (
        client.get(f"/api/v1/documents/{document['id']}", headers={"authorization": f"Bearer {token['supplier_admin']}"}).status_code == 200
    )
    assert (
        client.get(f"/api/v1/documents/{document['id']}", headers={"authorization": f"Bearer {token['other_supplier_admin']}"}).status_code
        == 404
    )
    line = upload(
        client,
        token["planner"],
        PNG,
        name="line.png",
        declared="image/png",
        category="photo",
        attached_type="order_line",
        attached_id=order["lines"][0]["id"],
    )
    assert line.status_code == 201, line.text
