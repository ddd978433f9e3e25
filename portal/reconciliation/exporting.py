"""A statement's lines and material section as CSV or XLSX, through the
export layer. XLSX holds both as two sheets; CSV holds one table, so
``part`` chooses: ``lines`` (default) or ``materials``. The statement is
read through ``services.get_statement``, so it is scoped exactly like the
statement page (a supplier admin gets its own supplier's sent statements)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import anyio.to_thread

from portal.errors import DomainError
from portal.i18n import N_, gettext
from portal.imports.exports import check_format, local_time
from portal.imports.writers import BuiltFile, Cell, TableSheet, build_file
from portal.reconciliation import services
from portal.reconciliation.schemas import StatementOut
from portal.reconciliation.states import LINE_STATE_LABELS, LineState
from tenants.context import current

LINE_COLUMNS = (
    ("line_no", N_("Line")),
    ("kind", N_("Kind")),
    ("reference", N_("Reference")),
    ("item_code", N_("Item code")),
    ("item_name", N_("Item name")),
    ("description", N_("Description")),
    ("occurred_at", N_("Date")),
    ("quantity", N_("Quantity")),
    ("unit", N_("Unit")),
    ("unit_price", N_("Unit price")),
    ("amount", N_("Amount")),
    ("currency", N_("Currency")),
    ("state", N_("Agreement")),
)
MATERIAL_COLUMNS = (
    ("item_code", N_("Item code")),
    ("item_name", N_("Item name")),
    ("unit", N_("Unit")),
    ("opening", N_("Opening")),
    ("dispatched", N_("Dispatched")),
    ("received", N_("Received by supplier")),
    ("consumed", N_("Consumed by accepted output")),
    ("scrap_allowance", N_("Scrap allowance")),
    ("returned", N_("Returned")),
    ("scrapped", N_("Scrapped")),
    ("closing", N_("Closing")),
)
WIDTHS = {"reference": 34, "item_code": 16, "item_name": 24, "description": 30, "occurred_at": 18}

KIND_LABELS = {
    "delivery": N_("Accepted delivery"),
    "scrap": N_("Scrap beyond the allowance"),
    "ncr": N_("Chargeable nonconformance"),
    "adjustment": N_("Adjustment"),
}
PARTS = ("lines", "materials")


class InvalidPart(DomainError):
    code = "invalid_export"
    message = N_("Choose what to export: lines or materials.")


def line_rows(statement: StatementOut) -> list[list[Cell]]:
    states = {state.value: gettext(label) for state, label in LINE_STATE_LABELS.items()}
    return [
        [
            line.line_no,
            gettext(KIND_LABELS.get(line.kind, line.kind)),
            line.reference,
            line.item_code,
            line.item_name,
            line.description,
            local_time(line.occurred_at),
            line.quantity,
            line.unit,
            line.unit_price,
            line.amount,
            statement.currency,
            states.get(line.state, states[LineState.OPEN.value]),
        ]
        for line in statement.lines
    ]


def material_rows(statement: StatementOut) -> list[list[Cell]]:
    return [
        [
            row.item_code,
            row.item_name,
            row.unit,
            row.opening,
            row.dispatched,
            row.received,
            row.consumed,
            row.scrap_allowance,
            row.returned,
            row.scrapped,
            row.closing,
        ]
        for row in statement.materials
    ]


def _sheet(title: str, columns: tuple[tuple[str, str], ...], rows: list[list[Cell]]) -> TableSheet:
    return TableSheet(
        title=gettext(title),
        header=[gettext(label) for _, label in columns],
        rows=list(rows),
        widths=[WIDTHS.get(key, 14) for key, _ in columns],
    )


async def export_statement(statement_id: UUID | str, fmt: str, part: str = "lines") -> BuiltFile:
    check_format(fmt)
    if part not in PARTS:
        raise InvalidPart(fields={"part": InvalidPart.message})
    statement = await services.get_statement(statement_id)
    sheets = [
        _sheet(N_("Statement lines"), LINE_COLUMNS, line_rows(statement)),
        _sheet(N_("Material section"), MATERIAL_COLUMNS, material_rows(statement)),
    ]
    if part == "materials":
        sheets.reverse()
    stamp = f"{datetime.now(ZoneInfo(current().time_zone)):%Y%m%d-%H%M}"
    stem = f"statement-{statement.period}-{statement.currency}-{part if fmt == 'csv' else 'all'}-{stamp}"
    return await anyio.to_thread.run_sync(build_file, fmt, sheets, stem)
