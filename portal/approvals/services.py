"""Approvals: per-tenant rules, editable without code, that hold an action
until a named role approves it.

A domain that has an action worth holding does three things (orders do it
for issuing an order above an amount and for a revision that raises a
price):

1. ``register_action(kind, on_approved)`` once at import, with the function
   that performs the held action from the request's ``payload`` when the
   approver says yes (it runs in the approver's transaction, may raise a
   DomainError to refuse, and must not check the approver's own rights for
   the action: the rule is the right);
2. before acting, ``await rule_for(kind, amount)``: None means go ahead;
3. otherwise ``await hold(kind, record_type, record_id, label, payload,
   amount=..., currency=...)`` instead of acting, and tell the caller the
   action waits (``pending_for(record_type, record_id)`` shows it later).

The concession on nonconforming goods (``ncr.concession``,
portal/quality/ncrs.py) and the material write-off (``material.write_off``,
portal/handover/services.py) go through them too. The approver sees the waiting
requests on their home and at /approvals and decides with a comment; the
request and the decision are audited and notified.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from portal.approvals.tables import ApprovalRequest, ApprovalRule
from portal.audit.services import record
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.i18n import N_
from portal.lengths import FreeText
from portal.notifications.services import emit
from portal.pagination import read_time_cursor, time_cursor
from portal.quantities import CURRENCY_DECIMALS, decimals_of, plain
from tenants.context import TenantContext, current
from tenants.roles import BUYER_ROLES, Role
from tenants.scoping import scoped
from tenants.tables import Membership


@dataclass(frozen=True)
class KindInfo:
    label: str
    # Whether the rule has an amount above which it holds the action.
    has_amount: bool


KINDS: dict[str, KindInfo] = {
    "order.issue": KindInfo(N_("Issuing an order above an amount"), True),
    "order.price_increase": KindInfo(N_("A revision that raises a price"), False),
    "ncr.concession": KindInfo(N_("A concession (use as is) on nonconforming goods"), False),
    "material.write_off": KindInfo(N_("A material write-off"), True),
}
STATUS_LABELS = {
    "pending": N_("Waiting for a decision"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
}
PAGE_SIZE = 50
COMMENT_MAX = 1000
# Why a request was withdrawn (``withdraw``).
RECORD_CHANGED = N_("The record changed while this waited; asking again makes a new request.")
RECORD_ENDED = N_("The record was closed or cancelled while this waited.")

Action = Callable[[dict[str, Any]], Awaitable[None]]
_ACTIONS: dict[str, Action] = {}


def register_action(kind: str, on_approved: Action) -> None:
    """What performs a held action of ``kind`` once approved."""
    if kind not in KINDS:
        raise KeyError(f"unknown approval kind {kind!r}: add it to portal.approvals.services.KINDS")
    _ACTIONS[kind] = on_approved


class InvalidApproval(DomainError):
    code = "invalid_approval"
    message = N_("Some fields are missing or not valid.")


class OwnRequest(PermissionDenied):
    code = "own_request"
    message = N_("Someone else decides on what you asked for.")


class AlreadyDecided(Conflict):
    code = "approval_decided"
    message = N_("This request was already decided.")


# ---------------------------------------------------------------- rules


class RuleIn(msgspec.Struct, frozen=True):
    kind: str
    approver_role: str
    # For kinds with an amount: held above it (null: always held).
    threshold: Decimal | None = None
    active: bool = True


class RuleOut(msgspec.Struct, frozen=True):
    kind: str
    label: str
    approver_role: str
    threshold: Decimal | None
    active: bool
    has_amount: bool


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


async def list_rules() -> list[RuleOut]:
    """Every kind of action, with the tenant's rule (off until set)."""
    from portal.i18n import gettext

    _require("approvals.view")
    rows = {row["kind"]: row for row in await scoped(ApprovalRule).select()}
    found = []
    for kind, info in KINDS.items():
        row = rows.get(kind)
        found.append(
            RuleOut(
                kind=kind,
                label=gettext(info.label),
                approver_role=row["approver_role"] if row else Role.ADMIN.value,
                threshold=None if not row or row["threshold"] is None else plain(Decimal(str(row["threshold"]))),
                active=bool(row and row["active"]),
                has_amount=info.has_amount,
            )
        )
    return found


