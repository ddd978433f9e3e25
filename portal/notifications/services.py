"""Events to notifications: a domain service records what happened with
``emit`` (one call, in its own transaction: a rolled-back change tells
nobody, a committed one is never lost); the ``notifications.dispatch`` job
then decides, here and only here, who hears of it, on which channel and in
which language: in-app rows, email now or in the daily digest, and the
tenant's webhooks.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4, uuid5

import msgspec
import structlog

from portal.errors import DomainError, NotFound
from portal.i18n import N_, use_locale
from portal.jobs import enqueue
from portal.lengths import most
from portal.notifications.kinds import EMAIL_MODES, KINDS, Kind, kind_of
from portal.notifications.mail import Email, queue_email
from portal.notifications.records import supplier_hears
from portal.notifications.tables import Notification, NotificationPreference
from portal.pagination import read_time_cursor, time_cursor
from portal.settings import get_settings
from tenants.context import TenantContext, current, operator_context, system_scope, tenant_scope
from tenants.roles import Role
from tenants.scoping import scoped, supplier_reads
from tenants.tables import Membership, Tenant

log = structlog.get_logger(__name__)

PAGE_SIZE = 30
# Namespace of the ids of events emitted with a key.
EVENT_KEYS = UUID("6f1d3c0e-5a7b-4c1e-9d2f-0b8a7e6c5d41")


class InvalidPreference(DomainError):
    code = "invalid_preference"
    message = N_("Some fields are missing or not valid.")


# ---------------------------------------------------------------- recording events


async def emit(
    kind: str,
    *,
    link: str = "",
    supplier: UUID | None = None,
    params: dict[str, Any] | None = None,
    record: tuple[str, UUID] | None = None,
    users: Iterable[UUID] | None = None,
    key: str | None = None,
) -> UUID:
    """Record that ``kind`` happened in the acting tenant (the one call a
    domain service makes). ``supplier`` is the supplier the event concerns
    (its users hear supplier-side kinds); ``params`` fill the kind's title
    and body; ``link`` is the portal path the notification opens;
    ``record`` (type, id) goes to webhooks; ``users`` names the recipients
    instead of the kind's roles (a mention, an escalation). ``key`` makes
    the event idempotent (a job that emits and runs twice): the same key in
    the tenant is one event. Returns the event's id."""
    if kind not in KINDS:
        raise KeyError(f"unknown notification kind {kind!r}: add it to portal/notifications/kinds.py")
    context = current()
    event_id = uuid5(EVENT_KEYS, f"{context.tenant_id}:{key}") if key else uuid4()
    payload = {
        "event_id": event_id,
        "kind": kind,
        "tenant": context.tenant_id,
        "supplier": supplier,
        "link": link,
        "params": {key: str(value) for key, value in (params or {}).items()},
        "record": {"type": record[0], "id": str(record[1])} if record else None,
        "users": [str(user) for user in users] if users is not None else None,
        "actor": context.user_id,
        "at": datetime.now(UTC).isoformat(),
        # What the dispatch acts as, so that it need not read the tenant
        # first (a transaction of its own per event).
        "scope": {"slug": context.tenant_slug, "name": context.tenant_name, "time_zone": context.time_zone, "currency": context.currency},
    }
    await enqueue("notifications.dispatch", payload, tenant=context.tenant_id, unique_key=f"event:{event_id}" if key else None)
    return event_id


# ---------------------------------------------------------------- the dispatch job


async def dispatch_job(payload: dict[str, Any]) -> None:
    """The ``notifications.dispatch`` job: one event to its people and
    webhooks. Runs again harmlessly: a person gets one notification (and one
    email) per event, an endpoint one delivery."""
    from portal.notifications.chat import queue_chat_messages
    from portal.notifications.push import queue_pushes
    from portal.notifications.webhooks import queue_deliveries

    kind = kind_of(payload["kind"])
    tenant_id = UUID(payload["tenant"])
    context = await _operator(tenant_id, payload.get("scope"))
    if context is None:
        return
    async with tenant_scope(context):
        recipients = await _recipients(kind, payload)
        choices = await _choices(kind, [row["user"] for row in recipients])
        pushed: dict[str, UUID] = {}
        for row in recipients:
            in_app, email, push = choices.get(row["user"], (True, kind.email, kind.push))
            if not in_app and email == "off" and not push:
                continue
            created = await _insert(row, payload, "sent" if email == "instant" else "digest" if email == "digest" else "none")
            if created and email == "instant":
                await queue_email(_email(kind, payload, row, row["tenant.locale"]))
            if created and push:
                pushed[str(row["user"])] = created
        await queue_pushes(pushed, tenant_id)
        await queue_deliveries(tenant_id, payload)
        await queue_chat_messages(tenant_id, payload)


