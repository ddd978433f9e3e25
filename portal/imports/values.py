"""Cells as text, and typed readings of that text.

Every cell of an upload becomes the text the user would see (CSV cells are
text already; XLSX numbers and dates are written out the same way), so the
rows of a CSV and of an XLSX file go through the same checks, and parsed
rows can be carried as JSON (see ``sealing``).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

# Excel's day numbers: 1 is 1900-01-01, 2958465 is 9999-12-31.
EXCEL_SERIAL_MAX = 2958465
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,7}(?:\.0+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
# What a spreadsheet would run as a formula; written to CSV with a leading
# apostrophe (see writers.py), which is removed again on import.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: object) -> str:
    """The text of one XLSX cell value (openpyxl types) or CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if abs(value) >= 1e15 or abs(value) < 1e-9:
            # Written out, 1e308 is 309 digits: refused for its length
            # rather than as the number it is. Kept short, the column's
            # own check names what is wrong with it.
            return repr(value)
        # repr is the shortest text that reads back as the same float:
        # 12.5 stays "12.5", never "12.4999999999".
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def clean_text(text: str) -> str:
    """Trimmed (including full-width and no-break spaces); an apostrophe
    that only protected a formula-like text is dropped."""
    text = text.strip()
    if text.startswith("'") and text[1:2] and text[1] in "=+-@":
        return text[1:]
    return text


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD; also YYYY/M/D, YYYY.MM.DD, 2026年11月21日, YYYYMMDD, a
    date with a time (the time is ignored) and an Excel day number."""
    text = text.strip()
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    if _SERIAL.match(text):
        serial = int(float(text))
        if 1 <= serial <= EXCEL_SERIAL_MAX:
            from openpyxl.utils.datetime import from_excel

            converted = from_excel(serial)
            return converted.date() if isinstance(converted, datetime) else None
    return None


def number_text(text: str) -> str:
    """Thousands separators as Excel writes them in CSV removed ("1,234.5"
    -> "1234.5"); anything else unchanged, for the caller's own checks."""
    text = text.strip().replace("\u00a0", "")
    if _THOUSANDS.match(text):
        return text.replace(",", "")
    return text


def parse_decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(number_text(text))
    except (ArithmeticError, ValueError):
        return None
    return value if value.is_finite() else None
