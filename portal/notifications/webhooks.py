"""Signed webhooks for ERP/MES integration: a tenant admin registers an
endpoint and chooses events; each event is one delivery, signed with the
endpoint's secret, retried by the job queue, logged with every attempt's
outcome. An endpoint that keeps failing for a day is disabled and the
tenant's admins are told. See docs/webhooks.md for the wire format.

In production only HTTPS to public addresses: loopback, private,
link-local and other special addresses are refused when the endpoint is
registered and again before each delivery (the name may point elsewhere
by then).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import ssl
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx  # a dependency of Litestar
import msgspec
import structlog

from portal.errors import DomainError, NotFound
from portal.i18n import N_
from portal.jobs import RetryLater, enqueue
from portal.jobs.retry import requested_delay
from portal.lengths import most
from portal.notifications.kinds import KINDS
from portal.notifications.tables import WebhookDelivery, WebhookEndpoint
from portal.pagination import read_time_cursor, time_cursor
from portal.settings import get_settings
from tenants.context import current, operator_context, system_scope, tenant_scope
from tenants.scoping import scoped
from tenants.tables import Tenant

log = structlog.get_logger(__name__)

TIMEOUT_SECONDS = 10
DISABLE_AFTER = timedelta(days=1)
# Retried by the queue for longer than DISABLE_AFTER (backoff caps at an hour).
MAX_ATTEMPTS = 40
SIGNATURE_HEADER = "X-Portal-Signature"
TIMESTAMP_HEADER = "X-Portal-Timestamp"
EVENT_HEADER = "X-Portal-Event"
DELIVERY_HEADER = "X-Portal-Delivery"
PAGE_SIZE = 50


class InvalidWebhook(DomainError):
    code = "invalid_webhook"
    message = N_("Some fields are missing or not valid.")


class WebhookIn(msgspec.Struct, frozen=True):
    url: str
    events: list[str] = msgspec.field(default_factory=lambda: ["*"])
    description: Annotated[str, most(WebhookEndpoint.description)] = ""


class WebhookOut(msgspec.Struct, frozen=True):
    id: UUID
    url: str
    events: list[str]
    description: str
    active: bool
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str
    created_at: datetime
    # Only in the answer to the registration: keep it, it is not shown again.
    secret: str | None = None


class DeliveryOut(msgspec.Struct, frozen=True):
    id: UUID
    event_id: UUID
    kind: str
    status: str
    attempts: int
    response_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``"<timestamp>.<body>"``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# ---------------------------------------------------------------- address checks


def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not address.is_global or address.is_multicast


def check_url(url: str, *, production: bool | None = None) -> None:
    """Refuse what a webhook may not call: no scheme or host, and in
    production anything but HTTPS to public addresses (SSRF)."""
    parts = urlsplit(url.strip())
    if production is None:
        production = get_settings().is_production
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidWebhook(fields={"url": N_("Give a full web address, e.g. https://erp.example.com/hooks/portal.")})
    if production and parts.scheme != "https":
        raise InvalidWebhook(fields={"url": N_("Webhooks need HTTPS.")})
    if not production:
        return
    try:
        addresses = [ipaddress.ip_address(parts.hostname)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
        except OSError:
            raise InvalidWebhook(fields={"url": N_("This host name does not resolve.")}) from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if any(_special(address) for address in addresses):
        raise InvalidWebhook(fields={"url": N_("Webhooks cannot call private, loopback or other internal addresses.")})


# ---------------------------------------------------------------- registering


def _out(row: dict[str, Any], secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=row["id"],
        url=row["url"],
        events=json.loads(row["events"]),
        description=row["description"],
        active=row["active"],
        failing_since=row["failing_since"],
        disabled_at=row["disabled_at"],
        disabled_reason=row["disabled_reason"],
        created_at=row["created_at"],
        secret=secret,
    )


async def create_endpoint(data: WebhookIn) -> WebhookOut:
    """Register an endpoint for the chosen events (``["*"]``: all). The
    answer carries the signing secret, once."""
    context = current()
    url = data.url.strip()
    if len(url) > 500:
        raise InvalidWebhook(fields={"url": N_("At most 500 characters.")})
    await asyncio.to_thread(check_url, url)
    events = sorted(set(data.events)) or ["*"]
    unknown = [name for name in events if name != "*" and name not in KINDS]
    if unknown:
        raise InvalidWebhook(fields={"events": N_("Unknown kind of event: %(names)s")}, names=", ".join(unknown))
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = scoped(WebhookEndpoint).new(
        url=url, secret=secret, events=json.dumps(events), description=data.description[:200], created_by=context.user_id
    )
    await row.save()
    found = await scoped(WebhookEndpoint).select().where(WebhookEndpoint.id == row.id).first()
    return _out(found, secret)


async def list_endpoints() -> list[WebhookOut]:
    rows = await scoped(WebhookEndpoint).select().order_by(WebhookEndpoint.created_at, ascending=False)
    return [_out(row) for row in rows]


async def list_deliveries(endpoint_id: UUID, cursor: str | None = None) -> tuple[list[DeliveryOut], str | None]:
    """An endpoint's deliveries, newest first, with each one's outcome."""
    await scoped(WebhookEndpoint).get(endpoint_id)
    query = scoped(WebhookDelivery).select().where(WebhookDelivery.endpoint == endpoint_id)
    if cursor:
        at, key = read_time_cursor(cursor)
        query = query.where((WebhookDelivery.created_at < at) | ((WebhookDelivery.created_at == at) & (WebhookDelivery.id < key)))
    rows = (
        await query.order_by(WebhookDelivery.created_at, ascending=False).order_by(WebhookDelivery.id, ascending=False).limit(PAGE_SIZE + 1)
    )
    items = [
        DeliveryOut(
            row["id"],
            row["event_id"],
            row["kind"],
            row["status"],
            row["attempts"],
            row["response_code"],
            row["last_error"],
            row["created_at"],
            row["delivered_at"],
        )
        for row in rows[:PAGE_SIZE]
    ]
    following = time_cursor(rows[PAGE_SIZE - 1]["created_at"], rows[PAGE_SIZE - 1]["id"]) if len(rows) > PAGE_SIZE else None
    return items, following


# ---------------------------------------------------------------- delivering


def event_body(payload: dict[str, Any]) -> bytes:
    """The JSON an endpoint receives for an event."""
    body = {
        "id": str(payload["event_id"]),
        "type": payload["kind"],
        "created_at": payload.get("at"),
        "tenant_id": str(payload["tenant"]),
        "supplier_id": str(payload["supplier"]) if payload.get("supplier") else None,
        "record": payload.get("record"),
        "link": f"{get_settings().base_url}{payload['link']}" if payload.get("link") else None,
        "data": payload.get("params") or {},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def queue_deliveries(tenant_id: UUID, payload: dict[str, Any]) -> int:
    """For the dispatch job (inside its tenant scope): one delivery per
    active endpoint that chose this kind, each sent by a job of its own."""
    if not KINDS[payload["kind"]].broadcast:
        return 0
    endpoints = await scoped(WebhookEndpoint).select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active.eq(True))
    queued = 0
    for endpoint in endpoints:
        chosen = json.loads(endpoint["events"])
        if "*" not in chosen and payload["kind"] not in chosen:
            continue
        row = scoped(WebhookDelivery).new(
            endpoint=endpoint["id"], event_id=UUID(str(payload["event_id"])), kind=payload["kind"], body=event_body(payload).decode()
        )
        inserted = await WebhookDelivery.insert(row).on_conflict(action="DO NOTHING").returning(WebhookDelivery.id)
        if inserted:
            await enqueue("webhooks.deliver", {"delivery_id": row.id, "tenant": tenant_id}, tenant=tenant_id, max_attempts=MAX_ATTEMPTS)
            queued += 1
    return queued


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # httpx builds this (loading the CA bundle: about 20 ms of CPU) for every
    # client it creates; the channels' jobs create one per post.
    return httpx.create_ssl_context()


def outgoing_client(timeout: float) -> httpx.AsyncClient:
    """The client for one post of webhooks, Web Push and chat robots: no
    redirects (a redirect could lead past the address check), the
    process's one TLS context."""
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, verify=_tls_context())


