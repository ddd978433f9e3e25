"""Quality builds on the order loop: the ``shop`` world and its helpers."""

from __future__ import annotations

from typing import Any

from tests.integration.deliveries.conftest import accepted_order
from tests.integration.orders.conftest import OrderWorld, shop
from tests.support.documents import samples

__all__ = ["accepted_order", "checklist", "require", "review", "send", "shop"]


def require(
    client: Any, shop: OrderWorld, order_id: str, category: str = "material_certificate", who: str = "planner", note: str = ""
) -> Any:
    body = {"category": category, "note": note}
    return client.post(f"/api/v1/orders/{order_id}/qc-requirements", json=body, headers=shop.as_(who))


def checklist(client: Any, shop: OrderWorld, order_id: str, who: str = "planner") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/orders/{order_id}/qc-requirements", headers=shop.as_(who))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def send(
    client: Any,
    shop: OrderWorld,
    order_id: str,
    category: str = "material_certificate",
    who: str = "supplier_operator",
    document_id: str = "",
) -> dict[str, Any]:
    """The supplier uploads a PDF on the order (or, with ``document_id``, a new version)."""
    files = {"file": ("cert.pdf", samples.pdf(), "application/pdf")}
    if document_id:
        response = client.post(f"/api/v1/documents/{document_id}/versions", files=files, headers=shop.as_(who))
    else:
        fields = {"attached_type": "order", "attached_id": order_id, "category": category, "title": "Mill certificate"}
        response = client.post("/api/v1/documents", data=fields, files=files, headers=shop.as_(who))
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def review(
    client: Any, shop: OrderWorld, document_id: str, decision: str, reason: str = "", version: int | None = None, who: str = "qa"
) -> Any:
    body: dict[str, Any] = {"decision": decision, "reason": reason}
    if version is not None:
        body["version"] = version
    return client.post(f"/api/v1/documents/{document_id}/reviews", json=body, headers=shop.as_(who))
