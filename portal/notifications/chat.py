"""Work chat group robots: where Chinese shop floors already talk. A tenant
admin (for the buyer's own groups) or a supplier admin (for its supplier's
group) connects a DingTalk, WeCom or Feishu group robot by its webhook URL,
and its secret where the service signs, and chooses events; each event is
posted as one text message, in the service's own format and signature
scheme (docs/webhooks.md, "Work chat robots"):

- DingTalk: ``timestamp`` (ms) and ``sign`` in the query string; ``sign`` is
  base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret)).
- Feishu: ``timestamp`` (s) and ``sign`` in the JSON body; ``sign`` is
  base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg="")).
- WeCom: no signature; the robot's ``key`` is in the URL itself.

All three answer 200 with an error code in the body when they refuse: the
body is checked. A supplier's robot hears only events of that supplier and
only kinds its people hear of; the buyer's robots hear any chosen kind.
URLs are held to the webhooks' rules (in production HTTPS to public
addresses, checked when connecting and before each post; no redirects).
The URL carries the robot's token, so it is never shown again in full.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from uuid import UUID

import httpx
import msgspec
import structlog

from portal.errors import DomainError, NotFound
from portal.i18n import N_, gettext, use_locale
from portal.jobs import RetryLater, enqueue
from portal.jobs.retry import requested_delay
from portal.lengths import most
from portal.notifications.kinds import KINDS, SUPPLIER_USERS, Kind, kind_of
from portal.notifications.records import supplier_hears
from portal.notifications.tables import ChatRobot
from portal.notifications.webhooks import InvalidWebhook, check_url, outgoing_client
from portal.settings import get_settings
from tenants.context import current, operator_context, system_scope, tenant_scope
from tenants.scoping import scoped
from tenants.tables import Tenant

log = structlog.get_logger(__name__)

SERVICES = {"dingtalk": N_("DingTalk"), "wecom": N_("WeCom"), "feishu": N_("Feishu")}
TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 8


class InvalidRobot(DomainError):
    code = "invalid_chat_robot"
    message = N_("Some fields are missing or not valid.")


class RobotIn(msgspec.Struct, frozen=True):
    service: str
    url: str
    # DingTalk's "加签" secret (SEC...) or Feishu's signature secret; WeCom has none.
    secret: str = ""
    events: list[str] = msgspec.field(default_factory=lambda: ["*"])
    description: Annotated[str, most(ChatRobot.description)] = ""


class RobotOut(msgspec.Struct, frozen=True):
    id: UUID
    service: str
    # Scheme, host and the URL's last four characters: the rest is the robot's token.
    url_hint: str
    signed: bool
    events: list[str]
    description: str
    supplier_id: UUID | None
    last_sent_at: datetime | None
    last_error: str
    created_at: datetime


def hint(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…{url[-4:]}"


def heard_by(kind: Kind, supplier_robot: bool) -> bool:
    """A group hears what is said to many; a supplier's group only what its
    people would hear of."""
    return kind.broadcast and (not supplier_robot or bool(kind.roles & SUPPLIER_USERS))


def choosable(supplier_robot: bool) -> list[Kind]:
    return [kind for kind in KINDS.values() if heard_by(kind, supplier_robot)]


# ---------------------------------------------------------------- connecting


def _out(row: dict[str, Any]) -> RobotOut:
    return RobotOut(
        id=row["id"],
        service=row["service"],
        url_hint=hint(row["url"]),
        signed=bool(row["secret"]),
        events=json.loads(row["events"]),
        description=row["description"],
        supplier_id=row["supplier"],
        last_sent_at=row["last_sent_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
    )


def _mine() -> Any:
    """A supplier admin's robots are its supplier's (the scoping keeps them
    so); a tenant admin sees the buyer's and every supplier's group."""
    return scoped(ChatRobot).select()


async def create_robot(data: RobotIn) -> RobotOut:
    """Connect a group robot for the chosen events (``["*"]``: every kind
    this admin's side may hear of)."""
    context = current()
    problems: dict[str, str] = {}
    if data.service not in SERVICES:
        problems["service"] = N_("Choose DingTalk, WeCom or Feishu.")
    url = data.url.strip()
    if len(url) > 500:
        problems["url"] = N_("At most 500 characters.")
    else:
        try:
            await asyncio.to_thread(check_url, url)
        except InvalidWebhook:
            problems["url"] = N_("Give the robot's webhook address as the service shows it (https://...); internal addresses are refused.")
    secret = data.secret.strip()
    if len(secret) > 200:
        problems["secret"] = N_("At most 200 characters.")
    elif data.service == "wecom" and secret:
        problems["secret"] = N_("WeCom robots have no secret: their key is in the URL.")
    allowed = {kind.name for kind in choosable(context.is_supplier)}
    events = sorted(set(data.events)) or ["*"]
    unknown = [name for name in events if name != "*" and name not in allowed]
    if unknown:
        problems["events"] = N_("Unknown kind of event: %(names)s")
    if problems:
        raise InvalidRobot(fields=problems, names=", ".join(unknown))
    row = scoped(ChatRobot).new(
        supplier=context.supplier_id if context.is_supplier else None,
        service=data.service,
        url=url,
        secret=secret,
        events=json.dumps(events),
        description=data.description.strip()[:200],
        created_by=context.user_id,
    )
    await row.save()
    return _out(await _mine().where(ChatRobot.id == row.id).first())


async def list_robots() -> list[RobotOut]:
    rows = await _mine().where(ChatRobot.active.eq(True)).order_by(ChatRobot.created_at, ascending=False)
    return [_out(row) for row in rows]


async def delete_robot(robot_id: UUID) -> None:
    """Disconnect: nothing more is posted to that group (the robot is kept,
    inactive; disconnecting it again changes nothing)."""
    if await _mine().where(ChatRobot.id == robot_id).first() is None:
        raise NotFound()
    await scoped(ChatRobot).update({ChatRobot.active: False}).where(ChatRobot.id == robot_id)


# ---------------------------------------------------------------- posting


async def queue_chat_messages(tenant_id: UUID, payload: dict[str, Any]) -> int:
    """For the dispatch job (inside its tenant scope): one ``chat.send`` job
    per robot that chose this kind and may hear of it, keyed so that a
    dispatch running twice posts once."""
    kind = kind_of(payload["kind"])
    if not kind.broadcast:
        return 0
    supplier = payload.get("supplier")
    robots = await scoped(ChatRobot).select(ChatRobot.id, ChatRobot.events, ChatRobot.supplier).where(ChatRobot.active.eq(True))
    queued = 0
    for robot in robots:
        chosen = json.loads(robot["events"])
        if "*" not in chosen and kind.name not in chosen:
            continue
        if not heard_by(kind, robot["supplier"] is not None):
            continue
        if robot["supplier"] is not None and str(robot["supplier"]) != str(supplier):
            continue
        if robot["supplier"] is not None and not await supplier_hears(payload, robot["supplier"]):
            continue
        await enqueue(
            "chat.send",
            {**payload, "robot_id": robot["id"]},
            tenant=tenant_id,
            unique_key=f"chat:{payload['event_id']}:{robot['id']}",
            max_attempts=MAX_ATTEMPTS,
        )
        queued += 1
    return queued


class ChatRefused(Exception):
    pass


def text_of(payload: dict[str, Any], locale: str) -> str:
    """The message: title, body and the portal's link, in the tenant's
    language (a group has many readers; the company's language serves them)."""
    kind = kind_of(payload["kind"])
    with use_locale(locale):
        title, body = kind.render(payload.get("params") or {})
        prefix = gettext("Outsourcing portal")
    link = f"{get_settings().base_url}{payload.get('link') or '/notifications'}"
    return "\n".join(part for part in (f"[{prefix}] {title}", body, link) if part)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def request_for(service: str, url: str, secret: str, text: str, now: float | None = None) -> tuple[str, dict[str, Any]]:
    """The URL to POST to and the JSON body, in the service's own format."""
    now = time.time() if now is None else now
    if service == "dingtalk":
        if secret:
            stamp = int(now * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={quote(dingtalk_sign(secret, stamp), safe='')}"
        return url, {"msgtype": "text", "text": {"content": text}}
    if service == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if secret:
            stamp = int(now)
            body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
        return url, body
    return url, {"msgtype": "text", "text": {"content": text}}


def refusal(service: str, answer: Any) -> str | None:
    """The service's own error in a 200 answer, or None when it took the message."""
    if not isinstance(answer, dict):
        return "not a JSON object"
    if service == "feishu":
        # Older Feishu answers carry StatusCode instead of code.
        code = answer.get("code", answer.get("StatusCode", 0))
        message = answer.get("msg", answer.get("StatusMessage", ""))
    else:
        code, message = answer.get("errcode", 0), answer.get("errmsg", "")
    return None if code == 0 else f"{code}: {message}"[:300]


async def send_job(payload: dict[str, Any]) -> None:
    """The ``chat.send`` job: post one event to one group robot. A refusal
    or no answer raises, and the queue tries again with backoff; the
    robot keeps its last outcome for its admin."""
    tenant_id = UUID(str(payload["tenant"]))
    async with system_scope("chat"):
        tenant = await Tenant.objects().where(Tenant.id == tenant_id).first()
    if tenant is None:
        return
    async with tenant_scope(operator_context(tenant, "chat")):
        robot = await scoped(ChatRobot).objects().where(ChatRobot.id == UUID(str(payload["robot_id"]))).first()
    if robot is None or not robot.active:
        return
    error, delay = await _post(robot, text_of(payload, tenant.locale or "zh_CN"))
    async with tenant_scope(operator_context(tenant, "chat")):
        values: dict[Any, Any] = {ChatRobot.last_error: error or ""}
        if error is None:
            values[ChatRobot.last_sent_at] = datetime.now(UTC)
        await scoped(ChatRobot).update(values).where(ChatRobot.id == robot.id)
    if delay is not None:
        # The service (or the gateway before it) said when it takes messages again.
        raise RetryLater(f"{robot.service} robot {robot.id}: {error}", delay)
    if error is not None:
        raise ChatRefused(f"{robot.service} robot {robot.id}: {error}")


async def _post(robot: ChatRobot, text: str) -> tuple[str | None, timedelta | None]:
    """The refusal (None when the group took the message) and the delay
    the service asked for before the next attempt, if any."""
    try:
        await asyncio.to_thread(check_url, robot.url)
    except InvalidWebhook:
        return "refused: the address is not public", None
    url, body = request_for(robot.service, robot.url, robot.secret, text)
    try:
        async with outgoing_client(TIMEOUT_SECONDS) as client:
            response = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:300], None
    if response.status_code != 200:
        return f"HTTP {response.status_code}", requested_delay(response.status_code, response.headers.get("retry-after"))
    try:
        return refusal(robot.service, response.json()), None
    except ValueError:
        return "the answer is not JSON", None