async def _operator(tenant_id: UUID, scope: dict[str, str] | None) -> TenantContext | None:
    """The dispatch's context in the event's tenant: from what ``emit``
    recorded, or read from the tenant for an event queued before it
    recorded it (None when the tenant is gone). A tenant deleted since the
    event has no members, endpoints or robots left to hear of it."""
    if scope is None:
        async with system_scope("notifications"):
            tenant = await Tenant.objects().where(Tenant.id == tenant_id).first()
        return operator_context(tenant, "notifications") if tenant is not None else None
    return TenantContext(
        tenant_id=tenant_id,
        tenant_slug=scope["slug"],
        tenant_name=scope["name"],
        time_zone=scope["time_zone"],
        currency=scope["currency"],
        role=Role.ADMIN,
        user_name="notifications",
    )


async def _recipients(kind: Kind, payload: dict[str, Any]) -> list[dict[str, Any]]:
    rows = await (
        scoped(Membership)
        .select(
            Membership.user,
            Membership.role,
            Membership.supplier,
            Membership.user.email,
            Membership.user.locale,
            Membership.user.active,
            # The language of an email to someone who chose none.
            Membership.tenant.locale,
        )
        .where(Membership.active.eq(True))
    )
    rows = [row for row in rows if row["user.active"]]
    supplier = payload.get("supplier")
    chosen = payload.get("users")
    found: dict[Any, dict[str, Any]] = {}
    for row in rows:
        role = Role(row["role"])
        if chosen is not None:
            wanted = str(row["user"]) in chosen and (not role.is_supplier or supplier is None or str(row["supplier"]) == supplier)
        else:
            wanted = role in kind.roles and (not role.is_supplier or (supplier is not None and str(row["supplier"]) == supplier))
            wanted = wanted and str(row["user"]) != str(payload.get("actor"))
        if wanted and row["user"] not in found:
            found[row["user"]] = row
    reads: dict[UUID, bool] = {}
    for supplier_id in {row["supplier"] for row in found.values() if Role(row["role"]).is_supplier}:
        reads[supplier_id] = await supplier_hears(payload, supplier_id)
    return [row for row in found.values() if not Role(row["role"]).is_supplier or reads[row["supplier"]]]


async def _choices(kind: Kind, users: list[Any]) -> dict[Any, tuple[bool, str, bool]]:
    if not users:
        return {}
    rows = await (
        scoped(NotificationPreference)
        .select(NotificationPreference.user, NotificationPreference.in_app, NotificationPreference.email, NotificationPreference.push)
        .where(NotificationPreference.kind == kind.name)
        .where(NotificationPreference.user.is_in(users))
    )
    return {row["user"]: _effective(kind, row["in_app"], row["email"], row["push"]) for row in rows}


def _effective(kind: Kind, in_app: bool, email: str, push: bool | None) -> tuple[bool, str, bool]:
    # Urgent kinds stay in the app whatever was stored; no push choice
    # stored (a row older than push) means the kind's default.
    return (True if kind.urgent else in_app), email, (kind.push if push is None else push)


async def _insert(row: dict[str, Any], payload: dict[str, Any], email: str) -> UUID | None:
    """The person's notification of this event; None when an earlier run
    of the job made it already."""
    supplier = row["supplier"] if Role(row["role"]).is_supplier else None
    record = payload.get("record")
    values = scoped(Notification).new(
        user=row["user"],
        supplier=supplier,
        event_id=UUID(str(payload["event_id"])),
        kind=payload["kind"],
        params=json.dumps(payload.get("params") or {}, ensure_ascii=False),
        link=payload.get("link") or "",
        record_type=record["type"] if record else "",
        record_id=UUID(str(record["id"])) if record else None,
        email=email,
    )
    inserted = await Notification.insert(values).on_conflict(action="DO NOTHING").returning(Notification.id)
    return inserted[0]["id"] if inserted else None


def _email(kind: Kind, payload: dict[str, Any], row: dict[str, Any], tenant_locale: str) -> Email:
    link = f"{get_settings().base_url}{payload.get('link') or '/notifications'}"
    with use_locale(row["user.locale"] or tenant_locale or "zh_CN"):
        title, body = kind.render(payload.get("params") or {})
    text = "\n\n".join(part for part in (title, body, link) if part) + "\n"
    markup = "".join(f"<p>{html.escape(part)}</p>" for part in (title, body) if part)
    markup += f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
    return Email(to=row["user.email"], subject=title, text=text, html=markup)


