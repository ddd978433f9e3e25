"""Exporting the dispatch list, the material balances and the returns and
scrap reports to CSV or XLSX.

Each export is its list: the same filters and the same services
(``services.list_dispatches`` walked page by page, ``services.balances``),
so a supplier user exports only what its pages show (its own supplier's
sent dispatches and balances). The dispatch export has one row per line;
its first seven columns are the import's, so an exported file can be
edited and imported again (the dispatch number is read as the reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from portal.i18n import N_, gettext
from portal.imports.exports import check_format, check_size, export_file, local_time
from portal.imports.writers import BuiltFile, Cell
from portal.materials import services
from portal.materials.importing import COLUMNS as IMPORT_COLUMNS
from portal.materials.schemas import DispatchSummary, MovementOut
from portal.materials.states import Status
from portal.materials.tables import Dispatch, DispatchLine
from portal.quantities import plain
from tenants.scoping import scoped

CHUNK = 500

# The import's columns, except that the first says what it holds here: the
# portal's number, which the importer also reads as a reference.
DISPATCH_COLUMNS = (
    ("reference", N_("Dispatch number")),
    *((column.key, column.label) for column in IMPORT_COLUMNS[1:]),
    ("status", N_("Status")),
    ("supplier_name", N_("Supplier name")),
    ("item_name", N_("Item name")),
    ("unit", N_("Unit")),
    ("received_quantity", N_("Received quantity")),
    ("difference", N_("Difference")),
    ("discrepancy_reason", N_("Discrepancy reason")),
    ("flagged", N_("Outside tolerance")),
    ("created_at", N_("Created at")),
    ("sent_at", N_("Sent at")),
    ("received_at", N_("Received at")),
)
DISPATCH_WIDTHS = {"reference": 16, "item_code": 16, "note": 30, "supplier_name": 24, "item_name": 24, "discrepancy_reason": 30}

BALANCE_COLUMNS = (
    ("supplier_name", N_("Supplier name")),
    ("item_code", N_("Item code")),
    ("item_name", N_("Item name")),
    ("unit", N_("Unit")),
    ("dispatched", N_("Dispatched")),
    ("in_transit", N_("In transit")),
    ("receipt_difference", N_("Receipt difference")),
    ("consumed", N_("Used by accepted output")),
    ("scrap_allowance", N_("Allowed scrap")),
    ("returned", N_("Returned")),
    ("scrapped", N_("Scrapped")),
    ("held", N_("Held at the supplier")),
    ("over_consumption", N_("Over-consumption")),
    ("excess_scrap", N_("Scrap beyond allowance")),
)
BALANCE_WIDTHS = {"supplier_name": 24, "item_code": 16, "item_name": 24}

MOVEMENT_COLUMNS = (
    ("reported_at", N_("Reported at")),
    ("supplier_name", N_("Supplier name")),
    ("item_code", N_("Item code")),
    ("item_name", N_("Item name")),
    ("lot", N_("Lot / batch")),
    ("quantity", N_("Quantity")),
    ("unit", N_("Unit")),
    ("reason", N_("Reason")),
    ("reported_by", N_("Reported by")),
)
MOVEMENT_WIDTHS = {"reported_at": 18, "supplier_name": 24, "item_code": 16, "item_name": 24, "reason": 30}
MOVEMENT_TITLES = {services.RETURN: (N_("Material returns"), "material-returns"), services.SCRAP: (N_("Material scrap"), "material-scrap")}


@dataclass(frozen=True)
class DispatchFilters:
    """The dispatch list's filters (``GET /api/v1/dispatches``)."""

    status: str | None = None
    supplier_id: UUID | None = None
    order_id: UUID | None = None
    item_id: UUID | None = None


def _quantity(value: Any) -> Decimal | None:
    return None if value is None else plain(value)


async def _dispatches(filters: DispatchFilters) -> list[DispatchSummary]:
    found: list[DispatchSummary] = []
    cursor: str | None = None
    while True:
        page, cursor = await services.list_dispatches(
            filters.status, filters.supplier_id, filters.order_id, filters.item_id, cursor, services.MAX_PAGE
        )
        found += page
        check_size(len(found))
        if cursor is None:
            return found


