"""Response-time rules: how long a supplier has to accept an order,
acknowledge a revision and confirm a dispatch's receipt; a reminder before
the limit, an escalation to the supplier admin and the responsible planner
after it; early warning when a line's reported progress falls behind plan,
and overdue lines. Every breach is recorded with its times for the KPIs.

``check(now)`` does one round for every tenant; the periodic
``sla.check`` job calls it every five minutes (once per cluster), tests
call it with the time they want.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import structlog

from portal.days import local_minutes, utc_at
from portal.errors import DomainError
from portal.i18n import N_
from portal.materials.tables import Dispatch
from portal.notifications.services import emit
from portal.orders.tables import Order, OrderLine, OrderRevision
from portal.progress.tables import ProgressReport
from portal.sla.tables import ResponseBreach, ResponseRule
from tenants.context import current, operator_context, system_scope, tenant_scope
from tenants.roles import Role
from tenants.scoping import scoped
from tenants.tables import Membership, Tenant

log = structlog.get_logger(__name__)

LIMITS = {
    "accept_hours": (1, 24 * 30),
    "acknowledge_hours": (1, 24 * 30),
    "receipt_hours": (1, 24 * 30),
    "remind_before_hours": (0, 24 * 7),
    "progress_margin_percent": (1, 100),
    "progress_stale_hours": (1, 24 * 30),
}
# What each kind of breach asks of the supplier, for the messages.
WHAT = {
    "accept": N_("Accept order"),
    "acknowledge": N_("Acknowledge the change to order"),
    "receipt": N_("Confirm the receipt of dispatch"),
    "overdue": N_("Finish order line"),
}
WORKING = ("accepted", "in_production", "partially_delivered")
OUT_OF_RANGE = N_("A whole number: hours 1 to 720, the reminder 0 to 168 hours before, the margin 1 to 100 percent.")


class InvalidRule(DomainError):
    code = "invalid_rule"
    message = N_("Some fields are missing or not valid.")


class RuleIn(msgspec.Struct, frozen=True):
    accept_hours: int = 48
    acknowledge_hours: int = 24
    receipt_hours: int = 72
    remind_before_hours: int = 8
    progress_margin_percent: int = 20
    # Hours without progress on a line before it is reminded (due soon) or
    # escalated (late).
    progress_stale_hours: int = 24


class RuleOut(RuleIn, frozen=True):
    updated_at: datetime | None = None


# ---------------------------------------------------------------- the rule


async def get_rule() -> RuleOut:
    """The tenant's rule (the defaults until its admin saves one)."""
    row = await scoped(ResponseRule).select().first()
    if row is None:
        return RuleOut()
    return RuleOut(**{name: row[name] for name in LIMITS}, updated_at=row["updated_at"])


async def set_rule(data: RuleIn) -> RuleOut:
    """Save the tenant's response times (hours, whole numbers) and the
    progress margin (percent)."""
    from portal.audit.services import record

    context = current()
    problems = {name: OUT_OF_RANGE for name, (low, high) in LIMITS.items() if not low <= getattr(data, name) <= high}
    if problems:
        raise InvalidRule(fields=problems)
    values = {getattr(ResponseRule, name): getattr(data, name) for name in LIMITS}
    updated = await (
        scoped(ResponseRule)
        .update({**values, ResponseRule.updated_by: context.user_id, ResponseRule.updated_at: datetime.now(UTC)})
        .returning(ResponseRule.id)
    )
    if not updated:
        row = scoped(ResponseRule).new(**{name: getattr(data, name) for name in LIMITS}, updated_by=context.user_id)
        # Saved twice at once (a double tap): the second insert waits for
        # the first to commit and sets the same limits on its row.
        await ResponseRule.insert(row).on_conflict(
            target=(ResponseRule.tenant,), action="DO UPDATE", values=[*values, ResponseRule.updated_by, ResponseRule.updated_at]
        )
    await record("response_rule.update", entity_type="tenant", entity_id=context.tenant_id, after=msgspec.to_builtins(data))
    return await get_rule()


# ---------------------------------------------------------------- one round


@dataclass(frozen=True)
class Due:
    kind: str
    record_type: str
    record_id: UUID
    supplier: UUID
    due_at: datetime
    number: str
    link: str
    planner: UUID | None


