"""Web Push to installed PWAs: each browser a person turns push on in
subscribes (its push service's endpoint and its keys), and each
notification that person chose to receive by push becomes one job per
device. The message is encrypted for that browser alone (RFC 8291,
aes128gcm, by pywebpush) and the request carries a VAPID token (RFC 8292,
signed by py-vapid with the portal's key pair, made once and kept in the
database so every process signs with the same key). A push service that
answers 404 or 410 has forgotten the subscription: it is deleted.

The endpoint comes from the browser, so it is held to the webhooks' rules:
in production only HTTPS to public addresses, checked when subscribing and
again before each send, and redirects are never followed.
"""

from __future__ import annotations

import asyncio
import binascii
import json
from datetime import datetime
from email.utils import parseaddr
from typing import Annotated, Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from py_vapid.utils import b64urldecode

from portal.errors import DomainError, NotFound
from portal.i18n import N_, use_locale
from portal.jobs import RetryLater, enqueue
from portal.jobs.retry import BUSY_STATUSES, requested_delay
from portal.lengths import most
from portal.notifications.kinds import kind_of
from portal.notifications.services import still_told
from portal.notifications.tables import Notification, PushSubscription, VapidKey
from portal.notifications.webhooks import InvalidWebhook, check_url, outgoing_client
from portal.settings import get_settings
from tenants.context import current, operator_context, system_scope, tenant_scope
from tenants.scoping import scoped
from tenants.tables import Tenant

log = structlog.get_logger(__name__)

KEY_ID = "default"
TIMEOUT_SECONDS = 10
# A phone that is off for a day still gets what waited for it.
TTL_SECONDS = 24 * 3600
MAX_ATTEMPTS = 8
# The push service has forgotten the subscription.
GONE = (404, 410)


class InvalidSubscription(DomainError):
    code = "invalid_subscription"
    message = N_("This device's push subscription is not valid.")


class PushKeys(msgspec.Struct, frozen=True):
    p256dh: Annotated[str, most(PushSubscription.p256dh)]
    auth: Annotated[str, most(PushSubscription.auth)]


class SubscriptionIn(msgspec.Struct, frozen=True):
    """What the browser's ``PushSubscription.toJSON()`` gives."""

    endpoint: Annotated[str, most(PushSubscription.endpoint)]
    keys: PushKeys


class SubscriptionOut(msgspec.Struct, frozen=True):
    id: UUID
    endpoint: str
    created_at: datetime


class PushEndpoint(msgspec.Struct, frozen=True):
    endpoint: Annotated[str, most(PushSubscription.endpoint)]


class PushRemoved(msgspec.Struct, frozen=True):
    removed: int


class PushKey(msgspec.Struct, frozen=True):
    # The application server key a browser subscribes with (base64url).
    public_key: str


# ---------------------------------------------------------------- the VAPID key


async def vapid_key() -> tuple[Vapid, str]:
    """The portal's VAPID key pair and its public key (base64url). The first
    process to ask makes it; one racing it keeps the first's. Read each
    time, not cached: it is one row, and a process must never sign with a
    key the database no longer holds."""
    async with system_scope("push"):
        row = await VapidKey.select().where(VapidKey.id == KEY_ID).first()
        if row is None:
            made = Vapid()
            made.generate_keys()
            await VapidKey.insert(VapidKey(id=KEY_ID, private_pem=made.private_pem().decode(), public_key=_public_key(made))).on_conflict(
                action="DO NOTHING"
            )
            row = await VapidKey.select().where(VapidKey.id == KEY_ID).first()
            if row is None:
                raise RuntimeError("the VAPID key was neither found nor made")
            log.info("vapid_key_created", public_key=row["public_key"])
    return Vapid.from_pem(row["private_pem"].encode()), row["public_key"]


def _public_key(key: Vapid) -> str:
    from cryptography.hazmat.primitives import serialization
    from py_vapid.utils import b64urlencode

    return str(b64urlencode(key.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)))


def _subject() -> str:
    # The push service's contact for the sender: a mailto: or https: URL.
    settings = get_settings()
    if settings.base_url.startswith("https://"):
        return settings.base_url
    return "mailto:" + (parseaddr(settings.mail_from)[1] or "portal@localhost")


async def public_key() -> PushKey:
    return PushKey((await vapid_key())[1])


# ---------------------------------------------------------------- subscriptions


