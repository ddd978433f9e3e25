"""Every write checked against its columns (portal/lengths.py): the limit
comes from the column itself, on both databases, before any SQL runs."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from portal.i18n import current_locale
from portal.items.tables import BomLine, Item
from portal.lengths import TooLong, most
from portal.orders.schemas import OrderLineIn
from portal.orders.tables import OrderLine


def test_an_insert_longer_than_its_varchar_is_refused_naming_the_column() -> None:
    query = Item.insert(Item(code="x" * (Item.code.length + 1), name="ok", _ignore_missing=True))
    with pytest.raises(TooLong) as refused:
        query._validate()
    assert refused.value.limits == {"code": ("At most %(max)s characters.", Item.code.length)}


def test_a_text_that_fits_exactly_passes() -> None:
    Item.insert(Item(code="x" * Item.code.length, name="y" * Item.name.length, _ignore_missing=True))._validate()
    Item.update({Item.name: "y" * Item.name.length}).where(Item.code == "x")._validate()


def test_an_update_beyond_its_column_is_refused_in_the_requests_language() -> None:
    query = Item.update({Item.name: "y" * (Item.name.length + 1), Item.spec: "z" * (Item.spec.length + 1)}).where(Item.code == "x")
    with pytest.raises(TooLong) as refused:
        query._validate()
    token = current_locale.set("en")
    try:
        message, fields = refused.value.translated()
    finally:
        current_locale.reset(token)
    assert fields == {"name": f"At most {Item.name.length} characters.", "spec": f"At most {Item.spec.length} characters."}
    assert message == "Some fields are missing or not valid."


def test_a_number_beyond_its_numerics_precision_is_refused() -> None:
    # numeric(18, 6): below 10^12 fits, 10^12 does not.
    assert BomLine.quantity_per_unit.digits == (18, 6)
    BomLine.update({BomLine.quantity_per_unit: Decimal("999999999999.999999")}).where(BomLine.id == BomLine.id)._validate()
    with pytest.raises(TooLong) as refused:
        BomLine.update({BomLine.quantity_per_unit: Decimal(10) ** 12}).where(BomLine.id == BomLine.id)._validate()
    assert list(refused.value.limits) == ["quantity_per_unit"]


def test_a_json_field_takes_its_limit_from_the_column() -> None:
    assert most(OrderLine.operation).max_length == OrderLine.operation.length
    body = {"item_id": "2b7b1f4e-3c1a-4e43-9a43-6a4c6f2d9e10", "quantity": "1", "unit_price": "1", "due_date": "2030-01-01"}
    msgspec.convert({**body, "operation": "x" * OrderLine.operation.length}, OrderLineIn)
    with pytest.raises(msgspec.ValidationError, match=r"length <= 200 - at `\$.operation`"):
        msgspec.convert({**body, "operation": "x" * (OrderLine.operation.length + 1)}, OrderLineIn)