async def check_job(payload: dict[str, Any]) -> None:
    """The periodic ``sla.check`` job."""
    await check()


async def check(now: datetime | None = None) -> dict[str, int]:
    """One round over every tenant: reminders, escalations, warnings and
    resolutions due at ``now``. Safe to run again: each breach is told once
    per step."""
    now = now or datetime.now(UTC)
    async with system_scope("sla"):
        tenants = await Tenant.objects()
    totals: dict[str, int] = {}
    for tenant in tenants:
        async with tenant_scope(operator_context(tenant, "response-times")):
            for name, count in (await _check_tenant(tenant, now)).items():
                totals[name] = totals.get(name, 0) + count
    return totals


async def _check_tenant(tenant: Any, now: datetime) -> dict[str, int]:
    rule = await get_rule()
    counts = {"reminded": 0, "escalated": 0, "resolved": 0, "behind_plan": 0, "overdue": 0}
    pending = await _pending(rule)
    open_rows = await scoped(ResponseBreach).objects().where(ResponseBreach.resolved_at.is_null())
    by_key = {(row.kind, row.record_id): row for row in open_rows}
    for item in pending:
        row = by_key.pop((item.kind, item.record_id), None)
        if row is None:
            if now < item.due_at - timedelta(hours=rule.remind_before_hours):
                continue
            row = scoped(ResponseBreach).new(
                supplier=item.supplier,
                kind=item.kind,
                record_type=item.record_type,
                record_id=item.record_id,
                label=item.number,
                due_at=item.due_at,
            )
            inserted = await ResponseBreach.insert(row).on_conflict(action="DO NOTHING").returning(ResponseBreach.id)
            if not inserted:
                continue
        if now >= item.due_at and row.escalated_at is None:
            await _escalate(item, tenant)
            await scoped(ResponseBreach).update({ResponseBreach.escalated_at: now}).where(ResponseBreach.id == row.id)
            counts["escalated"] += 1
        elif now < item.due_at and row.reminded_at is None:
            await emit(
                "sla.reminder",
                link=item.link,
                supplier=item.supplier,
                record=(item.record_type, item.record_id),
                params={"what": WHAT[item.kind], "number": item.number, "due": local_minutes(item.due_at, tenant.time_zone)},
            )
            await scoped(ResponseBreach).update({ResponseBreach.reminded_at: now}).where(ResponseBreach.id == row.id)
            counts["reminded"] += 1
    # What is no longer pending was done: resolved now (lines: below).
    for (kind, _record), row in by_key.items():
        if kind in ("accept", "acknowledge", "receipt"):
            await scoped(ResponseBreach).update({ResponseBreach.resolved_at: now}).where(ResponseBreach.id == row.id)
            counts["resolved"] += 1
    warned = await _progress(tenant, rule, now)
    counts["behind_plan"], counts["overdue"] = warned
    return counts


async def _pending(rule: RuleOut) -> list[Due]:
    items: list[Due] = []
    orders = (
        await scoped(Order)
        .select(Order.id, Order.number, Order.supplier, Order.issued_at, Order.created_by)
        .where((Order.status == "issued") & Order.issued_at.is_not_null())
    )
    for order in orders:
        due = order["issued_at"] + timedelta(hours=rule.accept_hours)
        items.append(
            Due("accept", "order", order["id"], order["supplier"], due, order["number"], f"/orders/{order['id']}", order["created_by"])
        )
    revisions = await (
        scoped(OrderRevision)
        .select(
            OrderRevision.id,
            OrderRevision.order,
            OrderRevision.created_at,
            OrderRevision.order.number,
            OrderRevision.order.supplier,
            OrderRevision.order.created_by,
        )
        .where(OrderRevision.acknowledged_at.is_null())
        .where(OrderRevision.order.status.not_in(["closed", "cancelled", "draft"]))
    )
    for revision in revisions:
        due = revision["created_at"] + timedelta(hours=rule.acknowledge_hours)
        items.append(
            Due(
                "acknowledge",
                "revision",
                revision["id"],
                revision["order.supplier"],
                due,
                revision["order.number"],
                f"/orders/{revision['order']}",
                revision["order.created_by"],
            )
        )
    dispatches = (
        await scoped(Dispatch)
        .select(Dispatch.id, Dispatch.number, Dispatch.supplier, Dispatch.sent_at, Dispatch.sent_by)
        .where((Dispatch.status == "sent") & Dispatch.sent_at.is_not_null())
    )
    for dispatch in dispatches:
        due = dispatch["sent_at"] + timedelta(hours=rule.receipt_hours)
        items.append(
            Due(
                "receipt",
                "dispatch",
                dispatch["id"],
                dispatch["supplier"],
                due,
                dispatch["number"],
                f"/materials/dispatches/{dispatch['id']}",
                dispatch["sent_by"],
            )
        )
    return items


