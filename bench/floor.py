"""The floor of the load benchmarks: a bare Litestar app, served the same
way as the portal (uvicorn, same options), that answers ``GET /floor`` with
a JSON list of about ``FLOOR_BYTES`` bytes (the size of the list it is
compared with) and does nothing else: no middleware, no database.

    uvicorn bench.floor:create_app --factory
"""

from __future__ import annotations

import os
from typing import Any

from litestar import Litestar, get


def _items(size: int) -> list[dict[str, Any]]:
    item = {
        "id": "00000000-0000-4000-8000-000000000000",
        "number": "WO-2026-00000",
        "supplier_id": "00000000-0000-4000-8000-000000000001",
        "supplier_name": "Precision Machining Co.",
        "status": "in_production",
        "due_date": "2026-12-31",
        "overdue": False,
        "revision": 0,
    }
    # About 250 bytes an item on the wire.
    return [{**item, "number": f"WO-2026-{index:05d}"} for index in range(max(1, size // 250))]


def create_app() -> Litestar:
    body = {"items": _items(int(os.environ.get("FLOOR_BYTES", "2000"))), "next": None}

    @get("/floor", sync_to_thread=False)
    def floor() -> dict[str, Any]:
        return body

    return Litestar([floor])