async def set_rules(rules: list[RuleIn]) -> list[RuleOut]:
    """Save the rules given (kinds left out keep theirs). A rule names a
    buyer role and, for kinds with an amount, the amount above which the
    action is held."""
    context = _require("approvals.configure")
    problems: dict[str, str] = {}
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.kind not in KINDS or rule.kind in seen:
            problems[f"{index}.kind"] = N_("Choose a kind of action, once each.")
        seen.add(rule.kind)
        if rule.approver_role not in {role.value for role in BUYER_ROLES}:
            problems[f"{index}.approver_role"] = N_("Choose the buyer role that decides.")
        if rule.threshold is not None and not _good_threshold(rule.threshold):
            problems[f"{index}.threshold"] = N_("An amount of zero or more, with at most two decimals.")
    if problems:
        raise InvalidApproval(fields=problems)
    before = {rule.kind: msgspec.to_builtins(rule) for rule in await list_rules()}
    now = datetime.now(UTC)
    for rule in rules:
        threshold = rule.threshold if KINDS[rule.kind].has_amount else None
        values = {
            ApprovalRule.approver_role: rule.approver_role,
            ApprovalRule.threshold: threshold,
            ApprovalRule.active: rule.active,
            ApprovalRule.updated_by: context.user_id,
            ApprovalRule.updated_at: now,
        }
        updated = await scoped(ApprovalRule).update(values).where(ApprovalRule.kind == rule.kind).returning(ApprovalRule.id)
        if not updated:
            await (
                scoped(ApprovalRule)
                .new(kind=rule.kind, approver_role=rule.approver_role, threshold=threshold, active=rule.active, updated_by=context.user_id)
                .save()
            )
    after = await list_rules()
    await record(
        "approval_rules.update",
        entity_type="tenant",
        entity_id=context.tenant_id,
        before=before,
        after={rule.kind: msgspec.to_builtins(rule) for rule in after},
    )
    return after


async def rule_for(kind: str, amount: Decimal | None = None) -> RuleOut | None:
    """The tenant's active rule that holds this action, or None to go ahead."""
    row = await scoped(ApprovalRule).select().where(ApprovalRule.kind == kind).where(ApprovalRule.active.eq(True)).first()
    if row is None:
        return None
    threshold = None if row["threshold"] is None else Decimal(str(row["threshold"]))
    # An action whose value is not known (material carries no price here) is
    # held whatever the rule's amount: an unknown value is no reason to let it pass.
    if KINDS[kind].has_amount and threshold is not None and amount is not None and amount <= threshold:
        return None
    return RuleOut(kind, KINDS[kind].label, row["approver_role"], threshold, True, KINDS[kind].has_amount)


MONEY_DECIMALS = max(CURRENCY_DECIMALS.values())


def _good_threshold(threshold: object) -> bool:
    """A threshold is money: zero or more, below 10^14, in cents at most (a
    form's text that is no number arrives as that text: parse_amount)."""
    if not isinstance(threshold, Decimal) or not threshold.is_finite():
        return False
    return 0 <= threshold < Decimal(10) ** 14 and decimals_of(threshold) <= MONEY_DECIMALS


def parse_amount(value: str) -> Decimal | str | None:
    """A form's amount: empty is None, a number a Decimal, else the text."""
    if not value.strip():
        return None
    try:
        return Decimal(value.strip())
    except ArithmeticError:
        return value


# ---------------------------------------------------------------- requests


class RequestOut(msgspec.Struct, frozen=True):
    id: UUID
    kind: str
    record_type: str
    record_id: UUID
    label: str
    amount: Decimal | None
    currency: str
    approver_role: str
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str
    link: str
    # Who asked: they never decide it themselves.
    requested_by_id: UUID | None = None


class DecisionIn(msgspec.Struct, frozen=True):
    approve: bool
    comment: FreeText = ""


LINKS = {"order": "/orders/{id}", "ncr": "/ncrs/{id}", "item": "/items/{id}"}


