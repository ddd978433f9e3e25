"""Chinese capital amounts (大写金额) against figures written by hand by the
settlement rules' examples and their zero rules."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from portal.reconciliation.capital import capital_amount


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("613.43", "陆佰壹拾叁元肆角叁分"),
        ("0", "零元整"),
        ("0.00", "零元整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("15.00", "壹拾伍元整"),
        ("100", "壹佰元整"),
        ("1005", "壹仟零伍元整"),
        ("1010.10", "壹仟零壹拾元壹角"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("12.05", "壹拾贰元零伍分"),
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("0.56", "伍角陆分"),
        ("100000", "壹拾万元整"),
        ("100070", "壹拾万零柒拾元整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("325000.00", "叁拾贰万伍仟元整"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("10000001", "壹仟万零壹元整"),
        ("100000001", "壹亿零壹元整"),
        ("120000000", "壹亿贰仟万元整"),
        ("1000000000000", "壹万亿元整"),
        ("-22.14", "负贰拾贰元壹角肆分"),
        # Rounded half up to the fen first.
        ("2.345", "贰元叁角伍分"),
        ("-0.001", "零元整"),
    ],
)
def test_capital_amount(amount: str, words: str) -> None:
    assert capital_amount(D(amount)) == words


def test_an_amount_beyond_the_sections_is_refused() -> None:
    with pytest.raises(ValueError, match="too large"):
        capital_amount(D("1" + "0" * 16))