class DeliveryFailed(Exception):
    pass


async def deliver_job(payload: dict[str, Any]) -> None:
    """The ``webhooks.deliver`` job: POST the signed body once. A failure
    raises (the queue retries with backoff) until the endpoint has failed
    for a day: then it is disabled, its admins are told, and the delivery
    stops."""
    tenant_id = UUID(str(payload["tenant"]))
    async with system_scope("webhooks"):
        tenant = await Tenant.objects().where(Tenant.id == tenant_id).first()
    if tenant is None:
        return
    async with tenant_scope(operator_context(tenant, "webhooks")):
        delivery = await scoped(WebhookDelivery).objects().where(WebhookDelivery.id == UUID(str(payload["delivery_id"]))).first()
        if delivery is None or delivery.status != "pending":
            return
        endpoint = await scoped(WebhookEndpoint).objects().where(WebhookEndpoint.id == delivery.endpoint).first()
    if endpoint is None or not endpoint.active:
        await _record(tenant, delivery.id, status="skipped", error="the endpoint is disabled")
        return
    code, error, delay = await _post(endpoint.url, endpoint.secret, delivery)
    if error is None:
        await _record(tenant, delivery.id, status="delivered", code=code)
        return
    failing_since = endpoint.failing_since or datetime.now(UTC)
    if datetime.now(UTC) - failing_since >= DISABLE_AFTER:
        await _record(tenant, delivery.id, status="failed", code=code, error=error)
        await _disable(tenant, endpoint.id, endpoint.url, error)
        return
    await _record(tenant, delivery.id, status="pending", code=code, error=error, failing_since=failing_since)
    if delay is not None:
        # The endpoint said when it takes deliveries again (429/503 Retry-After).
        raise RetryLater(f"{endpoint.url}: {error}", delay)
    raise DeliveryFailed(f"{endpoint.url}: {error}")