async def _out(row: dict[str, Any]) -> RequestOut:
    from portal.i18n import gettext
    from tenants.services.members import user_names

    names = await user_names({user for user in (row["requested_by"], row["decided_by"]) if user})
    payload = row["payload"] if isinstance(row["payload"], dict) else msgspec.json.decode(row["payload"] or "{}")
    comment = row["comment"]
    # A record with no page of its own (a handover's checklist entry) names its page in the payload.
    link = payload.get("link") or LINKS.get(row["record_type"], "").format(id=row["record_id"])
    return RequestOut(
        id=row["id"],
        kind=row["kind"],
        record_type=row["record_type"],
        record_id=row["record_id"],
        label=row["label"],
        amount=None if row["amount"] is None else plain(Decimal(str(row["amount"]))),
        currency=row["currency"],
        approver_role=row["approver_role"],
        status=row["status"],
        requested_by=names.get(row["requested_by"], ""),
        requested_at=row["requested_at"],
        decided_by=names.get(row["decided_by"]) if row["decided_by"] else None,
        decided_at=row["decided_at"],
        # A withdrawal's comment is the system's reason, a catalog text.
        comment=gettext(comment) if row["status"] == "withdrawn" else comment,
        link=link,
        requested_by_id=row["requested_by"],
    )


async def hold(
    kind: str,
    record_type: str,
    record_id: UUID,
    label: str,
    payload: dict[str, Any],
    rule: RuleOut,
    *,
    amount: Decimal | None = None,
    currency: str = "",
) -> RequestOut:
    """Hold the action: one pending request per record and kind (asking
    again while one waits replaces what it would do, not the queue)."""
    context = current()
    existing = (
        await scoped(ApprovalRequest)
        .select(ApprovalRequest.id)
        .where(ApprovalRequest.kind == kind)
        .where(ApprovalRequest.record_id == record_id)
        .where(ApprovalRequest.status == "pending")
        .first()
    )
    if existing is not None:
        await (
            scoped(ApprovalRequest)
            .update({ApprovalRequest.payload: payload, ApprovalRequest.amount: amount, ApprovalRequest.label: label[:200]})
            .where(ApprovalRequest.id == existing["id"])
        )
        request_id = existing["id"]
    else:
        row = scoped(ApprovalRequest).new(
            kind=kind,
            record_type=record_type,
            record_id=record_id,
            label=label[:200],
            amount=amount,
            currency=currency,
            payload=payload,
            approver_role=rule.approver_role,
            requested_by=context.user_id,
        )
        await row.save()
        request_id = row.id
    await record(
        "approval.request",
        entity_type=record_type,
        entity_id=record_id,
        after={
            "request": str(request_id),
            "kind": kind,
            "approver_role": rule.approver_role,
            "amount": None if amount is None else str(amount),
        },
    )
    approvers = await _members_with_role(rule.approver_role)
    await emit(
        "approval.requested",
        link=f"/approvals/{request_id}",
        params={"what": label, "who": context.user_name},
        users=approvers,
    )
    return await get_request(request_id, check=False)


async def _members_with_role(role: str) -> list[UUID]:
    rows = await scoped(Membership).select(Membership.user).where(Membership.role == role).where(Membership.active.eq(True))
    return [row["user"] for row in rows]


async def pending_for(record_type: str, record_id: UUID) -> list[RequestOut]:
    """The requests still waiting on a record (for its page)."""
    rows = (
        await scoped(ApprovalRequest)
        .select()
        .where(ApprovalRequest.record_type == record_type)
        .where(ApprovalRequest.record_id == record_id)
        .where(ApprovalRequest.status == "pending")
    )
    return [await _out(row) for row in rows]


async def withdraw(record_type: str, record_ids: list[UUID], reason: str, kinds: tuple[str, ...] = ()) -> None:
    """The record changed or ended while its requests waited (an order
    edited or cancelled, an NCR closed, a handover cancelled): what they
    would approve is no longer what was asked, so they leave the
    approvers' lists as withdrawn, with ``reason`` (a catalog text), rather
    than wait for a decision that can only be refused. ``kinds``: only
    these (all when empty)."""
    if not record_ids:
        return
    query = (
        scoped(ApprovalRequest)
        .update({ApprovalRequest.status: "withdrawn", ApprovalRequest.decided_at: datetime.now(UTC), ApprovalRequest.comment: reason})
        .where(ApprovalRequest.record_type == record_type)
        .where(ApprovalRequest.record_id.is_in(record_ids))
        .where(ApprovalRequest.status == "pending")
    )
    if kinds:
        query = query.where(ApprovalRequest.kind.is_in(list(kinds)))
    for row in await query.returning(ApprovalRequest.id, ApprovalRequest.record_id, ApprovalRequest.kind):
        await record(
            "approval.withdrawn",
            entity_type=record_type,
            entity_id=row["record_id"],
            before={"request": str(row["id"]), "status": "pending"},
            after={"request": str(row["id"]), "status": "withdrawn", "kind": row["kind"], "comment": reason},
        )


