"""What the desktop order board shows beside each order of a page: its
item(s), ordered, delivered and open quantity and the last progress
report. One query per table for the whole page (the page itself comes from
``services.board``), each built once per scope (tenants.prepared)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from portal.orders.tables import OrderLine
from portal.quantities import plain
from tenants.prepared import id_slots, id_values, prepared
from tenants.scoping import scoped


@dataclass(frozen=True)
class BoardRow:
    items: str
    unit: str
    ordered: Decimal
    delivered: Decimal
    open: Decimal
    # The last report: stage name, good quantity, when; None before any.
    last_stage: str | None
    last_good: Decimal | None
    last_at: datetime | None


async def board_rows(order_ids: list[UUID]) -> dict[UUID, BoardRow]:
    from portal.progress.tables import ProgressReport

    if not order_ids:
        return {}
    ids = id_values("order", order_ids)
    lines = await prepared(
        ("orders.board_lines", len(ids)),
        lambda slot: (
            scoped(OrderLine)
            .select(OrderLine.order, OrderLine.item.code, OrderLine.item.unit, OrderLine.quantity, OrderLine.delivered_quantity)
            .where(OrderLine.order.is_in(id_slots(slot, ids)))
            .where(OrderLine.removed.eq(False))
            .order_by(OrderLine.line_no)
        ),
        **ids,
    )
    by_order: dict[UUID, list[dict[str, object]]] = defaultdict(list)
    for line in lines:
        by_order[line["order"]].append(line)
    reports = await prepared(
        ("orders.board_reports", len(ids)),
        lambda slot: (
            scoped(ProgressReport)
            .select(ProgressReport.order, ProgressReport.stage_label, ProgressReport.good_quantity, ProgressReport.made_at)
            .where(ProgressReport.order.is_in(id_slots(slot, ids)))
            .order_by(ProgressReport.made_at, ascending=False)
        ),
        **ids,
    )
    last: dict[UUID, dict[str, object]] = {}
    for report in reports:
        last.setdefault(report["order"], report)
    found = {}
    for order_id in order_ids:
        rows = by_order.get(order_id, [])
        codes = [str(row["item.code"]) for row in rows]
        units = {str(row["item.unit"]) for row in rows}
        ordered = sum((Decimal(str(row["quantity"])) for row in rows), Decimal(0))
        delivered = sum((Decimal(str(row["delivered_quantity"])) for row in rows), Decimal(0))
        report = last.get(order_id)
        found[order_id] = BoardRow(
            items=codes[0] + (f" +{len(codes) - 1}" if len(codes) > 1 else "") if codes else "",
            unit=units.pop() if len(units) == 1 else "",
            ordered=plain(ordered),
            delivered=plain(delivered),
            open=plain(max(Decimal(0), ordered - delivered)),
            last_stage=str(report["stage_label"]) if report else None,
            last_good=plain(Decimal(str(report["good_quantity"]))) if report else None,
            last_at=report["made_at"] if report else None,  # type: ignore[arg-type]
        )
    return found