async def _details(ids: list[UUID]) -> tuple[dict[UUID, dict[str, Any]], dict[UUID, list[dict[str, Any]]]]:
    heads: dict[UUID, dict[str, Any]] = {}
    lines: dict[UUID, list[dict[str, Any]]] = {}
    count = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        query = scoped(Dispatch).select(Dispatch.id, Dispatch.supplier.code, Dispatch.note, Dispatch.received_at)
        for row in await query.where(Dispatch.id.is_in(chunk)):
            heads[row["id"]] = row
        query = (
            scoped(DispatchLine)
            .select(
                DispatchLine.dispatch,
                DispatchLine.item.code,
                DispatchLine.item.name,
                DispatchLine.item.unit,
                DispatchLine.lot,
                DispatchLine.quantity,
                DispatchLine.received_quantity,
                DispatchLine.discrepancy_reason,
                DispatchLine.flagged,
            )
            .where(DispatchLine.dispatch.is_in(chunk))
            .order_by(DispatchLine.dispatch)
            .order_by(DispatchLine.line_no)
        )
        for row in await query:
            lines.setdefault(row["dispatch"], []).append(row)
            count += 1
        check_size(count)
    return heads, lines


async def dispatch_rows(filters: DispatchFilters) -> list[list[Cell]]:
    """The list's dispatches (newest number first), one row per line."""
    dispatches = await _dispatches(filters)
    heads, lines = await _details([dispatch.id for dispatch in dispatches])
    yes = gettext("Yes")
    rows: list[list[Cell]] = []
    for dispatch in dispatches:
        head = heads.get(dispatch.id)
        if head is None:
            continue
        status = gettext(Status(dispatch.status).label)
        for line in lines.get(dispatch.id, []):
            received = _quantity(line["received_quantity"])
            quantity = plain(line["quantity"])
            rows.append(
                [
                    dispatch.number,
                    head["supplier.code"],
                    dispatch.order_number,
                    line["item.code"],
                    line["lot"],
                    quantity,
                    head["note"],
                    status,
                    dispatch.supplier_name,
                    line["item.name"],
                    line["item.unit"],
                    received,
                    None if received is None else plain(received - quantity),
                    line["discrepancy_reason"],
                    yes if line["flagged"] else "",
                    local_time(dispatch.created_at),
                    local_time(dispatch.sent_at),
                    local_time(head["received_at"]),
                ]
            )
    return rows


async def export_dispatches(filters: DispatchFilters, fmt: str) -> BuiltFile:
    """The dispatch list as a CSV (UTF-8 with BOM) or XLSX file."""
    check_format(fmt)
    rows = await dispatch_rows(filters)
    return await export_file(fmt, title=N_("Dispatches"), columns=DISPATCH_COLUMNS, rows=rows, stem="dispatches", widths=DISPATCH_WIDTHS)


async def export_balances(supplier_id: UUID | None, item_id: UUID | None, fmt: str) -> BuiltFile:
    """The balance list (same filters and scoping as the page) as a file."""
    check_format(fmt)
    balances = await services.balances(supplier_id, item_id)
    check_size(len(balances))
    yes = gettext("Yes")
    rows: list[list[Cell]] = [
        [
            row.supplier_name,
            row.item_code,
            row.item_name,
            row.unit,
            row.dispatched,
            row.in_transit,
            row.receipt_difference,
            row.consumed,
            row.scrap_allowance,
            row.returned,
            row.scrapped,
            row.held,
            yes if row.over_consumption else "",
            yes if row.excess_scrap else "",
        ]
        for row in balances
    ]
    return await export_file(
        fmt, title=N_("Material balances"), columns=BALANCE_COLUMNS, rows=rows, stem="material-balances", widths=BALANCE_WIDTHS
    )


async def export_movements(kind: str, supplier_id: UUID | None, item_id: UUID | None, fmt: str) -> BuiltFile:
    """Returns or scrap reports (same filters and scoping as their list,
    every page, newest first) as a file."""
    check_format(fmt)
    found: list[MovementOut] = []
    cursor: str | None = None
    while True:
        page, cursor = await services.list_movements(kind, supplier_id, item_id, cursor, services.MAX_PAGE)
        found += page
        check_size(len(found))
        if cursor is None:
            break
    rows: list[list[Cell]] = [
        [
            local_time(row.reported_at),
            row.supplier_name,
            row.item_code,
            row.item_name,
            row.lot,
            plain(row.quantity),
            row.unit,
            row.reason,
            row.reported_by,
        ]
        for row in found
    ]
    title, stem = MOVEMENT_TITLES[kind]
    return await export_file(fmt, title=title, columns=MOVEMENT_COLUMNS, rows=rows, stem=stem, widths=MOVEMENT_WIDTHS)