async def get_request(request_id: UUID | str, *, check: bool = True) -> RequestOut:
    if check:
        _require("approvals.view")
    row = await scoped(ApprovalRequest).select().where(ApprovalRequest.id == request_id).first()
    if row is None:
        raise NotFound()
    return await _out(row)


async def list_requests(status: str | None = None, mine: bool = False, cursor: str | None = None) -> tuple[list[RequestOut], str | None]:
    """Newest first; ``mine``: those the caller's role decides."""
    context = _require("approvals.view")
    query = scoped(ApprovalRequest).select()
    if status:
        query = query.where(ApprovalRequest.status == status)
    if mine:
        query = query.where(ApprovalRequest.approver_role == context.role.value)
    if cursor:
        at, key = read_time_cursor(cursor)
        query = query.where((ApprovalRequest.requested_at < at) | ((ApprovalRequest.requested_at == at) & (ApprovalRequest.id < key)))
    rows = (
        await query.order_by(ApprovalRequest.requested_at, ascending=False)
        .order_by(ApprovalRequest.id, ascending=False)
        .limit(PAGE_SIZE + 1)
    )
    found = [await _out(row) for row in rows[:PAGE_SIZE]]
    more = len(rows) > PAGE_SIZE
    return found, time_cursor(found[-1].requested_at, found[-1].id) if more and found else None


async def waiting_for_me() -> list[RequestOut]:
    """For the approver's home."""
    context = current()
    if not context.can("approvals.decide"):
        return []
    found, _ = await list_requests(status="pending", mine=True)
    return [request for request in found if request.requested_by_id != context.user_id]


async def decide(request_id: UUID | str, data: DecisionIn) -> RequestOut:
    """The named role approves (the held action is performed now, in the
    same transaction: if it cannot be, nothing is decided) or rejects, with
    a comment (required to reject)."""
    context = _require("approvals.decide")
    row = await scoped(ApprovalRequest).objects().where(ApprovalRequest.id == request_id).first()
    if row is None:
        raise NotFound()
    if row.approver_role != context.role.value:
        raise PermissionDenied()
    # Four eyes, as for statement adjustments: a rule that names the
    # requester's own role still needs another person of it to approve.
    # Rejecting is taking one's own request back: allowed.
    if data.approve and row.requested_by is not None and row.requested_by == context.user_id:
        raise OwnRequest()
    if row.status != "pending":
        raise AlreadyDecided()
    comment = data.comment.strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidApproval(fields={"comment": N_("At most 1000 characters.")})
    if not data.approve and not comment:
        raise InvalidApproval(fields={"comment": N_("Say why you reject it: the requester sees it.")})
    status = "approved" if data.approve else "rejected"
    updated = await (
        scoped(ApprovalRequest)
        .update(
            {
                ApprovalRequest.status: status,
                ApprovalRequest.decided_by: context.user_id,
                ApprovalRequest.decided_at: datetime.now(UTC),
                ApprovalRequest.comment: comment,
            }
        )
        .where(ApprovalRequest.id == row.id)
        .where(ApprovalRequest.status == "pending")
        .returning(ApprovalRequest.id)
    )
    if not updated:
        raise AlreadyDecided()
    if data.approve and row.kind in _ACTIONS:
        payload = row.payload if isinstance(row.payload, dict) else msgspec.json.decode(row.payload or "{}")
        await _ACTIONS[row.kind](payload)
    await record(
        f"approval.{status}",
        entity_type=row.record_type,
        entity_id=row.record_id,
        before={"request": str(row.id), "status": "pending"},
        after={"request": str(row.id), "status": status, "comment": comment},
    )
    if row.requested_by is not None:
        await emit(
            "approval.decided",
            link=LINKS.get(row.record_type, "/approvals/{id}").format(id=row.record_id if row.record_type in LINKS else row.id),
            params={"what": row.label, "decision": STATUS_LABELS[status], "comment": comment},
            users=[row.requested_by],
        )
    return await get_request(row.id)
