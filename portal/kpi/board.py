"""The buyer's board: order lines that are late or at risk, by the tenant's
response-time rules (portal/sla: the progress margin and the hours without
progress), so that the board and the reminders agree on what is slipping.

- **Late**: the line's due day (tenant's zone) is over and the quantity
  done (the larger of good quantity reported and quantity delivered) is
  short of the line's quantity.
- **At risk**, not yet late, either
  - *behind plan*: the share done lags the share of time elapsed from the
    order's issue to the due day by more than ``progress_margin_percent``
    (the same test as the ``progress.behind`` warning), or
  - *no recent progress*: due within ``DUE_SOON_DAYS`` and nothing
    reported for ``progress_stale_hours``.

Only lines of orders at work (accepted, in production, partially
delivered) count: an order not yet accepted has the acceptance reminders,
and a delivered or closed one owes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from portal.days import day_end
from portal.orders.tables import Order, OrderLine
from portal.progress.tables import ProgressReport
from portal.sla.services import WORKING, get_rule
from tenants.context import current
from tenants.scoping import scoped

DUE_SOON_DAYS = 7
SHOWN = 10


class LineAtRisk(msgspec.Struct, frozen=True):
    order_id: UUID
    order_number: str
    line_no: int
    item_code: str
    supplier_name: str
    due_date: date
    quantity: Decimal
    done: Decimal
    # late, behind_plan or no_progress
    reason: str
    # Whole days past the due day (late lines), else 0.
    days_late: int


class LinesAtRisk(msgspec.Struct, frozen=True):
    """The first ``SHOWN`` of each list (most urgent first) and how many
    there are in all."""

    late: list[LineAtRisk]
    at_risk: list[LineAtRisk]
    late_count: int
    at_risk_count: int


def _reported(rows: Iterable[dict[str, Any]]) -> tuple[dict[UUID, Decimal], dict[UUID, datetime]]:
    good: dict[UUID, Decimal] = {}
    latest: dict[UUID, datetime] = {}
    for row in rows:
        key = row["order_line"]
        good[key] = good.get(key, Decimal(0)) + Decimal(row["good_quantity"])
        # Made offline earlier counts from when it was made.
        made = min(row["made_at"], row["received_at"])
        latest[key] = max(latest.get(key, made), made)
    return good, latest


async def lines_at_risk(now: datetime | None = None) -> LinesAtRisk:
    """The late and at-risk lines of the suppliers the caller sees."""
    now = now or datetime.now(UTC)
    context = current()
    zone = ZoneInfo(context.time_zone)
    rule = await get_rule()
    # The orders at work first, then their lines: a join from the lines
    # filtered on the order's status walks the status index without the
    # tenant (only the row-level security check names the order's
    # tenant), every order of every tenant, which grows with the history.
    orders = {
        row["id"]: row
        for row in await scoped(Order)
        .select(Order.id, Order.number, Order.issued_at, Order.supplier._.name)
        .where(Order.status.is_in(list(WORKING)))
    }
    lines = []
    if orders:
        found = (
            await scoped(OrderLine)
            .select(
                OrderLine.id,
                OrderLine.line_no,
                OrderLine.quantity,
                OrderLine.delivered_quantity,
                OrderLine.due_date,
                OrderLine.order,
                OrderLine.item.code,
            )
            .where(OrderLine.removed.eq(False))
            .where(OrderLine.order.is_in(list(orders)))
        )
        for line in found:
            order = orders[line["order"]]
            lines.append(
                {
                    **line,
                    "order.number": order["number"],
                    "order.issued_at": order["issued_at"],
                    "order.supplier.name": order["supplier.name"],
                }
            )
    open_lines = [line for line in lines if Decimal(line["delivered_quantity"] or 0) < Decimal(line["quantity"])]
    good: dict[UUID, Decimal] = {}
    latest: dict[UUID, datetime] = {}
    if open_lines:
        reports = (
            await scoped(ProgressReport)
            .select(ProgressReport.order_line, ProgressReport.good_quantity, ProgressReport.made_at, ProgressReport.received_at)
            .where(ProgressReport.order_line.is_in([line["id"] for line in open_lines]))
        )
        good, latest = _reported(reports)
    today = now.astimezone(zone).date()
    margin = Decimal(rule.progress_margin_percent) / 100
    stale_after = timedelta(hours=rule.progress_stale_hours)
    late: list[LineAtRisk] = []
    at_risk: list[LineAtRisk] = []
    for line in open_lines:
        quantity = Decimal(line["quantity"])
        done = max(good.get(line["id"], Decimal(0)), Decimal(line["delivered_quantity"] or 0))
        issued = line["order.issued_at"]
        if quantity <= 0 or done >= quantity or issued is None:
            continue
        due_day = line["due_date"] if isinstance(line["due_date"], date) else date.fromisoformat(str(line["due_date"]))
        due_at = day_end(due_day, zone)

        def entry(reason: str, line: dict[str, Any] = line, due_day: date = due_day, done: Decimal = done) -> LineAtRisk:
            return LineAtRisk(
                order_id=line["order"],
                order_number=line["order.number"],
                line_no=line["line_no"],
                item_code=line["item.code"] or "",
                supplier_name=line["order.supplier.name"] or "",
                due_date=due_day,
                quantity=Decimal(line["quantity"]),
                done=done,
                reason=reason,
                days_late=max((today - due_day).days, 0) if reason == "late" else 0,
            )

        if now >= due_at:
            late.append(entry("late"))
            continue
        span = (due_at - issued).total_seconds()
        elapsed = Decimal(max((now - issued).total_seconds(), 0) / span) if span > 0 else Decimal(1)
        if elapsed - done / quantity > margin:
            at_risk.append(entry("behind_plan"))
        elif (due_day - today).days < DUE_SOON_DAYS and now - latest.get(line["id"], issued) >= stale_after:
            at_risk.append(entry("no_progress"))
    late.sort(key=lambda found: (found.due_date, found.order_number, found.line_no))
    at_risk.sort(key=lambda found: (found.due_date, found.order_number, found.line_no))
    return LinesAtRisk(late=late[:SHOWN], at_risk=at_risk[:SHOWN], late_count=len(late), at_risk_count=len(at_risk))