# ---------------------------------------------------------------- the daily digest


async def digest_job(payload: dict[str, Any]) -> None:
    """The periodic ``notifications.digest`` job: one email per person and
    tenant with what waited for the digest, then those rows are digested."""
    async with system_scope("notifications-digest"):
        rows = await (
            Notification.select(
                Notification.id,
                Notification.tenant,
                Notification.kind,
                Notification.params,
                Notification.link,
                Notification.supplier,
                Notification.user.email,
                Notification.user.locale,
                Notification.tenant.locale,
            )
            .where(Notification.email == "digest")
            .order_by(Notification.created_at)
        )
    hidden = await _hidden_since(rows)
    groups: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["tenant"], row["user.email"]), []).append(row)
    base = get_settings().base_url
    for (tenant, address), items in groups.items():
        with use_locale(items[0]["user.locale"] or items[0]["tenant.locale"] or "zh_CN"):
            from portal.i18n import ngettext

            subject = ngettext(
                "Your daily summary: %(count)s notification", "Your daily summary: %(count)s notifications", len(items), count=len(items)
            )
            lines = []
            for item in items:
                if item["id"] in hidden:
                    continue
                title, _body = kind_of(item["kind"]).render(json.loads(item["params"] or "{}"))
                lines.append(f"- {title}\n  {base}{item['link'] or '/notifications'}")
        async with system_scope("notifications-digest"):
            done = await (
                Notification.update({Notification.email: "digested"})
                .where(Notification.id.is_in([item["id"] for item in items]) & (Notification.email == "digest"))
                .returning(Notification.id)
            )
            if done and lines:
                await queue_email(Email(to=address, subject=subject, text="\n".join(lines) + "\n"))
        log.info("notification_digest", tenant=str(tenant), items=len(items))


async def _hidden_since(rows: list[dict[str, Any]]) -> set[Any]:
    """The supplier users' notifications (of ``rows``, read across tenants)
    whose record they no longer read: a digest written later than the event
    must not name a record hidden since (the notification itself is
    already hidden from them in the app)."""
    tenant_ids = {row["tenant"] for row in rows if row["supplier"] is not None}
    if not tenant_ids:
        return set()
    async with system_scope("notifications-digest"):
        tenants = await Tenant.objects().where(Tenant.id.is_in(list(tenant_ids)))
    hidden: set[Any] = set()
    for tenant in tenants:
        async with tenant_scope(operator_context(tenant, "notifications-digest")):
            for row in rows:
                if row["tenant"] == tenant.id and row["supplier"] is not None and not await still_told(row["id"], row["supplier"]):
                    hidden.add(row["id"])
    return hidden


async def still_told(notification_id: UUID, supplier_id: UUID | None) -> bool:
    """Whether the recipient may still read the notification: a supplier's
    user only while it reads the record the notification is about."""
    return supplier_id is None or await supplier_reads(Notification, notification_id, supplier_id)


# ---------------------------------------------------------------- reading


class NotificationOut(msgspec.Struct, frozen=True):
    id: UUID
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


COLUMNS = (
    Notification.id,
    Notification.supplier,
    Notification.record_type,
    Notification.record_id,
    Notification.kind,
    Notification.params,
    Notification.link,
    Notification.created_at,
    Notification.read_at,
)


def _me() -> TenantContext:
    context = current()
    if context.user_id is None:
        raise NotFound()
    return context


def _mine() -> Any:
    return scoped(Notification).select(*COLUMNS).where(Notification.user == _me().user_id)


def _out(row: dict[str, Any]) -> NotificationOut:
    kind = KINDS.get(row["kind"])
    params = json.loads(row["params"] or "{}")
    title, body = kind.render(params) if kind else (row["kind"], "")
    return NotificationOut(row["id"], row["kind"], title, body, row["link"], row["created_at"], row["read_at"])


