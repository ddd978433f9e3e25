"""Supplier scorecards: per supplier and period (a month ``2026-11`` or a
quarter ``2026-Q4``, in the tenant's time zone), computed from the records
alone, so that a past period reads the same whenever it is computed
(docs/kpi.md has the formulas and the edge cases).

A buyer sees every supplier, ranked; a supplier user sees its own card and
nothing of the others (the scoping layer decides which suppliers exist for
the caller, and every figure is computed from rows of those suppliers only).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from piccolo.querystring import QueryString

from portal.days import day_end
from portal.db import get_engine
from portal.deliveries.tables import Delivery, DeliveryLine
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_
from portal.orders.tables import Order, OrderLine, OrderRevision
from portal.quality.ncr_states import Status as NcrStatus
from portal.quality.tables import DocumentReview, Ncr, NcrStep
from tenants.context import current
from tenants.scoping import scoped
from tenants.tables import Supplier

PAGE_SIZE = 100
PERIOD = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$")
SEVERITIES = ("minor", "major", "critical")
# Orders that count: issued to the supplier and not withdrawn from it.
COUNTED_ORDER_STATES = ("issued", "accepted", "in_production", "partially_delivered", "delivered", "closed")


class InvalidPeriod(DomainError):
    code = "invalid_period"
    message = N_("Some fields are missing or not valid.")


class NcrCounts(msgspec.Struct, frozen=True):
    minor: int
    major: int
    critical: int


class Scorecard(msgspec.Struct, frozen=True):
    """One supplier's figures for one period. Rates are fractions from 0 to
    1, and null where nothing was there to count; times are hours."""

    supplier_id: UUID
    supplier_code: str
    supplier_name: str
    period: str
    start: datetime
    end: datetime
    # Counts and quantities are null only on a pending card (below).
    lines_due: int | None
    lines_on_time: int | None
    on_time_rate: float | None
    quantity_inspected: Decimal | None
    quantity_accepted: Decimal | None
    first_pass_yield: float | None
    qc_reviews: int | None
    qc_rejections: int | None
    qc_rejection_rate: float | None
    ncrs: NcrCounts | None
    mean_hours_to_contain: float | None
    mean_hours_to_close: float | None
    mean_hours_to_accept_orders: float | None
    mean_hours_to_acknowledge_revisions: float | None
    # 1 = best of the suppliers the caller sees (buyers only; null for a supplier).
    rank: int | None = None
    # When the figures were computed (portal/kpi/store.py keeps them).
    computed_at: datetime | None = None
    # A record they count changed since: these are the figures as last
    # computed, and their refresh is queued (portal/kpi/store.py).
    stale: bool = False
    # Never computed for this supplier and period: every figure is null,
    # ``stale`` true, ``computed_at`` null, and a job computing them is
    # queued; a read never computes a period (seconds at a million lines).
    pending: bool = False


@dataclass(frozen=True)
class Period:
    label: str
    first_day: date
    next_first_day: date  # exclusive
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive


def parse_period(text: str, zone: str) -> Period:
    """``YYYY-MM`` or ``YYYY-Qn``: its days, and its bounds in UTC from the
    tenant's midnights."""
    match = PERIOD.match(text.strip())
    # The years statements take too (reconciliation.periods): beyond them a
    # period's bounds are no dates.
    if match is None or not 2000 <= int(match.group(1)) <= 9998:
        raise InvalidPeriod(fields={"period": N_("Give a month (2026-11) or a quarter (2026-Q4).")})
    year = int(match.group(1))
    if match.group(2):
        month, months = int(match.group(2)), 1
    else:
        month, months = (int(match.group(3)) - 1) * 3 + 1, 3
    first = date(year, month, 1)
    following = date(year + (month + months - 1) // 12, (month + months - 1) % 12 + 1, 1)
    tz = ZoneInfo(zone)
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(following, time(0), tzinfo=tz).astimezone(UTC)
    return Period(text.strip(), first, following, start, end)


def current_month() -> str:
    today = current().today()
    return f"{today.year:04d}-{today.month:02d}"


def rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(float(Decimal(part) / Decimal(whole)), 4) if whole else None


def _mean_hours(spans: Iterable[timedelta]) -> float | None:
    values = [span.total_seconds() / 3600 for span in spans]
    return round(sum(values) / len(values), 2) if values else None


@dataclass
class _Tally:
    lines_due: int = 0
    lines_on_time: int = 0
    inspected: Decimal = Decimal(0)
    accepted: Decimal = Decimal(0)
    reviews: int = 0
    rejections: int = 0
    ncrs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    contain: list[timedelta] = field(default_factory=list)
    close: list[timedelta] = field(default_factory=list)
    accept: list[timedelta] = field(default_factory=list)
    acknowledge: list[timedelta] = field(default_factory=list)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _diff(value: Any) -> dict[str, Any]:
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else dict(value or {})


async def _lines_due(
    period: Period, suppliers: set[UUID], tallies: dict[UUID, _Tally], zone: ZoneInfo, narrow: list[UUID] | None = None
) -> None:
    """On-time delivery: the lines due in the period, each with its due
    date and quantity as they stood at the period's end (revisions made
    later are undone), delivered on time when the quantity accepted from
    receipts up to the end of its due day covers it.

    On PostgreSQL the lines no later revision touched (nearly all) are
    counted by the database, per supplier (``_count_on_time``); the lines of
    orders revised after the period, whose dates and quantities must be
    undone first, are tallied here. SQLite tallies every line here: its
    decimals are text and can only be compared in Python."""
    counted = list(COUNTED_ORDER_STATES)
    # Orders a revision touched after the period: their lines' due dates
    # and quantities at the period's end may differ from today's.
    later = (
        await scoped(OrderRevision)
        .select(OrderRevision.order, OrderRevision.diff, OrderRevision.created_at)
        .where(OrderRevision.created_at >= period.end)
        .order_by(OrderRevision.created_at, ascending=False)
    )
    revised = sorted({row["order"] for row in later}, key=str)
    in_database = _postgres()
    if in_database:
        await _count_on_time(period, suppliers, tallies, revised, narrow)
    columns = (
        OrderLine.id,
        OrderLine.order,
        OrderLine.order.supplier,
        OrderLine.line_no,
        OrderLine.quantity,
        OrderLine.due_date,
        OrderLine.removed,
    )
    rows: list[dict[str, Any]] = []
    if not in_database:
        base = scoped(OrderLine).select(*columns).where(OrderLine.order.status.is_in(counted))
        rows = list(await base.where(OrderLine.due_date >= period.first_day).where(OrderLine.due_date < period.next_first_day))
    if revised:
        seen = {row["id"] for row in rows}
        more = scoped(OrderLine).select(*columns).where(OrderLine.order.status.is_in(counted)).where(OrderLine.order.is_in(revised))
        rows += [row for row in await more if row["id"] not in seen]
    # Undo, newest first, what revisions after the period changed.
    states = {row["id"]: {"due": _as_date(row["due_date"]), "quantity": row["quantity"], "exists": not row["removed"]} for row in rows}
    by_number = {(row["order"], row["line_no"]): row["id"] for row in rows}
    for revision in later:
        for change in _diff(revision["diff"]).get("lines", []):
            line_id = by_number.get((revision["order"], change.get("line_no")))
            if line_id is None:
                continue
            state = states[line_id]
            if change.get("change") == "added":
                state["exists"] = False
            elif change.get("change") == "removed":
                state["exists"] = True
            else:
                fields = change.get("fields", {})
                if "due_date" in fields:
                    state["due"] = date.fromisoformat(fields["due_date"][0])
                if "quantity" in fields:
                    state["quantity"] = Decimal(fields["quantity"][0])
                state["exists"] = True
    due = {
        row["id"]: row
        for row in rows
        if row["order.supplier"] in suppliers
        and states[row["id"]]["exists"]
        and period.first_day <= states[row["id"]]["due"] < period.next_first_day
    }
    if not due:
        return
    received: dict[UUID, list[tuple[datetime, Decimal]]] = defaultdict(list)

    def receipts_before_end() -> Any:
        return (
            scoped(DeliveryLine)
            .select(DeliveryLine.order_line, DeliveryLine.accepted_quantity, DeliveryLine.delivery.received_at)
            .where(DeliveryLine.delivery.received_at.is_not_null())
            .where(DeliveryLine.delivery.received_at < period.end)
        )

    if in_database:
        # Only revised orders' lines are left here: by id.
        receipts = list(await receipts_before_end().where(DeliveryLine.order_line.is_in(list(due))))
    else:
        # The receipts of the lines due by today's dates, through a plain
        # join from the receipt to its line (the line's due day index drives
        # it); and of the few lines that only a later revision's undoing
        # brought in, by id.
        current_due = {row["id"] for row in rows if period.first_day <= _as_date(row["due_date"]) < period.next_first_day}
        extra = [line_id for line_id in due if line_id not in current_due]
        receipts = list(
            await receipts_before_end()
            .where(DeliveryLine.order_line.due_date >= period.first_day)
            .where(DeliveryLine.order_line.due_date < period.next_first_day)
            .where(DeliveryLine.order_line._.order._.status.is_in(counted))
        )
        if extra:
            receipts += await receipts_before_end().where(DeliveryLine.order_line.is_in(extra))
    for receipt in receipts:
        if receipt["accepted_quantity"] is not None:
            received[receipt["order_line"]].append((receipt["delivery.received_at"], receipt["accepted_quantity"]))
    for line_id, row in due.items():
        state = states[line_id]
        deadline = day_end(state["due"], zone)
        accepted = sum((quantity for at, quantity in received[line_id] if at < deadline), Decimal(0))
        tally = tallies[row["order.supplier"]]
        tally.lines_due += 1
        if accepted >= state["quantity"]:
            tally.lines_on_time += 1


def _postgres() -> bool:
    return bool(get_engine().engine_type == "postgres")


# Per supplier, the lines due in the period and those whose quantity was
# accepted by the end of their due day (the tenant's midnight after it,
# which PostgreSQL works out from the zone's name as zoneinfo does). The
# lines and the receipts come from the scoping layer's own selects, so the
# tenant, the supplier and what a supplier may see apply as everywhere.
_ON_TIME_SQL = """
SELECT l.supplier AS supplier, count(*) AS due,
       count(*) FILTER (WHERE coalesce(a.accepted, 0) >= l.quantity) AS on_time
FROM ({}) AS l
LEFT JOIN LATERAL (
    SELECT sum(r.accepted_quantity) AS accepted
    FROM ({}) AS r
    WHERE r.order_line = l.id AND r.received_at < ((l.due_date + 1)::timestamp AT TIME ZONE {})
) AS a ON true
GROUP BY l.supplier
"""


async def _count_on_time(
    period: Period, suppliers: set[UUID], tallies: dict[UUID, _Tally], revised: list[UUID], narrow: list[UUID] | None
) -> None:
    """The on-time figures of the lines no revision touched after the
    period, counted by PostgreSQL: a line's due date and quantity today are
    those at the period's end."""
    lines = (
        scoped(OrderLine)
        .select(OrderLine.id, OrderLine.quantity, OrderLine.due_date, OrderLine.order.supplier.as_alias("supplier"))
        .where(OrderLine.due_date >= period.first_day)
        .where(OrderLine.due_date < period.next_first_day)
        .where(OrderLine.removed.eq(False))
        .where(OrderLine.order.status.is_in(list(COUNTED_ORDER_STATES)))
    )
    if revised:
        lines = lines.where(OrderLine.order.not_in(revised))
    if narrow is not None:
        lines = lines.where(OrderLine.order.supplier.is_in(narrow))
    receipts = (
        scoped(DeliveryLine)
        .select(DeliveryLine.order_line, DeliveryLine.accepted_quantity, DeliveryLine.delivery.received_at.as_alias("received_at"))
        .where(DeliveryLine.delivery.received_at < period.end)
    )
    sql = QueryString(_ON_TIME_SQL, lines.querystrings[0], receipts.querystrings[0], current().time_zone)
    found = await OrderLine.raw("{}", sql)
    for row in found:
        if row["supplier"] not in suppliers:
            continue
        tally = tallies[row["supplier"]]
        tally.lines_due += row["due"]
        tally.lines_on_time += row["on_time"]


# Per supplier, the quantity accepted and inspected on receipts in the
# period: each delivery received then, and its lines through their index on
# the delivery (a join the planner, blind to how many deliveries pass the
# row-level security checks, would run as a scan of every delivery line).
_INSPECTED_SQL = """
SELECT d.supplier AS supplier, sum(x.accepted) AS accepted, sum(x.inspected) AS inspected
FROM ({}) AS d
CROSS JOIN LATERAL (
    SELECT sum(r.accepted_quantity) AS accepted,
           sum(r.accepted_quantity + coalesce(r.rejected_quantity, 0)) AS inspected
    FROM ({}) AS r
    WHERE r.delivery = d.id AND r.accepted_quantity IS NOT NULL
) AS x
GROUP BY d.supplier
"""


async def _inspections(period: Period, suppliers: set[UUID], tallies: dict[UUID, _Tally], narrow: list[UUID] | None = None) -> None:
    """First-pass yield: of the quantity inspected on receipts in the
    period, the part accepted (added up by PostgreSQL; on SQLite, whose
    decimals are text, here)."""
    if _postgres():
        deliveries = (
            scoped(Delivery)
            .select(Delivery.id, Delivery.supplier)
            .where(Delivery.received_at >= period.start)
            .where(Delivery.received_at < period.end)
        )
        if narrow is not None:
            deliveries = deliveries.where(Delivery.supplier.is_in(narrow))
        lines = scoped(DeliveryLine).select(DeliveryLine.delivery, DeliveryLine.accepted_quantity, DeliveryLine.rejected_quantity)
        found = await DeliveryLine.raw("{}", QueryString(_INSPECTED_SQL, deliveries.querystrings[0], lines.querystrings[0]))
        for row in found:
            # A supplier whose receipts were all left uninspected adds nothing.
            if row["supplier"] not in suppliers or row["accepted"] is None:
                continue
            tallies[row["supplier"]].accepted += row["accepted"]
            tallies[row["supplier"]].inspected += row["inspected"]
        return
    rows = (
        await scoped(DeliveryLine)
        .select(DeliveryLine.delivery.supplier, DeliveryLine.accepted_quantity, DeliveryLine.rejected_quantity)
        .where(DeliveryLine.delivery.received_at >= period.start)
        .where(DeliveryLine.delivery.received_at < period.end)
    )
    for row in rows:
        if row["delivery.supplier"] not in suppliers or row["accepted_quantity"] is None:
            continue
        tally = tallies[row["delivery.supplier"]]
        tally.accepted += row["accepted_quantity"]
        tally.inspected += row["accepted_quantity"] + (row["rejected_quantity"] or Decimal(0))


async def _reviews(period: Period, suppliers: set[UUID], tallies: dict[UUID, _Tally]) -> None:
    rows = (
        await scoped(DocumentReview)
        .select(DocumentReview.supplier, DocumentReview.decision)
        .where(DocumentReview.reviewed_at >= period.start)
        .where(DocumentReview.reviewed_at < period.end)
    )
    for row in rows:
        if row["supplier"] in suppliers:
            tallies[row["supplier"]].reviews += 1
            tallies[row["supplier"]].rejections += row["decision"] == "rejected"


async def _ncrs(period: Period, suppliers: set[UUID], tallies: dict[UUID, _Tally]) -> None:
    issued = (
        await scoped(Ncr)
        .select(Ncr.supplier, Ncr.severity)
        .where(Ncr.issued_at >= period.start)
        .where(Ncr.issued_at < period.end)
        .where(Ncr.status != NcrStatus.CANCELLED.value)
    )
    for row in issued:
        if row["supplier"] in suppliers and row["severity"] in SEVERITIES:
            tallies[row["supplier"]].ncrs[row["severity"]] += 1
    contained = (
        await scoped(NcrStep)
        .select(NcrStep.supplier, NcrStep.accepted_at, NcrStep.ncr.issued_at)
        .where(NcrStep.step == NcrStatus.CONTAINMENT.value)
        .where(NcrStep.accepted_at >= period.start)
        .where(NcrStep.accepted_at < period.end)
    )
    for row in contained:
        if row["supplier"] in suppliers:
            tallies[row["supplier"]].contain.append(row["accepted_at"] - row["ncr.issued_at"])
    closed = (
        await scoped(Ncr)
        .select(Ncr.supplier, Ncr.issued_at, Ncr.closed_at)
        .where(Ncr.closed_at >= period.start)
        .where(Ncr.closed_at < period.end)
    )
    for row in closed:
        if row["supplier"] in suppliers and row["issued_at"] is not None:
            tallies[row["supplier"]].close.append(row["closed_at"] - row["issued_at"])


async def _responses(period: Period, suppliers: set[UUID], tallies: dict[UUID, _Tally]) -> None:
    orders = (
        await scoped(Order)
        .select(Order.supplier, Order.issued_at, Order.accepted_at)
        .where(Order.accepted_at >= period.start)
        .where(Order.accepted_at < period.end)
    )
    for row in orders:
        if row["supplier"] in suppliers and row["issued_at"] is not None and row["accepted_at"] >= row["issued_at"]:
            tallies[row["supplier"]].accept.append(row["accepted_at"] - row["issued_at"])
    revisions = (
        await scoped(OrderRevision)
        .select(OrderRevision.order.supplier, OrderRevision.created_at, OrderRevision.acknowledged_at)
        .where(OrderRevision.acknowledged_at >= period.start)
        .where(OrderRevision.acknowledged_at < period.end)
    )
    for row in revisions:
        if row["order.supplier"] in suppliers:
            tallies[row["order.supplier"]].acknowledge.append(row["acknowledged_at"] - row["created_at"])


def rank(cards: list[Scorecard]) -> list[Scorecard]:
    """Best first: on-time rate, then first-pass yield, then fewest critical
    and major NCRs; a supplier with nothing to count goes last."""

    def key(card: Scorecard) -> tuple[Any, ...]:
        ncrs = card.ncrs or NcrCounts(0, 0, 0)
        return (
            card.on_time_rate is None and card.first_pass_yield is None,
            -(card.on_time_rate if card.on_time_rate is not None else -1),
            -(card.first_pass_yield if card.first_pass_yield is not None else -1),
            ncrs.critical,
            ncrs.major,
            card.supplier_code,
        )

    # A pending card has nothing to rank by: it follows the ranked ones,
    # without a rank, until its figures are there.
    ranked = sorted((card for card in cards if not card.pending), key=key)
    waiting = sorted((card for card in cards if card.pending), key=lambda card: card.supplier_code)
    return [msgspec.structs.replace(card, rank=index + 1) for index, card in enumerate(ranked)] + waiting


def require_view() -> None:
    if not current().can("quality.view"):
        raise PermissionDenied()


async def scorecards(period_text: str, supplier_id: UUID | None = None) -> list[Scorecard]:
    """Every supplier the caller may see (its own for a supplier user), for
    one period, computed now; buyers get them ranked, best first. Readers
    go through ``portal.kpi.store``, which keeps these figures."""
    cards = await compute(period_text, supplier_id)
    return cards if current().is_supplier else rank(cards)


async def compute(period_text: str, supplier_id: UUID | None = None, only: set[UUID] | None = None) -> list[Scorecard]:
    """The period's cards of every supplier the caller may see (or of
    ``supplier_id``, or of those in ``only``, among them), unranked, in
    supplier code order, from the records as they are now."""
    context = current()
    require_view()
    period = parse_period(period_text, context.time_zone)
    query = scoped(Supplier).select(Supplier.id, Supplier.code, Supplier.name).order_by(Supplier.code)
    if supplier_id is not None:
        only = {supplier_id} if only is None else only & {supplier_id}
    if only is not None:
        query = query.where(Supplier.id.is_in(list(only))) if only else query.where(Supplier.id.is_null())
    suppliers = {row["id"]: row for row in await query}
    tallies = {key: _Tally() for key in suppliers}
    if suppliers:
        keys = set(suppliers)
        zone = ZoneInfo(context.time_zone)
        # Asked for a few suppliers: the database counts theirs alone.
        narrow = sorted(keys, key=str) if only is not None else None
        await _lines_due(period, keys, tallies, zone, narrow)
        await _inspections(period, keys, tallies, narrow)
        await _reviews(period, keys, tallies)
        await _ncrs(period, keys, tallies)
        await _responses(period, keys, tallies)
    cards = [
        Scorecard(
            supplier_id=key,
            supplier_code=row["code"],
            supplier_name=row["name"],
            period=period.label,
            start=period.start,
            end=period.end,
            lines_due=tally.lines_due,
            lines_on_time=tally.lines_on_time,
            on_time_rate=rate(tally.lines_on_time, tally.lines_due),
            quantity_inspected=tally.inspected,
            quantity_accepted=tally.accepted,
            first_pass_yield=rate(tally.accepted, tally.inspected),
            qc_reviews=tally.reviews,
            qc_rejections=tally.rejections,
            qc_rejection_rate=rate(tally.rejections, tally.reviews),
            ncrs=NcrCounts(**tally.ncrs),
            mean_hours_to_contain=_mean_hours(tally.contain),
            mean_hours_to_close=_mean_hours(tally.close),
            mean_hours_to_accept_orders=_mean_hours(tally.accept),
            mean_hours_to_acknowledge_revisions=_mean_hours(tally.acknowledge),
        )
        for key, row in suppliers.items()
        for tally in (tallies[key],)
    ]
    return cards


def page(cards: list[Scorecard], cursor: str | None) -> tuple[list[Scorecard], str | None]:
    """A page of ``cards`` from ``cursor`` (an offset in their order)."""
    start = 0
    if cursor:
        if not cursor.isdigit() or len(cursor) > 9:
            raise InvalidPeriod(fields={"cursor": N_("This page link is not valid.")})
        start = int(cursor)
    chunk = cards[start : start + PAGE_SIZE]
    return chunk, str(start + PAGE_SIZE) if start + PAGE_SIZE < len(cards) else None