async def _post(url: str, secret: str, delivery: WebhookDelivery) -> tuple[int | None, str | None, timedelta | None]:
    """The response code, the error (None when delivered) and the delay the
    endpoint asked for before the next attempt, if any."""
    try:
        await asyncio.to_thread(check_url, url)
    except InvalidWebhook:
        return None, "refused: the address is not public", None
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "outsourcing-portal-webhooks",
        EVENT_HEADER: delivery.kind,
        DELIVERY_HEADER: str(delivery.id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    try:
        async with outgoing_client(TIMEOUT_SECONDS) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__, None
    if 200 <= response.status_code < 300:
        return response.status_code, None, None
    delay = requested_delay(response.status_code, response.headers.get("retry-after"))
    return response.status_code, f"HTTP {response.status_code}", delay


async def _record(
    tenant: Any, delivery_id: UUID, *, status: str, code: int | None = None, error: str = "", failing_since: datetime | None = None
) -> None:
    async with tenant_scope(operator_context(tenant, "webhooks")):
        delivery = await scoped(WebhookDelivery).objects().where(WebhookDelivery.id == delivery_id).first()
        if delivery is None:
            return
        values: dict[Any, Any] = {WebhookDelivery.status: status, WebhookDelivery.last_error: error}
        if status != "skipped":
            values[WebhookDelivery.attempts] = WebhookDelivery.attempts + 1
            values[WebhookDelivery.response_code] = code
        if status == "delivered":
            values[WebhookDelivery.delivered_at] = datetime.now(UTC)
        await scoped(WebhookDelivery).update(values).where(WebhookDelivery.id == delivery_id)
        if status == "delivered":
            await scoped(WebhookEndpoint).update({WebhookEndpoint.failing_since: None}).where(WebhookEndpoint.id == delivery.endpoint)
        elif failing_since is not None:
            await (
                scoped(WebhookEndpoint)
                .update({WebhookEndpoint.failing_since: failing_since})
                .where((WebhookEndpoint.id == delivery.endpoint) & WebhookEndpoint.failing_since.is_null())
            )


async def _disable(tenant: Any, endpoint_id: UUID, url: str, error: str) -> None:
    from portal.notifications.services import emit

    async with tenant_scope(operator_context(tenant, "webhooks")):
        await (
            scoped(WebhookEndpoint)
            .update(
                {
                    WebhookEndpoint.active: False,
                    WebhookEndpoint.disabled_at: datetime.now(UTC),
                    WebhookEndpoint.disabled_reason: error[:300],
                }
            )
            .where(WebhookEndpoint.id == endpoint_id)
        )
        await emit("webhook.disabled", link="/notifications", params={"url": url, "reason": error}, record=("webhook", endpoint_id))
    log.warning("webhook_disabled", endpoint=str(endpoint_id), url=url, error=error)


async def get_endpoint(endpoint_id: UUID) -> WebhookOut:
    row = await scoped(WebhookEndpoint).select().where(WebhookEndpoint.id == endpoint_id).first()
    if row is None:
        raise NotFound()
    return _out(row)
