"""Progress builds on the order loop: the ``shop`` world and its helpers."""

from __future__ import annotations

import io
from typing import Any
from uuid import uuid4

from PIL import Image

from tests.integration.deliveries.conftest import accepted_order
from tests.integration.orders.conftest import OrderWorld, shop

__all__ = ["accepted_order", "jpeg", "photo", "report", "shop"]


def jpeg(seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """A real JPEG; ``seed`` makes different bytes (a different photo)."""
    image = Image.new("RGB", size, ((seed * 53) % 256, (seed * 101) % 256, (seed * 197) % 256))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


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
