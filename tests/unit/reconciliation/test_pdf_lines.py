"""The statement PDF's tables: every cell's text as printed (unit prices
and quantities with every decimal), the fixed column widths sized from
those texts so that no text leaves its cell, and the period as the days it
covers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from portal.i18n import gettext, use_locale
from portal.reconciliation.pdf import (
    LINE_COLUMNS,
    MATERIAL_COLUMNS,
    MATERIAL_NUMERIC_COLUMNS,
    MIN_FONT_SCALE,
    MIN_TEXT_EM,
    NUMERIC_COLUMNS,
    TEXT_WIDTH_EM,
    PrintedLine,
    TableLayout,
    column_widths,
    period_range,
    printed_lines,
    text_em,
    word_em,
)
from portal.reconciliation.schemas import LineOut, StatementOut

AT = datetime(2025, 3, 10, 4, tzinfo=UTC)


def line(reference: str = "DN-2025-00001 / PO-2025-00001 #1", **changes: object) -> LineOut:
    values: dict[str, object] = {
        "id": uuid4(),
        "line_no": 1,
        "kind": "delivery",
        "reference": reference,
        "item_code": "P-01",
        "item_name": "法兰盘",
        "description": "",
        "occurred_at": AT,
        "quantity": Decimal("1.234567"),
        "unit": "件",
        "unit_price": Decimal("12.3456"),
        "amount": Decimal("15.24"),
        "state": "confirmed",
    }
    values.update(changes)
    return LineOut(**values)  # type: ignore[arg-type]


def statement(lines: list[LineOut], status: str = "sent") -> StatementOut:
    zero = Decimal(0)
    return StatementOut(
        uuid4(), uuid4(), "供应商", "2025-03", AT, AT, False, "CNY", status, lines, [],
        zero, zero, zero, zero, zero, zero, zero, AT, 1, None, None, None, [], "",
    )  # fmt: skip


def test_a_line_prints_its_unit_price_and_quantity_with_every_decimal() -> None:
    with use_locale("zh_CN"):
        [row] = printed_lines(statement([line()]), [line()], "Asia/Shanghai")
    assert row.cells == (
        "1", "2025/3/10 12:00", "DN-2025-00001 / PO-2025-00001 #1", "P-01", "法兰盘", "1.234567", "件", "12.3456", "¥15.24", "已确认",
    )  # fmt: skip


def test_a_draft_prints_no_agreement_and_a_deduction_names_its_kind() -> None:
    scrap = line(kind="scrap", reference="", item_name="圆钢", description="超出 2 kg", unit_price=None, state="open")
    with use_locale("en"):
        [row] = printed_lines(statement([scrap], status="draft"), [scrap], "UTC")
    assert (row.cells[4], row.cells[7], row.cells[9], row.note) == ("圆钢 · Scrap beyond the allowance", "", "", "超出 2 kg")


# A cell's padding: 1 mm each side, 3 mm to the em.
PADDING_EM = 2 / 3


def room(layout: TableLayout, index: int) -> float:
    """The width a cell's text has, in em of the table's own font."""
    return (layout.widths[index] * TEXT_WIDTH_EM / 100 - PADDING_EM) / layout.scale


def test_columns_get_their_longest_text_and_share_what_is_left() -> None:
    titles = tuple(LINE_COLUMNS)
    rows = [PrintedLine(("1", "2025/3/10 12:00", "DN-1", "P-01", "法兰盘", "9", "件", "1.5", "¥13.50", ""), "")]
    layout = column_widths(titles, NUMERIC_COLUMNS, rows)
    assert abs(sum(layout.widths) - 100) < 0.1
    assert layout.scale == 1
    # Titles wrap at their spaces: their longest word must fit.
    needed = [max(text_em(cell), word_em(title)) for cell, title in zip(rows[0].cells, titles, strict=True)]
    for index, need in enumerate(needed):
        assert room(layout, index) > need


def test_a_reference_too_long_for_the_page_wraps_and_the_amounts_keep_their_width() -> None:
    long = "DN-2025-00001 / PO-2025-00001 #1 " * 4
    rows = [PrintedLine(("1", "2025/3/10 12:00", long, "P-01", "法兰盘", "12,345.5", "件", "1,234.5678", "-¥1,234,567.89", "已确认"), "")]
    layout = column_widths(tuple(LINE_COLUMNS), NUMERIC_COLUMNS, rows)
    assert abs(sum(layout.widths) - 100) < 0.1
    # The reference wraps at its spaces; every number still fits on one line.
    assert word_em(long) < room(layout, 2) < text_em(long)
    for index in NUMERIC_COLUMNS:
        assert room(layout, index) > text_em(rows[0].cells[index])


def test_words_without_spaces_break_instead_of_squeezing_the_other_columns() -> None:
    """A 60-character item code, a 200-character name and a 150-character
    note, none with a space, beside an ordinary row: the numbers keep
    their widths, every other column keeps room for its ordinary words
    (the short Chinese name on one line), and the long words break."""
    ordinary = PrintedLine(
        (
            "2",
            "3/10/2025, 12:00 PM",
            "DN-2025-00001 / PO-2025-00001 #1",
            "P-01",
            "法兰盘（不锈钢）",
            "100",
            "pcs",
            "18.5",
            "$1,850.00",
            "Confirmed",
        )
    )
    long = PrintedLine(
        (
            "1",
            "3/10/2025, 12:00 PM",
            "DN-2025-00001",
            "LONG-" + "X" * 55,
            "N" * 200,
            "12,345.5",
            "pcs",
            "1,234.5678",
            "-$1,234,567.89",
            "Disputed",
        ),
        "Z" * 150,
    )
    with use_locale("en"):
        titles = tuple(gettext(title) for title in LINE_COLUMNS)
    layout = column_widths(titles, NUMERIC_COLUMNS, [long, ordinary])
    assert abs(sum(layout.widths) - 100) < 0.1
    assert layout.scale == 1
    for index in NUMERIC_COLUMNS:
        assert room(layout, index) > max(text_em(long.cells[index]), text_em(ordinary.cells[index]), word_em(titles[index]))
    for index in set(range(len(titles))) - NUMERIC_COLUMNS:
        assert room(layout, index) > max(word_em(ordinary.cells[index]), word_em(titles[index])), titles[index]
    # The short Chinese name fits on one line; the long words take at most their share.
    assert room(layout, 4) > text_em("法兰盘（不锈钢）")
    assert room(layout, 3) < text_em(long.cells[3])


def test_the_english_material_section_fits_the_page_with_every_number_on_one_line() -> None:
    rows = [
        PrintedLine(("M-45-R25", "45# 圆钢 Ø25", "kg", "0", "900", "690", "360", "10.8", "0", "0", "330")),
        PrintedLine(("M-Q235-8", "Q235 钢板 8mm", "kg", "1,234.5678", "900", "900", "240", "7.2", "0", "0", "1,894.5678")),
    ]
    with use_locale("en"):
        titles = tuple(gettext(title) for title in MATERIAL_COLUMNS)
    layout = column_widths(titles, MATERIAL_NUMERIC_COLUMNS, rows)
    assert abs(sum(layout.widths) - 100) < 0.1
    assert layout.scale == 1
    for index, title in enumerate(titles):
        longest = max(text_em(row.cells[index]) if index in MATERIAL_NUMERIC_COLUMNS else word_em(row.cells[index]) for row in rows)
        assert room(layout, index) > max(longest, word_em(title)), title


def test_a_table_far_too_wide_is_set_as_small_as_its_numbers_need() -> None:
    huge = "123,456,789.123456"
    rows = [PrintedLine(("M-" + "Y" * 40, "W" * 200, "kg", *[huge] * 8))]
    with use_locale("en"):
        titles = tuple(gettext(title) for title in MATERIAL_COLUMNS)
    layout = column_widths(titles, MATERIAL_NUMERIC_COLUMNS, rows)
    assert abs(sum(layout.widths) - 100) < 0.1
    assert layout.scale < MIN_FONT_SCALE
    for index in MATERIAL_NUMERIC_COLUMNS:
        assert room(layout, index) > text_em(huge)
    for index in (0, 1, 2):
        assert room(layout, index) > MIN_TEXT_EM


def test_a_table_a_little_too_wide_is_set_smaller_before_its_words_break() -> None:
    rows = [PrintedLine(("M-Q235-8", "Q235 钢板 8mm", "kg", *["1,234,567.1234"] * 8))]
    with use_locale("en"):
        titles = tuple(gettext(title) for title in MATERIAL_COLUMNS)
    layout = column_widths(titles, MATERIAL_NUMERIC_COLUMNS, rows)
    assert MIN_FONT_SCALE <= layout.scale < 1
    for index, cell in enumerate(rows[0].cells):
        assert room(layout, index) > (text_em(cell) if index in MATERIAL_NUMERIC_COLUMNS else word_em(cell))


def test_the_period_prints_its_first_and_last_day_with_the_year_in_full() -> None:
    # October 2026 in Shanghai: 30 Sep 16:00 UTC to 31 Oct 16:00 UTC, the end excluded.
    start, end = datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 10, 31, 16, tzinfo=UTC)
    with use_locale("en"):
        assert period_range(start, end, "Asia/Shanghai") == "Oct 1, 2026 – Oct 31, 2026, Asia/Shanghai time"
    with use_locale("zh_CN"):
        assert period_range(start, end, "Asia/Shanghai") == "2026年10月1日 – 2026年10月31日，Asia/Shanghai 时间"


def test_a_period_cut_off_within_a_day_prints_its_first_and_last_second() -> None:
    # Cut off on the 25th at 18:00 Shanghai time.
    start, end = datetime(2026, 9, 25, 10, tzinfo=UTC), datetime(2026, 10, 25, 10, tzinfo=UTC)
    with use_locale("en"):
        printed = period_range(start, end, "Asia/Shanghai").replace("\u202f", " ")
    assert printed == "Sep 25, 2026, 6:00:00 PM – Oct 25, 2026, 5:59:59 PM, Asia/Shanghai time"
    with use_locale("zh_CN"):
        assert period_range(start, end, "Asia/Shanghai") == "2026年9月25日 18:00:00 – 2026年10月25日 17:59:59，Asia/Shanghai 时间"
