"""Exporting the order board to CSV or XLSX.

The export is the board: the same filters and sort as ``GET /api/v1/orders``
and the same scoping (``services.board`` is walked page by page), so the
file lists what the board shows, in the order it shows it, and a supplier
user exports only its own, issued orders. One row per open or delivered
line (lines removed by a revision are left out). The first eight columns
are the import columns, so an exported file can be edited and imported
again; the rest describe the order and the line. Internal notes are never
exported.

All rows are read inside the request's transaction (on PostgreSQL the
row-level security settings live only as long as it), then the file is
built in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import anyio.to_thread

from portal.errors import PermissionDenied
from portal.i18n import N_, gettext
from portal.imports.exports import ExportTooLarge, InvalidExport
from portal.imports.writers import FORMATS, BuiltFile, Cell, TableSheet, build_file
from portal.orders import services
from portal.orders.importing import COLUMNS as IMPORT_COLUMNS
from portal.orders.schemas import OrderSummary
from portal.orders.states import Status
from portal.orders.tables import Order, OrderLine
from portal.quantities import CURRENCY_DECIMALS, plain
from tenants.context import current
from tenants.scoping import scoped

EXPORT_ACTION = "orders.export"
BOARD_PAGE = 500
LINES_CHUNK = 500
MAX_EXPORT_LINES = 50_000

EXTRA_COLUMNS = (
    ("status", N_("Status")),
    ("supplier_name", N_("Supplier name")),
    ("item_name", N_("Item name")),
    ("unit", N_("Unit")),
    ("delivered_quantity", N_("Delivered")),
    ("open_quantity", N_("Open quantity")),
    ("amount", N_("Amount")),
    ("currency", N_("Currency")),
    ("order_due_date", N_("Order due date")),
    ("overdue", N_("Overdue")),
    ("revision", N_("Revision")),
)
# No label here may read as an import column (``Supplier`` would be taken
# for the supplier code): an exported file must import again.
EXPORT_COLUMNS = tuple((column.key, column.label) for column in IMPORT_COLUMNS) + EXTRA_COLUMNS
WIDTHS = {"order": 18, "supplier_code": 12, "item_code": 16, "shared_note": 30, "supplier_name": 24, "item_name": 24}


@dataclass(frozen=True)
class ExportFilters:
    """The board's filters and sort (``GET /api/v1/orders``)."""

    status: str | None = None
    supplier_id: UUID | None = None
    due_before: date | None = None
    overdue: bool = False
    q: str = ""
    sort: str = "due"
    descending: bool = False


def _money(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-CURRENCY_DECIMALS.get(currency, 2)), rounding=ROUND_HALF_UP)


async def _board(filters: ExportFilters) -> list[OrderSummary]:
    summaries: list[OrderSummary] = []
    cursor: str | None = None
    while True:
        page = await services.board(
            filters.status,
            filters.supplier_id,
            filters.due_before,
            filters.overdue,
            filters.q,
            cursor,
            BOARD_PAGE,
            sort=filters.sort,
            descending=filters.descending,
        )
        summaries += page.items
        if len(summaries) > MAX_EXPORT_LINES:
            raise ExportTooLarge(max=MAX_EXPORT_LINES)
        if page.next is None:
            return summaries
        cursor = page.next


async def _details(order_ids: list[UUID]) -> tuple[dict[UUID, dict[str, Any]], dict[UUID, list[dict[str, Any]]]]:
    orders: dict[UUID, dict[str, Any]] = {}
    lines: dict[UUID, list[dict[str, Any]]] = {}
    count = 0
    for start in range(0, len(order_ids), LINES_CHUNK):
        chunk = order_ids[start : start + LINES_CHUNK]
        for row in (
            await scoped(Order).select(Order.id, Order.supplier.code, Order.notes_shared, Order.currency).where(Order.id.is_in(chunk))
        ):
            orders[row["id"]] = row
        query = (
            scoped(OrderLine)
            .select(
                OrderLine.order,
                OrderLine.line_no,
                OrderLine.item.code,
                OrderLine.item.name,
                OrderLine.item.unit,
                OrderLine.operation,
                OrderLine.quantity,
                OrderLine.unit_price,
                OrderLine.due_date,
                OrderLine.delivered_quantity,
            )
            .where(OrderLine.order.is_in(chunk))
            .where(OrderLine.removed.eq(False))
            .order_by(OrderLine.order)
            .order_by(OrderLine.line_no)
        )
        for row in await query:
            lines.setdefault(row["order"], []).append(row)
            count += 1
        if count > MAX_EXPORT_LINES:
            raise ExportTooLarge(max=MAX_EXPORT_LINES)
    return orders, lines


async def export_rows(filters: ExportFilters) -> list[list[Cell]]:
    """The board's orders, one row per line, in the board's order (its
    ``sort``; soonest due first by default), each order's lines by number."""
    context = current()
    if not context.can(EXPORT_ACTION):
        raise PermissionDenied()
    summaries = await _board(filters)
    orders, lines = await _details([summary.id for summary in summaries])
    yes = gettext("Yes")
    rows: list[list[Cell]] = []
    for summary in summaries:
        order = orders.get(summary.id)
        if order is None:
            continue
        currency = order["currency"]
        status = gettext(Status(summary.status).label)
        for line in lines.get(summary.id, []):
            quantity, price, delivered = Decimal(line["quantity"]), Decimal(line["unit_price"]), Decimal(line["delivered_quantity"])
            rows.append(
                [
                    summary.number,
                    order["supplier.code"],
                    line["item.code"],
                    line["operation"],
                    plain(quantity),
                    _money(price, currency),
                    line["due_date"],
                    order["notes_shared"],
                    status,
                    summary.supplier_name,
                    line["item.name"],
                    line["item.unit"],
                    plain(delivered),
                    plain(max(Decimal(0), quantity - delivered)),
                    _money(quantity * price, currency),
                    currency,
                    summary.due_date,
                    yes if summary.overdue else "",
                    summary.revision,
                ]
            )
    return rows


async def export_orders(filters: ExportFilters, fmt: str) -> BuiltFile:
    """The board as a CSV (UTF-8 with BOM) or XLSX file."""
    if fmt not in FORMATS:
        raise InvalidExport(fields={"format": N_("Choose csv or xlsx.")})
    rows = await export_rows(filters)
    sheet = TableSheet(
        title=gettext("Orders"),
        header=[gettext(label) for _, label in EXPORT_COLUMNS],
        rows=list(rows),
        widths=[WIDTHS.get(key, 14) for key, _ in EXPORT_COLUMNS],
    )
    stem = f"orders-{datetime.now(ZoneInfo(current().time_zone)):%Y%m%d-%H%M}"
    return await anyio.to_thread.run_sync(build_file, fmt, [sheet], stem)
