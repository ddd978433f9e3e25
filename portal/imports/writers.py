"""Spreadsheet files for exports and import templates.

- Money and quantities are written as Decimal text ("1250.50"), never
  through a float; dates as ISO text (2026-11-21).
- CSV is UTF-8 with a BOM and CRLF line ends, so Excel (also Chinese
  Excel) opens it with the right characters.
- Text a spreadsheet would run as a formula (starting with = + - @) is
  written as text: in CSV behind an apostrophe (removed again on import),
  in XLSX as a string cell. An export never carries a live formula.

Building a file is synchronous: call ``build_file`` in a worker thread.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portal.imports.values import FORMULA_STARTS

Cell = str | Decimal | date | int | bool | None
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class TableSheet:
    """One sheet: a title (the XLSX tab), the header labels and the rows."""

    title: str
    header: list[str]
    rows: list[Sequence[Cell]] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class BuiltFile:
    content: bytes
    media_type: str
    filename: str

    @property
    def disposition(self) -> str:
        # The name is ours (ASCII), never a user's: no quoting problems.
        return f'attachment; filename="{self.filename}"'


def text_of(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _inert(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(sheet: TableSheet) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_inert(label) for label in sheet.header])
    for row in sheet.rows:
        writer.writerow([_inert(text_of(value)) if isinstance(value, str) else text_of(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_cell(worksheet: Any, value: Cell, *, bold: bool = False) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    text = ILLEGAL_CHARACTERS_RE.sub("", text_of(value))
    cell = WriteOnlyCell(worksheet, value=text or None)
    if text:
        # openpyxl would store "=..." as a formula; here it is text.
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def xlsx_bytes(sheets: Sequence[TableSheet]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    for spec in sheets:
        worksheet = workbook.create_sheet(title=spec.title[:31])
        for index, width in enumerate(spec.widths, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = width
        worksheet.freeze_panes = "A2"
        worksheet.append([_xlsx_cell(worksheet, label, bold=True) for label in spec.header])
        for row in spec.rows:
            worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build_file(fmt: str, sheets: Sequence[TableSheet], stem: str) -> BuiltFile:
    """CSV takes the first sheet only; XLSX all of them."""
    if fmt == "xlsx":
        return BuiltFile(xlsx_bytes(sheets), MEDIA_TYPES["xlsx"], f"{stem}.xlsx")
    return BuiltFile(csv_bytes(sheets[0]), MEDIA_TYPES["csv"], f"{stem}.csv")
