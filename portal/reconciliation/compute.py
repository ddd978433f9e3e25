"""The arithmetic of a statement, as plain functions on plain values.

Everything is ``Decimal``. Each line's amount is rounded to the currency's
smallest unit (half up) once; the totals are sums of those rounded amounts,
and the tax is rounded once on the subtotal, so a statement always adds up
on paper.

Material and scrap, counted once: the consumption of accepted output is the
BOM's net use (accepted x quantity per unit). The BOM's scrap rate is an
allowance (accepted x quantity per unit x scrap rate) that scrap the
supplier reports is set against; only scrap beyond it is charged, at the
material's price (the balance of ``portal.materials`` counts the same way).
Scrap beyond the allowance is the only over-consumption the records
show (no stock count exists), so "material consumed beyond the BOM" and
"scrap beyond the allowance" are one deduction per material, never two.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any
from uuid import UUID

from portal.quantities import CURRENCY_DECIMALS

ZERO = Decimal(0)


@cache
def quantum(currency: str) -> Decimal:
    # Cached: called for every line, twice, of statements of thousands.
    return Decimal(1).scaleb(-CURRENCY_DECIMALS.get(currency, 2))


def round_money(value: Decimal, currency: str) -> Decimal:
    return value.quantize(quantum(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Revision:
    """An order revision: when it was made and its stored diff."""

    created_at: datetime
    diff: Mapping[str, Any]


def price_in_force(current: Decimal, line_no: int, revisions: Iterable[Revision], at: datetime) -> Decimal:
    """The unit price of order line ``line_no`` at ``at``: today's price,
    with every revision made after ``at`` undone, newest first. A revision
    is in force from the moment it was made."""
    price = current
    for revision in sorted(revisions, key=lambda r: r.created_at, reverse=True):
        if revision.created_at <= at:
            break
        for change in revision.diff.get("lines", []):
            fields = change.get("fields") or {}
            if change.get("line_no") == line_no and change.get("change") == "changed" and "unit_price" in fields:
                price = Decimal(str(fields["unit_price"][0]))
    return price


@dataclass(frozen=True)
class Line:
    """A statement line before it is stored. ``amount`` is already rounded."""

    kind: str
    amount: Decimal
    source_id: UUID | None = None
    reference: str = ""
    item_code: str = ""
    item_name: str = ""
    description: str = ""
    occurred_at: datetime | None = None
    quantity: Decimal | None = None
    unit: str = ""
    unit_price: Decimal | None = None


def delivery_line(
    *,
    currency: str,
    accepted: Decimal,
    price: Decimal,
    source_id: UUID,
    reference: str,
    item_code: str,
    item_name: str,
    unit: str,
    occurred_at: datetime,
) -> Line:
    return Line(
        kind="delivery",
        amount=round_money(accepted * price, currency),
        source_id=source_id,
        reference=reference,
        item_code=item_code,
        item_name=item_name,
        occurred_at=occurred_at,
        quantity=accepted,
        unit=unit,
        unit_price=price,
    )


@dataclass
class MaterialFigures:
    """One material of the material section, all ``Decimal``."""

    opening: Decimal = ZERO
    dispatched: Decimal = ZERO
    received: Decimal = ZERO
    consumed: Decimal = ZERO
    scrap_allowance: Decimal = ZERO
    returned: Decimal = ZERO
    scrapped: Decimal = ZERO

    @property
    def closing(self) -> Decimal:
        """What the supplier should still hold: what it had, plus what it
        confirmed receiving, less the net use of accepted output, returns
        and scrap."""
        return self.opening + self.received - self.consumed - self.returned - self.scrapped

    @property
    def excess_scrap(self) -> Decimal:
        return max(self.scrapped - self.scrap_allowance, ZERO)

    def add_output(self, accepted: Decimal, per_unit: Decimal, scrap_rate: Decimal) -> None:
        self.consumed += accepted * per_unit
        self.scrap_allowance += accepted * per_unit * scrap_rate


def scrap_line(
    *, currency: str, figures: MaterialFigures, price: Decimal, source_id: UUID, item_code: str, item_name: str, unit: str
) -> Line | None:
    """The deduction for scrap beyond the allowance, or None without any."""
    excess = figures.excess_scrap
    if excess <= 0:
        return None
    return Line(
        kind="scrap",
        amount=-round_money(excess * price, currency),
        source_id=source_id,
        item_code=item_code,
        item_name=item_name,
        quantity=excess,
        unit=unit,
        unit_price=price,
    )


def ncr_line(
    *,
    currency: str,
    amount: Decimal,
    quantity: Decimal,
    source_id: UUID,
    reference: str,
    item_code: str,
    item_name: str,
    unit: str,
    note: str,
    occurred_at: datetime,
) -> Line:
    """The deduction of one chargeable NCR disposition: the amount QA
    charged, rounded once to the currency (QA may enter finer amounts than
    the order's currency has), as a negative line. ``unit_price`` stays
    empty: the charge is a lump sum for the quantity, not a price."""
    return Line(
        kind="ncr",
        amount=-round_money(amount, currency),
        source_id=source_id,
        reference=reference,
        item_code=item_code,
        item_name=item_name,
        description=note,
        occurred_at=occurred_at,
        quantity=quantity,
        unit=unit,
    )


@dataclass
class Totals:
    deliveries: Decimal = ZERO
    deductions: Decimal = ZERO
    adjustments: Decimal = ZERO
    subtotal: Decimal = ZERO
    tax: Decimal = ZERO
    total: Decimal = ZERO
    lines: list[Line] = field(default_factory=list)


DEDUCTIONS = frozenset({"scrap", "ncr"})


def totals(lines: Iterable[Line], currency: str, tax_rate: Decimal) -> Totals:
    """Sums of the rounded lines by kind; tax rounded once on the subtotal."""
    result = Totals(lines=list(lines))
    for line in result.lines:
        if line.amount != round_money(line.amount, currency):
            raise ValueError(f"line amount {line.amount} is not rounded to {currency}")
        if line.kind == "delivery":
            result.deliveries += line.amount
        elif line.kind in DEDUCTIONS:
            result.deductions += line.amount
        else:
            result.adjustments += line.amount
    result.subtotal = result.deliveries + result.deductions + result.adjustments
    result.tax = round_money(result.subtotal * tax_rate, currency)
    result.total = result.subtotal + result.tax
    return result