async def _escalate(item: Due, tenant: Any) -> None:
    """To the supplier's admins and the planner who issued (or sent) it."""
    admins = (
        await scoped(Membership)
        .select(Membership.user)
        .where((Membership.supplier == item.supplier) & (Membership.role == Role.SUPPLIER_ADMIN.value) & Membership.active.eq(True))
    )
    users = [row["user"] for row in admins] + ([item.planner] if item.planner else [])
    await emit(
        "sla.escalated",
        link=item.link,
        supplier=item.supplier,
        record=(item.record_type, item.record_id),
        users=users,
        params={"what": WHAT[item.kind], "number": item.number, "due": local_minutes(item.due_at, tenant.time_zone)},
    )


async def _progress(tenant: Any, rule: RuleOut, now: datetime) -> tuple[int, int]:
    """Lines of orders at work. Behind plan (the good share reported lags
    the elapsed share of issue-to-due time by more than the margin): one
    early warning. Due within the reminder window with no progress for
    ``progress_stale_hours``: a reminder to the supplier's people; past due
    with no progress for as long: escalated to the supplier admin and the
    planner (a late line still being worked on is recorded, and escalated
    once its progress stops). A line finished, or no longer at work,
    resolves its breaches; a line caught up resolves its behind-plan one."""
    lines = await (
        scoped(OrderLine)
        .select(
            OrderLine.id,
            OrderLine.line_no,
            OrderLine.quantity,
            OrderLine.delivered_quantity,
            OrderLine.due_date,
            OrderLine.order,
            OrderLine.order.number,
            OrderLine.order.supplier,
            OrderLine.order.issued_at,
            OrderLine.order.created_by,
        )
        .where(OrderLine.removed.eq(False))
        .where(OrderLine.order.status.is_in(list(WORKING)))
    )
    reported: dict[Any, Decimal] = {}
    latest: dict[Any, datetime] = {}
    if lines:
        for report in (
            await scoped(ProgressReport)
            .select(ProgressReport.order_line, ProgressReport.good_quantity, ProgressReport.made_at, ProgressReport.received_at)
            .where(ProgressReport.order_line.is_in([line["id"] for line in lines]))
        ):
            key = report["order_line"]
            reported[key] = reported.get(key, Decimal(0)) + Decimal(report["good_quantity"])
            # Made offline earlier counts from when it was made, never from a
            # time after it reached the server.
            made = min(report["made_at"], report["received_at"])
            latest[key] = max(latest.get(key, made), made)
    breaches = {
        (row.kind, row.record_id): row
        for row in await scoped(ResponseBreach).objects().where(ResponseBreach.kind.is_in(["behind_plan", "overdue"]))
    }
    zone = ZoneInfo(tenant.time_zone)
    stale_after = timedelta(hours=rule.progress_stale_hours)
    remind_from = timedelta(hours=rule.remind_before_hours)
    margin = Decimal(rule.progress_margin_percent) / 100
    behind = overdue = 0
    open_lines = set()
    for line in lines:
        quantity = Decimal(line["quantity"])
        done = max(reported.get(line["id"], Decimal(0)), Decimal(line["delivered_quantity"]))
        if quantity <= 0 or done >= quantity or line["order.issued_at"] is None:
            continue
        open_lines.add(line["id"])
        due_at = utc_at(line["due_date"], time(23, 59), zone)
        stale = now - latest.get(line["id"], line["order.issued_at"]) >= stale_after
        span = (due_at - line["order.issued_at"]).total_seconds()
        elapsed = Decimal(max((now - line["order.issued_at"]).total_seconds(), 0) / span) if span > 0 else Decimal(1)
        lagging = now <= due_at and elapsed - done / quantity > margin
        warning = breaches.get(("behind_plan", line["id"]))
        if warning is not None and warning.resolved_at is None and not lagging and now <= due_at:
            await scoped(ResponseBreach).update({ResponseBreach.resolved_at: now}).where(ResponseBreach.id == warning.id)
        elif warning is None and lagging and await _line_breach(line, "behind_plan", due_at, reminded_at=now):
            await emit("progress.behind", **_line_event(line))
            behind += 1
        late = breaches.get(("overdue", line["id"]))
        if late is not None and late.resolved_at is not None:
            continue
        if now >= due_at:
            if late is None:
                late = await _line_breach(line, "overdue", due_at)
            if late is not None and late.escalated_at is None and stale:
                await _escalate_line(line)
                await scoped(ResponseBreach).update({ResponseBreach.escalated_at: now}).where(ResponseBreach.id == late.id)
                overdue += 1
        elif now >= due_at - remind_from and stale and (late is None or late.reminded_at is None):
            late = late or await _line_breach(line, "overdue", due_at)
            if late is not None:
                await emit(
                    "sla.reminder",
                    link=f"/orders/{line['order']}",
                    supplier=line["order.supplier"],
                    record=("order_line", line["id"]),
                    params={"what": WHAT["overdue"], "number": _line_label(line), "due": local_minutes(due_at, tenant.time_zone)},
                )
                await scoped(ResponseBreach).update({ResponseBreach.reminded_at: now}).where(ResponseBreach.id == late.id)
    # Finished, or its order is no longer at work: nothing is owed any more.
    for (_kind, record_id), row in breaches.items():
        if row.resolved_at is None and record_id not in open_lines:
            await scoped(ResponseBreach).update({ResponseBreach.resolved_at: now}).where(ResponseBreach.id == row.id)
    return behind, overdue


