"""GET /health: answers whether the database and the document storage work."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from portal.db import ping
from portal.documents.storage import Storage
from portal.outage import OUTAGE, database_unavailable

log = structlog.get_logger(__name__)


async def probe(engine: Any, storage: Storage) -> dict[str, str]:
    parts: dict[str, str] = {}
    try:
        await ping(engine)
        parts["database"] = "ok"
        OUTAGE.recovered()
    except Exception as exc:
        # Probed every few seconds by a load balancer: an outage is logged
        # once, when it starts, not on every probe.
        if database_unavailable(exc):
            OUTAGE.failed(exc)
        else:
            log.warning("health_database_failed", error=str(exc))
        parts["database"] = "error"
    try:
        await storage.check()
        parts["storage"] = "ok"
    except Exception as exc:
        log.warning("health_storage_failed", error=str(exc))
        parts["storage"] = "error"
    return parts


@get("/health", include_in_schema=True, tags=["operations"])
async def health(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 when the database and storage answer; 503 naming each failed part."""
    parts = await probe(request.app.state.engine, request.app.state.storage)
    failed = [name for name, state in parts.items() if state != "ok"]
    if failed:
        return Response({"status": "error", **parts, "failed": failed}, status_code=HTTP_503_SERVICE_UNAVAILABLE)
    return Response({"status": "ok", **parts}, status_code=HTTP_200_OK)
