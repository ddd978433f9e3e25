"""Parsing quantities and money: Decimal only, with clear limits."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from portal.i18n import N_

QUANTITY_DECIMALS = 6
CURRENCY_DECIMALS = {"CNY": 2, "USD": 2, "EUR": 2, "JPY": 0, "HKD": 2, "KRW": 0, "GBP": 2}
MAX_QUANTITY = Decimal("1e12")
QUANTUM = Decimal(1).scaleb(-QUANTITY_DECIMALS)


def plain(value: Decimal | int | str) -> Decimal:
    """A quantity or price as people write it, the same from both databases:
    rounded to the quantity precision, no trailing zeros, never in exponent
    form (12.500000 -> 12.5, 1E+2 -> 100). PostgreSQL returns its column's
    scale (100.000000), SQLite does not."""
    rounded = Decimal(value).quantize(QUANTUM, rounding=ROUND_HALF_UP).normalize()
    return rounded.quantize(Decimal(1)) if rounded == rounded.to_integral_value() else rounded


def decimals_of(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def quantity_problem(value: object, *, allow_zero: bool = False) -> tuple[Decimal | None, str | None]:
    """The quantity as a Decimal, or the reason it is not acceptable."""
    try:
        quantity = Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        return None, N_("Enter a number.")
    if not quantity.is_finite():
        return None, N_("Enter a number.")
    if quantity < 0 or (quantity == 0 and not allow_zero):
        return None, N_("Enter a quantity greater than zero.")
    if quantity >= MAX_QUANTITY or decimals_of(quantity) > QUANTITY_DECIMALS:
        return None, N_("This quantity is too large or too precise.")
    return quantity, None


def price_problem(value: object, currency: str) -> tuple[Decimal | None, str | None]:
    """A unit price in the currency's smallest unit at most (2 decimals for CNY)."""
    try:
        price = Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        return None, N_("Enter a price.")
    if not price.is_finite():
        return None, N_("Enter a price.")
    if price < 0:
        return None, N_("Enter a price of zero or more.")
    if price >= MAX_QUANTITY:
        return None, N_("This price is too large.")
    if decimals_of(price) > CURRENCY_DECIMALS.get(currency, 2):
        return None, N_("This currency has at most %(decimals)s decimals.")
    return price, None