def _line_label(line: dict[str, Any]) -> str:
    return f"{line['order.number']}/{line['line_no']}"


def _line_event(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "link": f"/orders/{line['order']}",
        "supplier": line["order.supplier"],
        "record": ("order_line", line["id"]),
        "params": {"number": line["order.number"], "line": line["line_no"], "due": line["due_date"].isoformat()},
    }


async def _line_breach(line: dict[str, Any], kind: str, due_at: datetime, reminded_at: datetime | None = None) -> Any:
    """The line's breach of ``kind``, recorded now; None when a concurrent
    round recorded it first (that round tells)."""
    row = scoped(ResponseBreach).new(
        supplier=line["order.supplier"],
        kind=kind,
        record_type="order_line",
        record_id=line["id"],
        label=_line_label(line),
        due_at=due_at,
        reminded_at=reminded_at,
    )
    if not await ResponseBreach.insert(row).on_conflict(action="DO NOTHING").returning(ResponseBreach.id):
        return None
    return row


async def _escalate_line(line: dict[str, Any]) -> None:
    """A late line, to the supplier's admins and the planner who issued the order."""
    admins = (
        await scoped(Membership)
        .select(Membership.user)
        .where(
            (Membership.supplier == line["order.supplier"]) & (Membership.role == Role.SUPPLIER_ADMIN.value) & Membership.active.eq(True)
        )
    )
    users = [row["user"] for row in admins] + ([line["order.created_by"]] if line["order.created_by"] else [])
    await emit("progress.overdue", users=users, **_line_event(line))


async def breaches(since: datetime | None = None, supplier_id: UUID | None = None) -> list[dict[str, Any]]:
    """For the KPIs: every breach recorded (newest due first), with its
    times; ``escalated_at`` set means the limit passed before it was done."""
    query = scoped(ResponseBreach).select()
    if since is not None:
        query = query.where(ResponseBreach.due_at >= since)
    if supplier_id is not None:
        query = query.where(ResponseBreach.supplier == supplier_id)
    rows: list[dict[str, Any]] = await query.order_by(ResponseBreach.due_at, ascending=False)
    return rows


async def ensure_demo_rule(values: Iterable[tuple[str, int]] = ()) -> None:
    """The demo tenant's rule (idempotent)."""
    if await scoped(ResponseRule).exists():
        return
    row = scoped(ResponseRule).new(**dict(values))
    await row.save()
