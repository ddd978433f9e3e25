"""Progress builds on the order loop: the ``shop`` world and its helpers."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.integration.deliveries.conftest import accepted_order
from tests.integration.orders.conftest import OrderWorld, shop
from tests.support.documents import samples

__all__ = ["accepted_order", "jpeg", "photo", "report", "shop"]


def jpeg(seed: int) -> bytes:
    """A real JPEG; each ``seed`` makes different bytes (another photo)."""
    return samples.jpeg(64 + seed, 48)


def report(client: Any, shop: OrderWorld, line_id: str, *, who: str = "supplier_operator", **fields: Any) -> Any:
    body = {"client_id": str(uuid4()), "order_line_id": line_id, "stage": "machining", "good_quantity": "10", **fields}
    return client.post("/api/v1/progress-reports", json=body, headers=shop.as_(who))


def photo(client: Any, shop: OrderWorld, report_id: str, data: bytes, *, who: str = "supplier_operator", name: str = "p.jpg") -> Any:
    return client.post(
        f"/api/v1/progress-reports/{report_id}/photos",
        files={"file": (name, data, "image/jpeg")},
        data={"captured_at": "2026-11-20T08:15:00+08:00"},
        headers=shop.as_(who),
    )