def _check(data: SubscriptionIn) -> None:
    problems: dict[str, str] = {}
    if len(data.endpoint) > 1000:
        problems["endpoint"] = N_("At most 1000 characters.")
    else:
        try:
            check_url(data.endpoint)
        except InvalidWebhook:
            problems["endpoint"] = N_("Push services are reached over HTTPS at public addresses.")
    try:
        point = b64urldecode(data.keys.p256dh.encode())
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, binascii.Error):
        problems["keys.p256dh"] = N_("Not a P-256 public key.")
    try:
        if len(b64urldecode(data.keys.auth.encode())) != 16:
            raise ValueError
    except (ValueError, binascii.Error):
        problems["keys.auth"] = N_("Not a 16-byte authentication secret.")
    if problems:
        raise InvalidSubscription(fields=problems)


def _me() -> Any:
    context = current()
    if context.user_id is None:
        raise NotFound()
    return context


async def subscribe(data: SubscriptionIn, user_agent: str = "") -> SubscriptionOut:
    """Push this tenant's notifications of the signed-in person to one more
    device. The same device subscribing again (new keys, or another person
    signed in on it) replaces what was kept for it."""
    context = _me()
    await asyncio.to_thread(_check, data)
    supplier = context.supplier_id if context.is_supplier else None
    # Across users of the tenant: a shared phone belongs to whoever subscribed last.
    async with system_scope("push"):
        await PushSubscription.delete().where(
            (PushSubscription.tenant == context.tenant_id)
            & (PushSubscription.endpoint == data.endpoint)
            & (PushSubscription.user != context.user_id)
        )
    updated = await (
        scoped(PushSubscription)
        .update(
            {
                PushSubscription.p256dh: data.keys.p256dh,
                PushSubscription.auth: data.keys.auth,
                PushSubscription.session: context.session_id,
            }
        )
        .where((PushSubscription.endpoint == data.endpoint) & (PushSubscription.user == context.user_id))
        .returning(PushSubscription.id)
    )
    if not updated:
        row = scoped(PushSubscription).new(
            user=context.user_id,
            supplier=supplier,
            endpoint=data.endpoint,
            p256dh=data.keys.p256dh,
            auth=data.keys.auth,
            user_agent=user_agent[:300],
            session=context.session_id,
        )
        # The same device subscribing twice at once (the page asks on load
        # and on the button): the second insert waits for the first to
        # commit and then replaces what it kept, as a later subscription would.
        await PushSubscription.insert(row).on_conflict(
            target=(PushSubscription.tenant, PushSubscription.endpoint),
            action="DO UPDATE",
            values=[
                PushSubscription.user,
                PushSubscription.supplier,
                PushSubscription.p256dh,
                PushSubscription.auth,
                PushSubscription.user_agent,
                PushSubscription.session,
            ],
        )
    found = await (
        scoped(PushSubscription)
        .select(PushSubscription.id, PushSubscription.endpoint, PushSubscription.created_at)
        .where((PushSubscription.endpoint == data.endpoint) & (PushSubscription.user == context.user_id))
        .first()
    )
    return SubscriptionOut(**found)


async def unsubscribe(endpoint: str) -> int:
    """This device stops receiving the signed-in person's pushes."""
    context = _me()
    rows = await (
        scoped(PushSubscription)
        .delete()
        .where((PushSubscription.endpoint == endpoint) & (PushSubscription.user == context.user_id))
        .returning(PushSubscription.id)
    )
    return len(rows)


async def forget_session_devices(session_id: UUID) -> int:
    """Signing out: the devices subscribed from this session stop receiving
    pushes (whoever signs in on them next subscribes again)."""
    async with system_scope("sign-out"):
        rows = await PushSubscription.delete().where(PushSubscription.session == session_id).returning(PushSubscription.id)
    return len(rows)


async def remove_subscription(subscription_id: UUID) -> None:
    context = _me()
    rows = await (
        scoped(PushSubscription)
        .delete()
        .where((PushSubscription.id == subscription_id) & (PushSubscription.user == context.user_id))
        .returning(PushSubscription.id)
    )
    if not rows:
        raise NotFound()


async def list_subscriptions() -> list[SubscriptionOut]:
    context = _me()
    rows = await (
        scoped(PushSubscription)
        .select(PushSubscription.id, PushSubscription.endpoint, PushSubscription.created_at)
        .where(PushSubscription.user == context.user_id)
        .order_by(PushSubscription.created_at, ascending=False)
    )
    return [SubscriptionOut(**row) for row in rows]


# ---------------------------------------------------------------- sending


