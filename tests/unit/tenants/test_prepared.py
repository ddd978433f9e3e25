"""Building a prepared statement: values go in exactly where their slots
were, constants stay, and a value that did not reach the statement is an
error when the statement is built, never a silently fixed value."""

from __future__ import annotations

from typing import Any

import pytest

from portal.orders.tables import Order
from tenants.prepared import _build


def test_values_go_where_their_slots_were_and_constants_stay() -> None:
    def build(slot: Any) -> Any:
        return (
            Order.select(Order.id)
            .where(Order.status != "draft")
            .where((Order.number.ilike(slot["term"])) | (Order.notes_shared.ilike(slot["term"])))
            .where(Order.status == slot["status"])
        )

    statement = _build(build, ("status", "term"), "postgres")
    sql, args = statement.bind({"status": "issued", "term": "%WO%"}).compile_string()
    assert sql == statement.sql
    assert args == ["draft", "%WO%", "%WO%", "issued"]
    assert statement.bind({"status": "closed", "term": "%X%"}).compile_string()[1] == ["draft", "%X%", "%X%", "closed"]


def test_a_value_the_statement_does_not_carry_is_refused_when_it_is_built() -> None:
    with pytest.raises(TypeError, match="not in the compiled query"):
        _build(lambda slot: Order.select(Order.id).where(Order.status == "issued"), ("status",), "sqlite")
