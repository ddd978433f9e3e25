"""Typed readings of cell text: dates (with Excel day numbers) and numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.imports.values import cell_text, clean_text, number_text, parse_date, parse_decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-31", date(2026, 12, 31)),
        ("2026/1/5", date(2026, 1, 5)),
        ("2026.01.05", date(2026, 1, 5)),
        ("2026年1月5日", date(2026, 1, 5)),
        ("20260105", date(2026, 1, 5)),
        ("2026-01-05 00:00:00", date(2026, 1, 5)),
        ("2026-01-05T08:30", date(2026, 1, 5)),
        ("46022", date(2025, 12, 31)),  # an Excel day number
        ("46022.0", date(2025, 12, 31)),
        ("61", date(1900, 3, 1)),  # after Excel's phantom 1900-02-29
    ],
)
def test_dates_in_the_forms_spreadsheets_write(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/12/2026", "2026-02-30", "tomorrow", "", "0", "99999999", "=TODAY()"])
def test_anything_else_is_not_a_date(text: str) -> None:
    assert parse_date(text) is None


def test_numbers_keep_their_exact_decimal_value() -> None:
    assert parse_decimal("1,234.50") == Decimal("1234.50")
    assert parse_decimal(" 12.5 ") == Decimal("12.5")
    assert number_text("1,5") == "1,5"  # a decimal comma is left for the caller to refuse
    assert parse_decimal("1,5") is None
    assert parse_decimal("NaN") is None
    assert parse_decimal("Infinity") is None


def test_cell_values_become_their_display_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(3.0) == "3"
    assert cell_text(12.5) == "12.5"
    assert cell_text(0.1) == "0.1"
    assert cell_text(1e-7) == "0.0000001"
    assert cell_text(date(2026, 1, 2)) == "2026-01-02"


def test_clean_text_trims_all_spaces_and_the_formula_guard() -> None:
    assert clean_text("\u3000 P-1\u00a0") == "P-1"
    assert clean_text("'=SUM(A1)") == "=SUM(A1)"
    assert clean_text("'quoted'") == "'quoted'"
