"""Over-delivery tolerance arithmetic and how quantities are written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.deliveries.services import (
    InvalidDelivery,
    OverDelivery,
    Problems,
    open_quantity,
    percent,
    plain,
    shippable_quantity,
    suggested_quantity,
)
from portal.i18n import use_locale

D = Decimal


@pytest.mark.parametrize(
    ("ordered", "delivered", "in_transit", "tolerance", "expected"),
    [
        ("100", "0", "0", "0.05", "105"),  # open x (1 + tolerance)
        ("100", "0", "0", "0", "100"),  # no tolerance: exactly what is open
        ("100", "55", "0", "0.05", "47.25"),  # tolerance on what is still open
        ("100", "0", "60", "0.05", "45"),  # what is on the way counts
        ("100", "0", "105", "0.05", "0"),
        ("100", "0", "110", "0.05", "0"),  # never below zero
        ("100", "100", "0", "0.05", "0"),  # nothing open, nothing over
        ("100", "120", "0", "0.05", "0"),  # delivered beyond ordered (a revision lowered it)
        ("3", "0", "0", "0.3333", "3.9999"),
        ("1", "0", "0", "0.0001", "1.0001"),
        ("0.000007", "0", "0", "0.5", "0.00001"),  # rounded down to 6 decimals
    ],
)
def test_shippable_quantity(ordered: str, delivered: str, in_transit: str, tolerance: str, expected: str) -> None:
    assert shippable_quantity(D(ordered), D(delivered), D(in_transit), D(tolerance)) == D(expected)


def test_shippable_quantity_is_never_more_than_the_exact_limit() -> None:
    for tolerance in ("0.0333", "0.0777", "0.1234"):
        allowed = shippable_quantity(D("12.345678"), D(0), D(0), D(tolerance))
        assert allowed <= D("12.345678") * (1 + D(tolerance))
        assert D("12.345678") * (1 + D(tolerance)) - allowed < D("0.000001")


def test_open_and_suggested_quantities() -> None:
    assert open_quantity(D(100), D(40)) == 60
    assert open_quantity(D(100), D(140)) == 0
    assert suggested_quantity(D(100), D(40), D(25)) == 35
    assert suggested_quantity(D(100), D(40), D(70)) == 0


@pytest.mark.parametrize(
    ("value", "text"),
    [("12.500000", "12.5"), ("1.25E+2", "125"), ("100", "100"), ("0.000000", "0"), ("0.000001", "0.000001"), ("1E+3", "1000")],
)
def test_plain(value: str, text: str) -> None:
    assert plain(D(value)) == text


def test_percent() -> None:
    assert percent(D("0.05")) == "5%"
    assert percent(D("0.1250")) == "12.5%"
    assert percent(D(0)) == "0%"


def test_each_field_speaks_with_its_own_numbers_in_the_readers_language() -> None:
    problems = Problems()
    problems.over_delivery = True
    problems.add("lines.0.quantity", "At most %(allowed)s", allowed="5")
    problems.add("lines.1.quantity", "At most %(allowed)s", allowed="7")
    problems.add("lines.1.quantity", "ignored: the first problem of a field wins")
    with pytest.raises(OverDelivery) as raised:
        problems.raise_if_any()
    with use_locale("en"):
        message, fields = raised.value.translated()
    assert fields == {"lines.0.quantity": "At most 5", "lines.1.quantity": "At most 7"}
    assert raised.value.code == "over_delivery"
    assert message


def test_without_over_delivery_the_error_is_plain_invalid_input() -> None:
    problems = Problems()
    assert not problems
    problems.raise_if_any()
    problems.add("lines", "Add at least one line.")
    with pytest.raises(InvalidDelivery) as raised:
        problems.raise_if_any()
    assert type(raised.value) is InvalidDelivery
    assert raised.value.status_code == 400
    with use_locale("zh_CN"):
        _, fields = raised.value.translated()
    assert set(fields) == {"lines"}