async def queue_pushes(notifications: dict[str, UUID], tenant_id: UUID) -> int:
    """For the dispatch job (inside its tenant scope): one job per device of
    each user in ``notifications`` (user id as text -> their notification
    of the event), each keyed so that a dispatch running twice pushes once."""
    if not notifications:
        return 0
    rows = await (
        scoped(PushSubscription).select(PushSubscription.id, PushSubscription.user).where(PushSubscription.user.is_in(list(notifications)))
    )
    for row in rows:
        notification_id = notifications[str(row["user"])]
        await enqueue(
            "push.send",
            {"tenant": tenant_id, "notification_id": notification_id, "subscription_id": row["id"]},
            tenant=tenant_id,
            unique_key=f"push:{notification_id}:{row['id']}",
            max_attempts=MAX_ATTEMPTS,
        )
    return len(rows)


class PushFailed(Exception):
    pass


async def push_job(payload: dict[str, Any]) -> None:
    """The ``push.send`` job: one notification to one device. A dead
    subscription (404/410) is deleted; a refusal that will not change (other
    4xx) is logged and dropped; anything else raises and is retried (after
    the push service's Retry-After when it gave one)."""
    tenant_id = UUID(str(payload["tenant"]))
    async with system_scope("push"):
        tenant = await Tenant.objects().where(Tenant.id == tenant_id).first()
    if tenant is None:
        return
    async with tenant_scope(operator_context(tenant, "push")):
        device = await scoped(PushSubscription).objects().where(PushSubscription.id == UUID(str(payload["subscription_id"]))).first()
        note = await (
            scoped(Notification)
            .select(
                Notification.id,
                Notification.kind,
                Notification.params,
                Notification.link,
                Notification.read_at,
                Notification.supplier,
                Notification.user.locale,
            )
            .where(Notification.id == UUID(str(payload["notification_id"])))
            .first()
        )
        # The record hidden from a supplier since the event (a handover
        # completed while the push waited): its title stays unsaid.
        told = note is not None and await still_told(note["id"], note["supplier"])
    # Gone, already read in the app, or no longer the recipient's to read.
    if device is None or note is None or note["read_at"] is not None or not told:
        return
    kind = kind_of(note["kind"])
    with use_locale(note["user.locale"] or tenant.locale or "zh_CN"):
        title, body = kind.render(json.loads(note["params"] or "{}"))
    message = json.dumps(
        {"title": title, "body": body, "url": note["link"] or "/notifications", "tag": str(note["id"])}, ensure_ascii=False
    ).encode()
    status = await _send(device, message, urgent=kind.urgent)
    if status in GONE:
        async with tenant_scope(operator_context(tenant, "push")):
            await scoped(PushSubscription).delete().where(PushSubscription.id == device.id)
        log.info("push_subscription_gone", subscription=str(device.id), status=status)
    elif 400 <= status < 500 and status != 429:
        log.warning("push_refused", subscription=str(device.id), status=status)


async def _send(device: PushSubscription, message: bytes, *, urgent: bool) -> int:
    """POST the encrypted message; the push service's status code, or
    PushFailed for what is worth another attempt (5xx, 429, no answer)."""
    try:
        await asyncio.to_thread(check_url, device.endpoint)
    except InvalidWebhook:
        raise PushFailed(f"{device.endpoint}: refused, the address is not public") from None
    # Imported here, in the push job only: pywebpush brings aiohttp and
    # requests, about 40 MB resident that a serving process need not keep.
    from pywebpush import WebPusher

    pusher = WebPusher({"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}})
    encrypted = pusher.encode(message, "aes128gcm")
    key, _public = await vapid_key()
    parts = urlsplit(device.endpoint)
    headers = {
        **key.sign({"sub": _subject(), "aud": f"{parts.scheme}://{parts.netloc}"}),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(TTL_SECONDS),
        "Urgency": "high" if urgent else "normal",
    }
    try:
        async with outgoing_client(TIMEOUT_SECONDS) as client:
            response = await client.post(device.endpoint, content=encrypted["body"], headers=headers)
    except httpx.HTTPError as exc:
        raise PushFailed(f"{parts.netloc}: {type(exc).__name__}: {exc}") from None
    # The push service says when it takes messages again: the next attempt
    # waits that long rather than hammering it on our backoff.
    delay = requested_delay(response.status_code, response.headers.get("retry-after"))
    if delay is not None:
        raise RetryLater(f"{parts.netloc}: HTTP {response.status_code}, Retry-After {int(delay.total_seconds())} s", delay)
    if response.status_code >= 500 or response.status_code in BUSY_STATUSES:
        raise PushFailed(f"{parts.netloc}: HTTP {response.status_code}")
    return response.status_code
