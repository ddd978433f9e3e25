"""The arithmetic of the material balance and of the receipt tolerance, in
Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.materials.services import Consumption, Figures, is_out_of_tolerance, plain

D = Decimal


def test_held_is_dispatched_corrected_by_receipts_minus_consumption_returns_and_scrap() -> None:
    figures = Figures(dispatched=D("150"), receipt_difference=D("-5"), returned=D("10"), scrapped=D("2.5"))
    # 40 accepted x 1.25 per unit = 50 used; 40 x 1.25 x 0.02 = 1 of scrap
    # allowed, which is not used: 150 - 5 - 50 - 10 - 2.5 = 82.5 held.
    figures.uses.append(Consumption(accepted=D("40"), quantity_per_unit=D("1.25"), scrap_rate=D("0.02")))
    assert figures.consumed == D("50")
    assert figures.scrap_allowance == D("1")
    assert figures.held == D("82.5")
    assert figures.over_consumption is False
    assert figures.excess_scrap is True


def test_consumption_adds_up_over_order_lines_exactly() -> None:
    figures = Figures(dispatched=D("10"))
    figures.uses += [
        Consumption(D("3"), D("0.1"), D("0.05")),
        Consumption(D("7"), D("0.1"), D("0.05")),
        Consumption(D("0.333333"), D("3"), D("0")),
    ]
    # 10 x 0.1 + 0.333333 x 3 = 1 + 0.999999: no float rounding anywhere;
    # the allowance 10 x 0.1 x 0.05 = 0.05 stays out of it.
    assert figures.consumed == D("1.999999")
    assert figures.scrap_allowance == D("0.05")
    assert figures.held == D("8.000001")


def test_using_more_than_was_sent_is_over_consumption() -> None:
    # 40 x 1.25 = 50 used of 49 sent.
    figures = Figures(dispatched=D("49"), uses=[Consumption(D("40"), D("1.25"), D("0.02"))])
    assert figures.held == D("-1")
    assert figures.over_consumption is True


def test_scrap_within_the_allowance_is_not_flagged_and_counts_once() -> None:
    figures = Figures(dispatched=D("100"), scrapped=D("1"), uses=[Consumption(D("40"), D("1.25"), D("0.02"))])
    assert figures.excess_scrap is False
    # 100 - 50 used - 1 scrapped: the allowance is not taken a second time.
    assert figures.held == D("49")
    figures.scrapped = D("1.000001")
    assert figures.excess_scrap is True


def test_an_empty_balance_is_zero_and_unflagged() -> None:
    figures = Figures()
    assert (figures.consumed, figures.scrap_allowance, figures.held) == (0, 0, 0)
    assert not figures.over_consumption
    assert not figures.excess_scrap


@pytest.mark.parametrize(
    ("dispatched", "received", "out"),
    [
        ("100", "100", False),
        ("100", "102", False),  # exactly at 2 %: still fine
        ("100", "98", False),
        ("100", "102.000001", True),
        ("100", "97.999999", True),
        ("100", "0", True),
        ("0.5", "0.51", False),
        ("0.5", "0.511", True),
    ],
)
def test_tolerance_is_a_fraction_of_the_dispatched_quantity_either_way(dispatched: str, received: str, out: bool) -> None:
    assert is_out_of_tolerance(D(dispatched), D(received), D("0.02")) is out


def test_zero_tolerance_flags_any_difference() -> None:
    assert is_out_of_tolerance(D("10"), D("10"), D("0")) is False
    assert is_out_of_tolerance(D("10"), D("10.000001"), D("0")) is True


@pytest.mark.parametrize(
    ("value", "shown"),
    [("12.500000", "12.5"), ("100", "100"), ("1E+2", "100"), ("0.000001", "0.000001"), ("-5.000", "-5"), ("2.0499994", "2.049999")],
)
def test_quantities_read_the_same_from_both_databases(value: str, shown: str) -> None:
    assert str(plain(D(value))) == shown
