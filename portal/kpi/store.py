"""Scorecards kept per supplier and period, so that reading a month or the
board's twelve-month trend costs a few indexed rows instead of a pass over
every order line (docs/kpi.md, "Precomputed figures").

The ``kpi.scorecards`` job (every 15 minutes, once per cluster) computes
the current month and quarter, the twelve months before them and their
quarters, for every tenant, whenever they are missing or stale. A reader
never computes: it finds a kept period stale by the same rule and answers
the kept figures flagged ``stale``, or pending cards without figures for a
period never computed, and queues a ``kpi.refresh`` of that period (once);
the next read after it ran has what a fresh computation gives. The period
running now is served as of the job's last run.

A period is stale when:

- a supplier the caller sees has no row for it, or its rows were taken in
  another time zone than the tenant's;
- it was computed while it was running and it has ended since;
- a record it is computed from changed after it was computed: an order
  issued, cancelled or rejected, or revised (the months of its lines' due
  dates, old and new, of its issue and acceptance), a delivery changed
  (the month of its receipt), an NCR issued or cancelled (the month of its
  issue; those of its containment and closure). An order's other changes,
  receipts and QA decisions made now land in the period running now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import structlog
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from portal.db import get_engine
from portal.deliveries.tables import Delivery
from portal.jobs.queue import enqueue
from portal.kpi.tables import ScorecardFigures
from portal.orders.tables import Order, OrderLine, OrderRevision
from portal.quality import scorecards
from portal.quality.ncr_states import Status as NcrStatus
from portal.quality.scorecards import Scorecard
from portal.quality.tables import Ncr, NcrStep
from tenants.context import current, operator_context, system_scope, tenant_scope
from tenants.scoping import scoped
from tenants.tables import Supplier, Tenant

log = structlog.get_logger(__name__)

# A change is stamped (updated_at) when its request builds it and becomes
# visible when it commits; one stamped up to this long before a computation
# began may still be missing from it, so it marks the period stale again.
OVERLAP = timedelta(minutes=1)
# More changed orders than this since a period was computed: every period
# asked for is recomputed rather than working out which ones they touch.
MANY_CHANGES = 2000
MONTHS_KEPT = 12


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_of(label: str) -> str:
    """The quarter a month ``YYYY-MM`` belongs to (a quarter is its own)."""
    if "Q" in label:
        return label
    return f"{label[:4]}-Q{(int(label[5:7]) - 1) // 3 + 1}"


def months_back(today: date, months: int) -> list[str]:
    """``months`` month labels up to the one holding ``today``, oldest first."""
    labels = []
    year, month = today.year, today.month
    for _ in range(months):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels[::-1]


def _running(now: datetime, zone: str) -> set[str]:
    """The month and the quarter that ``now`` falls in: served as of the last
    run, since every receipt would otherwise make them stale."""
    month = month_of(now.astimezone(ZoneInfo(zone)).date())
    return {month, quarter_of(month)}


async def _touched(since: datetime, zone: str) -> dict[str, datetime] | None:
    """Period labels (months and quarters) that records changed at or after
    ``since`` are computed from, each with its latest change; None when too
    much changed to tell."""
    tz = ZoneInfo(zone)
    touched: dict[str, datetime] = {}

    def mark(when: date | datetime | None, stamp: datetime) -> None:
        if when is None:
            return
        day = when.astimezone(tz).date() if isinstance(when, datetime) else when
        for label in (month_of(day), quarter_of(month_of(day))):
            touched[label] = max(touched.get(label, stamp), stamp)

    # Orders that left the counted states (cancelled, rejected) or entered
    # them (issued): their lines join or leave the months they are due in.
    # Anything else an order goes through while counted (acceptance,
    # production, receipts, revisions, which a past period undoes) lands in
    # the running period.
    counted = list(scorecards.COUNTED_ORDER_STATES)
    orders = (
        await scoped(Order)
        .select(Order.id, Order.updated_at, Order.issued_at, Order.accepted_at)
        .where(Order.updated_at >= since)
        .where(Order.status.not_in(counted) | (Order.issued_at >= since))
        .limit(MANY_CHANGES + 1)
    )
    # A revision moves lines between the months after it (the running one
    # and later): those of the lines' due dates, old and new.
    revised = (
        await scoped(OrderRevision)
        .select(OrderRevision.order, OrderRevision.order.updated_at)
        .where(OrderRevision.created_at >= since)
        # Made with the order's change: its stamp is the order's.
        .where(OrderRevision.order.updated_at >= since)
        .limit(MANY_CHANGES + 1)
    )
    if len(orders) > MANY_CHANGES or len(revised) > MANY_CHANGES:
        return None
    stamps = {row["id"]: row["updated_at"] for row in orders}
    for row in orders:
        mark(row["issued_at"], row["updated_at"])
        mark(row["accepted_at"], row["updated_at"])
    for row in revised:
        stamps[row["order"]] = row["order.updated_at"]
    if stamps:
        lines = await scoped(OrderLine).select(OrderLine.order, OrderLine.due_date).where(OrderLine.order.is_in(list(stamps)))
        for line in lines:
            mark(scorecards._as_date(line["due_date"]), stamps[line["order"]])
        # A revision's old due dates: the months a line was due in as they
        # stood before it.
        revisions = scoped(OrderRevision).select(OrderRevision.order, OrderRevision.diff)
        for revision in await revisions.where(OrderRevision.order.is_in(list(stamps))):
            for change in scorecards._diff(revision["diff"]).get("lines", []):
                for value in change.get("fields", {}).get("due_date", []) or []:
                    if value:
                        mark(date.fromisoformat(str(value)), stamps[revision["order"]])
    for row in await scoped(Delivery).select(Delivery.updated_at, Delivery.received_at).where(Delivery.updated_at >= since):
        mark(row["received_at"], row["updated_at"])
    ncrs = await scoped(Ncr).select(Ncr.id, Ncr.updated_at, Ncr.issued_at, Ncr.closed_at, Ncr.status).where(Ncr.updated_at >= since)
    ncr_stamps = {row["id"]: row["updated_at"] for row in ncrs}
    for row in ncrs:
        # A cancelled NCR leaves the count of the month it was issued in.
        if row["status"] == NcrStatus.CANCELLED.value or (row["issued_at"] is not None and row["issued_at"] >= since):
            mark(row["issued_at"], row["updated_at"])
        mark(row["closed_at"], row["updated_at"])
    if ncr_stamps:
        steps = await scoped(NcrStep).select(NcrStep.ncr, NcrStep.accepted_at).where(NcrStep.ncr.is_in(list(ncr_stamps)))
        for step in steps:
            mark(step["accepted_at"], ncr_stamps[step["ncr"]])
    return touched


async def _stale(
    labels: list[str], rows: dict[str, dict[UUID, Any]], suppliers: set[UUID], now: datetime, *, missing_is_stale: bool = True
) -> set[str]:
    """The labels whose kept rows no longer give what a computation would.
    With ``missing_is_stale`` False, a supplier without a row (and a label
    without any) does not count: the reader computes those itself."""
    zone = current().time_zone
    running = _running(now, zone)
    stale: set[str] = set()
    covers: dict[str, datetime] = {}
    for label in labels:
        stored = rows.get(label, {})
        if (missing_is_stale and not suppliers <= set(stored)) or any(row["time_zone"] != zone for row in stored.values()):
            stale.add(label)
            continue
        if not stored or label in running:
            continue
        if not all(row["ended"] for row in stored.values()) and now >= scorecards.parse_period(label, zone).end:
            stale.add(label)
            continue
        covers[label] = min(row["covers_until"] for row in stored.values())
    if covers:
        touched = await _touched(min(covers.values()), zone)
        for label, cover in covers.items():
            if touched is None or (label in touched and touched[label] >= cover):
                stale.add(label)
    return stale


async def _store(cards: Iterable[Scorecard], covers_until: datetime, ended: bool) -> list[Scorecard]:
    zone = current().time_zone
    kept = []
    rows = []
    for card in cards:
        card = msgspec.structs.replace(card, rank=None, computed_at=covers_until + OVERLAP)
        kept.append(card)
        rows.append(
            scoped(ScorecardFigures).new(
                supplier=card.supplier_id,
                period=card.period,
                time_zone=zone,
                figures=msgspec.json.encode(card).decode(),
                covers_until=covers_until,
                ended=ended,
                computed_at=covers_until + OVERLAP,
            )
        )
    if rows:
        await ScorecardFigures.insert(*rows).on_conflict(
            target=(ScorecardFigures.tenant, ScorecardFigures.period, ScorecardFigures.supplier),
            action="DO UPDATE",
            values=[
                ScorecardFigures.time_zone,
                ScorecardFigures.figures,
                ScorecardFigures.covers_until,
                ScorecardFigures.ended,
                ScorecardFigures.computed_at,
            ],
        )
    return kept


async def _compute(label: str, now: datetime) -> list[Scorecard]:
    """A fresh computation of ``label``, stored for the suppliers it covered."""
    started = datetime.now(UTC)
    ended = now >= scorecards.parse_period(label, current().time_zone).end
    return await _store(await scorecards.compute(label), started - OVERLAP, ended)


def pending_card(supplier: dict[str, Any], period: scorecards.Period) -> Scorecard:
    """A supplier's card for a period never computed for it: who and when,
    no figures (null, not zero: nothing was counted yet)."""
    return Scorecard(
        supplier_id=supplier["id"],
        supplier_code=supplier["code"],
        supplier_name=supplier["name"],
        period=period.label,
        start=period.start,
        end=period.end,
        lines_due=None,
        lines_on_time=None,
        on_time_rate=None,
        quantity_inspected=None,
        quantity_accepted=None,
        first_pass_yield=None,
        qc_reviews=None,
        qc_rejections=None,
        qc_rejection_rate=None,
        ncrs=None,
        mean_hours_to_contain=None,
        mean_hours_to_close=None,
        mean_hours_to_accept_orders=None,
        mean_hours_to_acknowledge_revisions=None,
        stale=True,
        pending=True,
    )


async def load(labels: list[str], now: datetime | None = None) -> dict[str, list[Scorecard]]:
    """The kept cards of every supplier the caller sees for each period.

    A read never computes a period (seconds at a million order lines): a
    period whose rows went stale is answered with them as they are,
    ``stale`` and with their ``computed_at``; a supplier without a row for
    it (a period never computed: before the tenant's first run of the job,
    older than the months it keeps, or a new supplier) gets a pending card
    without figures. Either way the period's refresh is queued
    (``kpi.refresh``), once."""
    now = now or datetime.now(UTC)
    zone = current().time_zone
    suppliers = {row["id"]: row for row in await scoped(Supplier).select(Supplier.id, Supplier.code, Supplier.name)}
    query = scoped(ScorecardFigures).select(
        ScorecardFigures.period,
        ScorecardFigures.supplier,
        ScorecardFigures.time_zone,
        ScorecardFigures.figures,
        ScorecardFigures.covers_until,
        ScorecardFigures.ended,
        ScorecardFigures.computed_at,
    )
    rows: dict[str, dict[UUID, Any]] = defaultdict(dict)
    for row in await query.where(ScorecardFigures.period.is_in(labels)):
        if row["supplier"] in suppliers:
            rows[row["period"]][row["supplier"]] = row
    stale = await _stale(labels, rows, set(suppliers), now, missing_is_stale=False)
    found: dict[str, list[Scorecard]] = {}
    for label in labels:
        kept = rows.get(label, {})
        cards = [msgspec.json.decode(row["figures"], type=Scorecard) for row in kept.values()]
        if label in stale:
            cards = [msgspec.structs.replace(card, stale=True) for card in cards]
        missing = [suppliers[key] for key in suppliers if key not in kept]
        if missing:
            period = scorecards.parse_period(label, zone)
            cards += [pending_card(supplier, period) for supplier in missing]
        if missing or label in stale:
            await _queue_refresh(label, kept)
        found[label] = cards
    return found


async def _queue_refresh(label: str, kept: dict[UUID, Any]) -> None:
    """Queue the computation of ``label`` for the tenant in scope, once per
    state of its kept rows (the job's key names their latest computation),
    in a transaction of its own: the reader's may be read-only, and the
    refresh is wanted whether or not the read succeeds."""
    context = current()
    stamp = max((row["computed_at"] for row in kept.values()), default=None)
    key = f"kpi.refresh:{context.tenant_id}:{label}:{stamp.isoformat() if stamp else 'none'}"
    engine = get_engine()
    payload = {"tenant_id": context.tenant_id, "period": label}
    running = engine.current_transaction.get()
    if isinstance(engine, SQLiteEngine) and running is not None and running.transaction_type != TransactionType.deferred:
        # A SQLite write transaction (a service call, a job) holds the one
        # write lock: a second transaction would wait for it in vain.
        await enqueue("kpi.refresh", payload, unique_key=key, tenant=context.tenant_id)
        return
    outer = engine.current_transaction.set(None)
    try:
        await enqueue("kpi.refresh", payload, unique_key=key, tenant=context.tenant_id)
    finally:
        engine.current_transaction.reset(outer)


async def refresh_period_job(payload: dict[str, Any]) -> None:
    """``kpi.refresh``: compute one period of one tenant and keep it (a
    reader found it stale or missing)."""
    async with system_scope("scorecards"):
        tenant = await Tenant.objects().where(Tenant.id == UUID(str(payload["tenant_id"]))).first()
    if tenant is None:
        return
    async with tenant_scope(operator_context(tenant, "scorecards")):
        await _compute(str(payload["period"]), datetime.now(UTC))


async def cards(period_text: str, supplier_id: UUID | None = None, now: datetime | None = None) -> list[Scorecard]:
    """``GET /api/v1/scorecards``: the period's cards as stored, ranked for
    buyers; the same figures as ``scorecards.scorecards`` computes."""
    context = current()
    scorecards.require_view()
    period = scorecards.parse_period(period_text, context.time_zone)
    if supplier_id is not None and not await scoped(Supplier).exists().where(Supplier.id == supplier_id):
        # A supplier the caller may not see reads as none, and a refused id
        # changes nothing (not even a queued refresh).
        return []
    found = (await load([period.label], now))[period.label]
    if supplier_id is not None:
        found = [card for card in found if card.supplier_id == supplier_id]
    found.sort(key=lambda card: card.supplier_code)
    return found if context.is_supplier else scorecards.rank(found)


class TrendPoint(msgspec.Struct, frozen=True):
    period: str
    on_time_rate: float | None
    first_pass_yield: float | None
    qc_rejection_rate: float | None
    # Never computed for the suppliers the caller sees: a gap, being computed.
    pending: bool = False


class _Counts(msgspec.Struct):
    """What the trend adds up of a kept card (the rest of its JSON is skipped)."""

    lines_due: int | None = None
    lines_on_time: int | None = None
    quantity_inspected: Decimal | None = None
    quantity_accepted: Decimal | None = None
    qc_reviews: int | None = None
    qc_rejections: int | None = None


_COUNTS = msgspec.json.Decoder(_Counts)


async def trend(months: int = MONTHS_KEPT, now: datetime | None = None) -> list[TrendPoint]:
    """The last ``months`` complete months (the one before the running month
    last), every supplier the caller sees taken together: lines on time over
    lines due, quantity accepted over quantity inspected, rejections over QA
    decisions. The running month is left out: its lines due later in it
    would show as missed.

    One read of the kept rows of those months, as they are: no staleness
    check and no computation (the periodic job refreshes a stale month
    within its 15 minutes). A month without any kept row is a gap marked
    ``pending``, and its ``kpi.refresh`` is queued once."""
    scorecards.require_view()
    now = now or datetime.now(UTC)
    labels = months_back(now.astimezone(ZoneInfo(current().time_zone)).date(), months + 1)[:-1]
    suppliers = {row["id"] for row in await scoped(Supplier).select(Supplier.id)}
    query = scoped(ScorecardFigures).select(ScorecardFigures.period, ScorecardFigures.supplier, ScorecardFigures.figures)
    kept: dict[str, list[_Counts]] = {label: [] for label in labels}
    for row in await query.where(ScorecardFigures.period.is_in(labels)):
        if row["supplier"] in suppliers:
            kept[row["period"]].append(_COUNTS.decode(row["figures"]))
    points = []
    for label in labels:
        found = kept[label]
        pending = not found and bool(suppliers)
        if pending:
            await _queue_refresh(label, {})
        due = sum(card.lines_due or 0 for card in found)
        inspected = sum((card.quantity_inspected or Decimal(0) for card in found), Decimal(0))
        reviews = sum(card.qc_reviews or 0 for card in found)
        points.append(
            TrendPoint(
                period=label,
                on_time_rate=scorecards.rate(sum(card.lines_on_time or 0 for card in found), due),
                first_pass_yield=scorecards.rate(sum((card.quantity_accepted or Decimal(0) for card in found), Decimal(0)), inspected),
                qc_rejection_rate=scorecards.rate(sum(card.qc_rejections or 0 for card in found), reviews),
                pending=pending,
            )
        )
    return points


def kept_periods(today: date) -> list[str]:
    """What the job keeps: the current month, the twelve before it, and
    their quarters."""
    months = months_back(today, MONTHS_KEPT + 1)
    return months + sorted({quarter_of(label) for label in months})


async def refresh_tenant(now: datetime) -> list[str]:
    """Compute the kept periods of the tenant in scope that are missing or
    stale, and the running month and quarter; the labels computed."""
    context = current()
    labels = kept_periods(now.astimezone(ZoneInfo(context.time_zone)).date())
    suppliers = {row["id"] for row in await scoped(Supplier).select(Supplier.id)}
    rows: dict[str, dict[UUID, Any]] = defaultdict(dict)
    query = scoped(ScorecardFigures).select(
        ScorecardFigures.period,
        ScorecardFigures.supplier,
        ScorecardFigures.time_zone,
        ScorecardFigures.covers_until,
        ScorecardFigures.ended,
    )
    for row in await query.where(ScorecardFigures.period.is_in(labels)):
        rows[row["period"]][row["supplier"]] = row
    due = await _stale(labels, rows, suppliers, now) | _running(now, context.time_zone)
    done = [label for label in labels if label in due]
    for label in done:
        await _compute(label, now)
    return done


async def refresh(now: datetime | None = None) -> dict[str, list[str]]:
    """One round over every tenant (the periodic ``kpi.scorecards`` job);
    tests call it with the time they want."""
    now = now or datetime.now(UTC)
    async with system_scope("scorecards"):
        tenants = await Tenant.objects()
    done = {}
    for tenant in tenants:
        async with tenant_scope(operator_context(tenant, "scorecards")):
            done[tenant.slug] = await refresh_tenant(now)
        if done[tenant.slug]:
            log.info("scorecards.refreshed", tenant=tenant.slug, periods=done[tenant.slug])
    return done


async def refresh_job(payload: dict[str, Any]) -> None:
    """The periodic ``kpi.scorecards`` job."""
    await refresh()
