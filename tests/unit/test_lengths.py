"""Every write checked against its columns (portal/lengths.py): the limit
comes from the column itself, on both databases, before any SQL runs."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from portal.i18n import current_locale
from portal.items.tables import BomLine, Item
from portal.lengths import TEXT_LENGTH, TooLong, is_free_text, most
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


# Text columns the portal writes itself, never from what a person typed:
# they hold any length. Every other Text column is marked free_text.
WRITTEN_BY_THE_PORTAL = {
    "job.payload": "a job's arguments, built by the code that queues it",
    "job.last_error": "an exception's text",
    "statement_line.description": "composed from the order line when a statement is computed",
    "statement_pdf.error": "a rendering error's text",
    "audit_chain_head.legacy_seal": "a seal computed by the audit chain",
    "scorecard_figures.figures": "computed figures, as JSON",
    "notification.params": "a notification's parameters, as JSON",
    "webhook_endpoint.events": "the chosen events, as JSON (each checked against the known events)",
    "chat_robot.events": "the chosen events, as JSON (each checked against the known events)",
    "webhook_delivery.body": "the JSON body the portal sends",
    "webhook_delivery.last_error": "a delivery error's text",
    "vapid_key.private_pem": "a generated key",
    "portal_user.password_hash": "a password hash",
}


def test_every_text_column_is_free_text_or_written_by_the_portal() -> None:
    from piccolo.columns import Text
    from piccolo.conf.apps import Finder

    found = {
        f"{table._meta.tablename}.{column._meta.name}": is_free_text(column)
        for table in Finder().get_table_classes()
        for column in table._meta.columns
        if isinstance(column, Text)
    }
    unmarked = sorted(name for name, free in found.items() if not free and name not in WRITTEN_BY_THE_PORTAL)
    assert unmarked == [], "mark these free_text(...) in their tables (people type into them) or list them here with the reason"
    assert sorted(set(WRITTEN_BY_THE_PORTAL) - {name for name, free in found.items() if not free}) == []


def test_free_text_holds_at_most_text_length() -> None:
    from portal.orders.tables import Order

    Order.update({Order.notes_shared: "x" * TEXT_LENGTH}).where(Order.number == "x")._validate()
    with pytest.raises(TooLong) as refused:
        Order.update({Order.notes_shared: "x" * (TEXT_LENGTH + 1)}).where(Order.number == "x")._validate()
    assert refused.value.limits == {"notes_shared": ("At most %(max)s characters.", TEXT_LENGTH)}
