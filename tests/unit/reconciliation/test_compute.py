"""A statement's arithmetic against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from uuid import uuid4

import pytest

from portal.reconciliation.compute import (
    Line,
    MaterialFigures,
    Revision,
    delivery_line,
    price_in_force,
    round_money,
    scrap_line,
    totals,
)

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def on(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def delivered(quantity: str, price: str, currency: str = "CNY") -> Line:
    return delivery_line(
        currency=currency,
        accepted=D(quantity),
        price=D(price),
        source_id=uuid4(),
        reference="DN",
        item_code="P",
        item_name="Part",
        unit="pcs",
        occurred_at=T0,
    )


def test_each_line_is_rounded_half_up_to_the_currencys_unit_once() -> None:
    assert delivered("100", "12.345").amount == D("1234.50")
    assert delivered("3", "1.115").amount == D("3.35")  # 3.345: half up
    assert delivered("7", "0.333").amount == D("2.33")  # 2.331
    assert delivered("3", "33.5", "JPY").amount == D("101")  # 100.5, no decimals in yen
    assert round_money(D("-4.938"), "CNY") == D("-4.94")
    assert round_money(D("2.5"), "KRW") == D("3")


def test_totals_are_sums_of_rounded_lines_and_tax_is_rounded_once() -> None:
    lines = [
        delivered("100", "12.345"),
        delivered("3", "1.115"),
        delivered("7", "0.333"),
        Line(kind="scrap", amount=D("-4.94")),
        Line(kind="adjustment", amount=D("10.00")),
    ]
    result = totals(lines, "CNY", D("0.13"))
    assert result.deliveries == D("1240.18")  # 1234.50 + 3.35 + 2.33
    assert result.deductions == D("-4.94")
    assert result.adjustments == D("10.00")
    assert result.subtotal == D("1245.24")
    assert result.tax == D("161.88")  # 1245.24 x 0.13 = 161.8812
    assert result.total == D("1407.12")
    assert result.total == sum((line.amount for line in lines), D(0)) + result.tax


def test_rounding_each_line_can_differ_from_rounding_the_sum_and_the_lines_win() -> None:
    # Three lines of 0.005 each: 0.01 apiece on paper, 0.03 in total,
    # where rounding the exact sum (0.015) would give 0.02.
    lines = [delivered("1", "0.005") for _ in range(3)]
    assert totals(lines, "CNY", D(0)).total == D("0.03")


def test_a_line_that_is_not_rounded_is_refused() -> None:
    with pytest.raises(ValueError, match="not rounded"):
        totals([Line(kind="adjustment", amount=D("1.005"))], "CNY", D(0))


def test_the_price_in_force_undoes_revisions_made_after_the_delivery() -> None:
    revisions = [
        Revision(on(10), {"lines": [{"line_no": 1, "change": "changed", "fields": {"unit_price": ["10", "12"]}}]}),
        Revision(on(20), {"lines": [{"line_no": 1, "change": "changed", "fields": {"unit_price": ["12", "15"], "quantity": ["5", "6"]}}]}),
        # Another line's price and a line-1 change without a price.
        Revision(on(25), {"lines": [{"line_no": 2, "change": "changed", "fields": {"unit_price": ["1", "2"]}}]}),
        Revision(on(26), {"lines": [{"line_no": 1, "change": "changed", "fields": {"due_date": ["2026-11-01", "2026-11-02"]}}]}),
    ]
    assert price_in_force(D(15), 1, revisions, on(5)) == D(10)
    assert price_in_force(D(15), 1, revisions, on(10)) == D(12)  # in force from the moment it was made
    assert price_in_force(D(15), 1, revisions, on(15)) == D(12)
    assert price_in_force(D(15), 1, revisions, on(27)) == D(15)
    assert price_in_force(D(2), 2, revisions, on(5)) == D(1)
    assert price_in_force(D(15), 1, [], on(5)) == D(15)


def test_the_material_section_counts_the_scrap_allowance_once() -> None:
    steel = MaterialFigures(opening=D(10), dispatched=D(100), received=D(100), returned=D(5), scrapped=D(4))
    steel.add_output(D(60), D("1.25"), D("0.02"))  # 75 kg net, 1.5 kg allowed scrap
    assert steel.consumed == D("75.00")
    assert steel.scrap_allowance == D("1.5000")
    # 10 + 100 - 75 - 5 - 4: reported scrap is not counted a second time
    # as part of the consumption.
    assert steel.closing == D("26.00")
    assert steel.excess_scrap == D("2.5000")
    line = scrap_line(currency="CNY", figures=steel, price=D("8.20"), source_id=uuid4(), item_code="M", item_name="Steel", unit="kg")
    assert line is not None
    assert (line.kind, line.quantity, line.amount) == ("scrap", D("2.5"), D("-20.50"))


def test_scrap_within_the_allowance_is_not_charged() -> None:
    steel = MaterialFigures(received=D(100), scrapped=D("1.5"))
    steel.add_output(D(60), D("1.25"), D("0.02"))
    assert steel.excess_scrap == 0
    assert scrap_line(currency="CNY", figures=steel, price=D(8), source_id=uuid4(), item_code="M", item_name="S", unit="kg") is None
