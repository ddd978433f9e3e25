"""The statement PDF's line tables: every cell's text as printed (unit
prices and quantities with every decimal) and the fixed column widths sized
from those texts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from portal.i18n import use_locale
from portal.reconciliation.pdf import LINE_COLUMNS, TEXT_WIDTH_EM, PrintedLine, column_widths, printed_lines, text_em
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


def test_columns_get_their_longest_text_and_share_what_is_left() -> None:
    titles = tuple(LINE_COLUMNS)
    rows = [PrintedLine(("1", "2025/3/10 12:00", "DN-1", "P-01", "法兰盘", "9", "件", "1.5", "¥13.50", ""), "")]
    widths = column_widths(titles, rows)
    assert abs(sum(widths) - 100) < 0.1
    needed = [max(text_em(cell), max(text_em(word) for word in title.split())) for cell, title in zip(rows[0].cells, titles, strict=True)]
    for width, need in zip(widths, needed, strict=True):
        assert width * TEXT_WIDTH_EM / 100 > need


def test_a_reference_too_long_for_the_page_wraps_and_the_amounts_keep_their_width() -> None:
    long = "DN-2025-00001 / PO-2025-00001 #1 " * 4
    rows = [PrintedLine(("1", "2025/3/10 12:00", long, "P-01", "法兰盘", "12,345.5", "件", "1,234.5678", "-¥1,234,567.89", "已确认"), "")]
    widths = column_widths(tuple(LINE_COLUMNS), rows)
    assert abs(sum(widths) - 100) < 0.1
    # The reference takes what is left and wraps; every number still fits on one line.
    assert widths[2] * TEXT_WIDTH_EM / 100 < text_em(long)
    for index in (0, 5, 7, 8):
        assert widths[index] * TEXT_WIDTH_EM / 100 > text_em(rows[0].cells[index])