async def list_notifications(
    cursor: str | None = None, unread: bool = False, limit: int = PAGE_SIZE
) -> tuple[list[NotificationOut], str | None]:
    """The signed-in person's notifications in this tenant, newest first."""
    query = _mine()
    if unread:
        query = query.where(Notification.read_at.is_null())
    if cursor:
        at, key = read_time_cursor(cursor)
        query = query.where((Notification.created_at < at) | ((Notification.created_at == at) & (Notification.id < key)))
    rows = await query.order_by(Notification.created_at, ascending=False).order_by(Notification.id, ascending=False).limit(limit + 1)
    items = [_out(row) for row in await scoped(Notification).readable(rows[:limit])]
    following = time_cursor(rows[limit - 1]["created_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return items, following


async def unread_count() -> int:
    """The unread badge's number. A supplier's count leaves out what is
    about records hidden from it since, in a few statements however many
    rows are unread (it is on every page)."""
    return await scoped(Notification).count_readable(Notification.user == _me().user_id, Notification.read_at.is_null())


async def get_notification(notification_id: UUID) -> NotificationOut:
    row = await _mine().where(Notification.id == notification_id).first()
    if row is None or not await scoped(Notification).record_read(row):
        raise NotFound()
    return _out(row)


async def mark_read(notification_id: UUID) -> NotificationOut:
    """Read now (the first time counts; reading again changes nothing)."""
    found = await get_notification(notification_id)
    if found.read_at is None:
        await (
            scoped(Notification)
            .update({Notification.read_at: datetime.now(UTC)})
            .where((Notification.id == notification_id) & (Notification.user == _me().user_id) & Notification.read_at.is_null())
        )
    return await get_notification(notification_id)


async def mark_all_read() -> int:
    rows = await (
        scoped(Notification)
        .update({Notification.read_at: datetime.now(UTC)})
        .where((Notification.user == _me().user_id) & Notification.read_at.is_null())
        .returning(Notification.id)
    )
    return len(rows)


# ---------------------------------------------------------------- preferences


class PreferenceOut(msgspec.Struct, frozen=True):
    kind: str
    label: str
    urgent: bool
    in_app: bool
    email: str
    # Web Push to the devices the person turned push on in.
    push: bool


class PreferenceIn(msgspec.Struct, frozen=True):
    kind: Annotated[str, most(NotificationPreference.kind)]
    in_app: bool = True
    email: Annotated[str, most(NotificationPreference.email)] = "instant"
    # Left out: the kind's default.
    push: bool | None = None


def _relevant(context: TenantContext) -> list[Kind]:
    return [kind for kind in KINDS.values() if context.role in kind.roles]


async def list_preferences() -> list[PreferenceOut]:
    """Each kind of event this person's role hears of, with the channels in
    force (their choice, or the kind's default)."""
    context = _me()
    rows = await scoped(NotificationPreference).select().where(NotificationPreference.user == context.user_id)
    stored = {row["kind"]: row for row in rows}
    items = []
    for kind in _relevant(context):
        row = stored.get(kind.name)
        in_app, email, push = _effective(kind, row["in_app"], row["email"], row["push"]) if row else (True, kind.email, kind.push)
        items.append(PreferenceOut(kind.name, kind.settings_label(), kind.urgent, in_app, email, push))
    return items


async def set_preferences(choices: list[PreferenceIn]) -> list[PreferenceOut]:
    """Save the person's channels per kind. Urgent kinds (a new order, a
    change to acknowledge, a rejection) cannot be switched off: the in-app
    notification stays."""
    context = _me()
    relevant = {kind.name: kind for kind in _relevant(context)}
    problems: dict[str, str] = {}
    for choice in choices:
        kind = relevant.get(choice.kind)
        if kind is None:
            problems[choice.kind] = N_("Unknown kind of notification.")
        elif choice.email not in EMAIL_MODES:
            problems[choice.kind] = N_("Choose instant, digest or off.")
        elif kind.urgent and not choice.in_app:
            problems[choice.kind] = N_("Urgent notifications cannot be switched off.")
    if problems:
        raise InvalidPreference(fields=problems)
    for choice in choices:
        values = {
            NotificationPreference.in_app: choice.in_app,
            NotificationPreference.email: choice.email,
            NotificationPreference.push: choice.push,
        }
        updated = await (
            scoped(NotificationPreference)
            .update({**values, NotificationPreference.updated_at: datetime.now(UTC)})
            .where((NotificationPreference.user == context.user_id) & (NotificationPreference.kind == choice.kind))
            .returning(NotificationPreference.id)
        )
        if not updated:
            row = scoped(NotificationPreference).new(
                user=context.user_id,
                supplier=context.supplier_id if context.is_supplier else None,
                kind=choice.kind,
                in_app=choice.in_app,
                email=choice.email,
                push=choice.push,
            )
            await row.save()
    return await list_preferences()
