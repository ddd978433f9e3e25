"""Reading an uploaded spreadsheet into rows of text keyed by column.

The file type is decided by content, never by name: a ZIP with
``[Content_Types].xml`` and ``xl/workbook.xml`` is an XLSX workbook (its
first sheet is read, formulas as their saved values, never evaluated);
anything else must be CSV text in UTF-8 (with or without BOM), UTF-16 with
BOM (Excel's "Unicode text") or GB18030 (what Chinese Excel writes as
"CSV"). Every limit (bytes, unpacked bytes, rows, columns, cell length) is
checked before the work it protects, and each refusal is a ``RowError``
with a message for the user.

The first non-empty row is the header. Columns are found by key
(``supplier_code``), by label in any supported language ("Supplier code",
"供应商代码") or by an alias; other columns are ignored, so an export can be
imported again. Empty rows are skipped. Row numbers are the spreadsheet's
own (the header is row 1 when it is the first line).

Everything here is synchronous and CPU-bound: call ``read_sheet`` in a
worker thread.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field

from portal.i18n import N_, SUPPORTED_LOCALES, translations
from portal.imports.errors import MB, RowError, file_error
from portal.imports.values import cell_text, clean_text

MAX_FILE_BYTES = 10 * MB
MAX_ROWS = 10_000
MAX_COLUMNS = 60
# Unpacked size of all parts of a workbook, and their number: a small ZIP
# that unpacks to gigabytes is refused before openpyxl opens it.
MAX_UNPACKED_BYTES = 200 * MB
MAX_ZIP_MEMBERS = 2_000
DEFAULT_MAX_LENGTH = 200

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXCEL_NAMES = (".xlsx", ".xlsm", ".xls", ".xltx")


@dataclass(frozen=True)
class Column:
    """One column an importer reads. ``label`` and ``hint`` are catalog ids."""

    key: str
    label: str
    required: bool = False
    max_length: int = DEFAULT_MAX_LENGTH
    aliases: tuple[str, ...] = ()
    hint: str = ""
    example: str = ""


@dataclass
class SourceRow:
    number: int
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "")


@dataclass
class Sheet:
    filename: str
    kind: str  # "csv" or "xlsx"; "" when the file could not be read at all
    header_row: int = 0
    columns: list[str] = field(default_factory=list)
    rows: list[SourceRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def has_error(self, row: int, column: str) -> bool:
        return any(error.row == row and error.column == column for error in self.errors)


class _Refused(Exception):
    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.error = error


def _normalized(label: str) -> str:
    return re.sub(r"[\s_\-*:：()（）]+", "", label).casefold()


def header_index(columns: Sequence[Column]) -> dict[str, str]:
    """Normalized header text -> column key, from keys, labels in every
    supported language and aliases."""
    index: dict[str, str] = {}
    for column in columns:
        names = [column.key, column.label, *column.aliases]
        names += [translations(locale).ugettext(column.label) for locale in SUPPORTED_LOCALES]
        for name in names:
            index.setdefault(_normalized(name), column.key)
    return index


def read_sheet(data: bytes, filename: str, columns: Sequence[Column], *, max_rows: int = MAX_ROWS) -> Sheet:
    """The rows of an uploaded file, or a sheet whose ``errors`` say why not."""
    sheet = Sheet(filename=filename, kind="")
    try:
        sheet.kind = _kind_of(data, filename)
        raw = _xlsx_rows(data) if sheet.kind == "xlsx" else _csv_rows(data)
        try:
            _fill(sheet, raw, columns, max_rows)
        finally:
            raw.close()  # closes the workbook when the rows were not all read
    except _Refused as refused:
        # The file as a whole is refused: its row errors would only be noise.
        sheet.rows, sheet.errors = [], [refused.error]
    sheet.errors.sort(key=lambda error: error.sort_key)
    return sheet


def _kind_of(data: bytes, filename: str) -> str:
    if not data:
        raise _Refused(file_error(N_("The file is empty.")))
    if len(data) > MAX_FILE_BYTES:
        raise _Refused(file_error(N_("The file is larger than %(limit)s MB. Split it into smaller files."), limit=MAX_FILE_BYTES // MB))
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        raise _Refused(file_error(N_("This is an old Excel (.xls) or a password-protected file: save it as .xlsx without a password.")))
    if filename.lower().endswith(EXCEL_NAMES):
        raise _Refused(file_error(N_("The file is named like an Excel workbook but is not one: save it again as .xlsx or .csv.")))
    return "csv"


# -- CSV ----------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM, or GB18030; else refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _Refused(file_error(N_("The file could not be read as text."))) from None
    if b"\x00" in data:
        raise _Refused(file_error(N_("This is not a CSV text file: save it as .xlsx or as CSV (UTF-8).")))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _Refused(file_error(N_("The text is neither UTF-8 nor GB18030: save it as CSV (UTF-8) or as .xlsx.")))


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {delimiter: first.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > counts[","] else ","


def _csv_rows(data: bytes) -> Generator[tuple[int, list[str]], None, None]:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record[:MAX_COLUMNS]
    except csv.Error:
        raise _Refused(RowError(number + 1, None, N_("This row could not be read: check its quotation marks."))) from None


# -- XLSX ---------------------------------------------------------------------


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _Refused(file_error(N_("The workbook is damaged or not an Excel .xlsx file."))) from None
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _Refused(file_error(N_("The workbook is damaged or not an Excel .xlsx file.")))
    if len(members) > MAX_ZIP_MEMBERS or sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise _Refused(file_error(N_("The workbook is too large once unpacked. Split it into smaller files.")))


def _xlsx_rows(data: bytes) -> Generator[tuple[int, list[str]], None, None]:
    _check_zip(data)
    import openpyxl

    try:
        # read_only streams the sheet; data_only reads each formula's saved
        # value (nothing is evaluated; a formula never saved is empty).
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:
        raise _Refused(file_error(N_("The workbook is damaged or not an Excel .xlsx file."))) from None
    try:
        if not workbook.worksheets:
            raise _Refused(file_error(N_("The workbook has no sheet.")))
        sheet = workbook.worksheets[0]
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
                # Rows come padded to MAX_COLUMNS: the common cells skip the call.
                yield number, ["" if value is None else value if type(value) is str else cell_text(value) for value in values]
        except _Refused:
            raise
        except Exception:
            raise _Refused(file_error(N_("The workbook is damaged or not an Excel .xlsx file."))) from None
    finally:
        workbook.close()


# -- rows ---------------------------------------------------------------------


def _fill(sheet: Sheet, raw: Iterable[tuple[int, list[str]]], columns: Sequence[Column], max_rows: int) -> None:
    positions: dict[int, str] = {}
    rows = iter(raw)
    for number, cells in rows:
        if any(cell.strip() for cell in cells):
            sheet.header_row = number
            positions = _map_header(sheet, number, cells, columns)
            break
    else:
        raise _Refused(file_error(N_("The file has no rows.")))
    missing = [column for column in columns if column.required and column.key not in positions.values()]
    if missing:
        for column in missing:
            sheet.errors.append(RowError(sheet.header_row, column.key, N_("This column is missing from the header row.")))
        return
    sheet.columns = [key for _, key in sorted(positions.items())]
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(sheet.rows) >= max_rows:
            raise _Refused(file_error(N_("The file has more than %(max)s rows. Split it into smaller files."), max=max_rows))
        values = {key: clean_text(cells[position]) if position < len(cells) else "" for position, key in positions.items()}
        sheet.rows.append(SourceRow(number, values))
    if not sheet.rows:
        sheet.errors.append(file_error(N_("The file has a header row but no data rows.")))
    check_cells(sheet, columns)


def check_cells(sheet: Sheet, columns: Sequence[Column]) -> None:
    """Required cells filled, none longer than its column allows."""
    by_key = {column.key: column for column in columns}
    for row in sheet.rows:
        for key, value in row.values.items():
            column = by_key.get(key)
            if column is None:
                continue
            if column.required and not value:
                sheet.errors.append(RowError(row.number, key, N_("Enter a value.")))
            elif len(value) > column.max_length:
                sheet.errors.append(RowError(row.number, key, N_("At most %(max)s characters."), {"max": column.max_length}))


def _map_header(sheet: Sheet, number: int, cells: list[str], columns: Sequence[Column]) -> dict[int, str]:
    index = header_index(columns)
    positions: dict[int, str] = {}
    seen: set[str] = set()
    for position, cell in enumerate(cells):
        key = index.get(_normalized(clean_text(cell)))
        if key is None:
            continue  # a column we do not read (an export's extra columns)
        if key in seen:
            sheet.errors.append(RowError(number, key, N_("This column appears twice in the header row.")))
            continue
        seen.add(key)
        positions[position] = key
    return positions
