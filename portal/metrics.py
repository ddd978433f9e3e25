"""Prometheus metrics at ``GET /metrics``, for a scraper inside the cluster.

Each process keeps its own counters (Prometheus scrapes every pod, and adds
them up itself). The endpoint answers only a request that presents
``PORTAL_METRICS_TOKEN`` as a bearer token and did not come through a proxy:
a request carrying ``X-Forwarded-For`` or ``Forwarded`` reached the app from
outside, through the ingress or Caddy, and gets the same 404 as an unknown
path. Labels are route templates, never paths: ids would make every order a
new series, and paths may carry tokens.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

import structlog
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

log = structlog.get_logger(__name__)

UNMATCHED = "<unmatched>"
PROXY_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")

REQUEST_SECONDS = Histogram(
    "portal_http_request_duration_seconds",
    "Time from the request's arrival to the last byte of the answer, per route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RESPONSES = Counter("portal_http_responses_total", "Answers per route template and status code.", ["method", "route", "status"])
UPLOAD_BYTES = Histogram(
    "portal_upload_size_bytes",
    "Sizes of stored document uploads (through the app or direct to S3).",
    ["path"],
    buckets=(16e3, 64e3, 256e3, 1e6, 4e6, 16e6, 64e6, 256e6, 1e9),
)
UPLOAD_SECONDS = Histogram(
    "portal_upload_processing_seconds",
    "Time to check and store an upload once its bytes arrived (inspection, storage write or verification).",
    ["path"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SLOW_QUERIES = Counter("portal_slow_queries_total", "Database statements slower than PORTAL_SLOW_QUERY_MS.")
RATE_LIMITED = Counter("portal_rate_limited_total", "Requests refused with 429, per limit.", ["limit"])
# Read from the job table at each scrape, so every pod reports the same
# cluster-wide figures (use max(), not sum(), across pods).
JOBS = Gauge("portal_jobs", "Jobs in the queue per status (failed: waiting to retry; parked: gave up).", ["status"])
JOBS_DUE = Gauge("portal_jobs_due", "Queued or failed jobs whose time has come: the queue depth workers scale on.")


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(method, route).observe(seconds)
    RESPONSES.labels(method, route, str(status)).inc()


def observe_upload(path: str, size: int, seconds: float) -> None:
    UPLOAD_BYTES.labels(path).observe(size)
    UPLOAD_SECONDS.labels(path).observe(seconds)


def metrics_allowed(headers: Iterable[tuple[bytes, bytes]], token: str | None) -> bool:
    if not token:
        return False
    presented = b""
    for name, value in headers:
        if name.lower() in PROXY_HEADERS:
            return False
        if name.lower() == b"authorization":
            scheme, _, credential = value.partition(b" ")
            if scheme.lower() == b"bearer":
                presented = credential.strip()
    return hmac.compare_digest(presented, token.encode())


@get("/metrics", include_in_schema=False, tags=["operations"])
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus text format; 404 without the token or through a proxy."""
    settings = request.app.state.settings
    if not metrics_allowed(request.scope["headers"], settings.metrics_token):
        # The same answer as a path that does not exist.
        raise NotFoundException()
    try:
        await read_job_figures()
    except Exception as exc:
        # The process's own figures still go out while the database is away.
        log.warning("metrics_jobs_unavailable", error=type(exc).__name__)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def read_job_figures() -> None:
    from piccolo.query.functions.aggregate import Count

    from portal.jobs.queue import FAILED, QUEUED, STATUSES, utcnow
    from portal.jobs.tables import Job

    rows = await Job.select(Job.status, Count(Job.id, alias="n")).group_by(Job.status)
    found = {row["status"]: int(row["n"]) for row in rows}
    for status in STATUSES:
        JOBS.labels(status).set(found.get(status, 0))
    JOBS_DUE.set(await Job.count().where(Job.status.is_in([QUEUED, FAILED]) & (Job.run_at <= utcnow())))
