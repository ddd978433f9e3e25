"""Exporting the item master list to CSV or XLSX: the list's search and
kind filter, every match (the page shows the first 100), one row per item.
Buyer roles only, like the list."""

from __future__ import annotations

from portal.i18n import N_, gettext
from portal.imports.exports import MAX_EXPORT_ROWS, check_format, check_size, export_file
from portal.imports.writers import BuiltFile, Cell
from portal.items import services

COLUMNS = (
    ("code", N_("Code")),
    ("name", N_("Name")),
    ("spec", N_("Specification")),
    ("unit", N_("Unit")),
    ("kind", N_("Kind")),
    ("active", N_("Active")),
)
WIDTHS = {"code": 18, "name": 30, "spec": 40}


async def export_items(query: str, kind: str | None, fmt: str) -> BuiltFile:
    check_format(fmt)
    items = await services.items_for_export(query, kind, MAX_EXPORT_ROWS)
    check_size(len(items))
    yes, no = gettext("Yes"), gettext("No")
    rows: list[list[Cell]] = [
        [item.code, item.name, item.spec, item.unit, gettext(item.kind), yes if item.active else no] for item in items
    ]
    return await export_file(fmt, title=N_("Items"), columns=COLUMNS, rows=rows, stem="items", widths=WIDTHS)
