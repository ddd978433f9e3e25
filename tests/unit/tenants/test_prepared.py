"""Building a prepared statement: values go in exactly where their slots
were, constants stay, and a value that did not reach the statement is an
error when the statement is built, never a silently fixed value."""

from __future__ import annotations

from typing import Any

import pytest

from portal.orders.tables import Order
from tenants.prepared import ID_LIST_SIZES, _build, id_slots, id_values


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


def test_an_id_list_is_padded_with_its_first_id_and_bound_in_order() -> None:
    ids = [f"id-{index}" for index in range(11)]
    values = id_values("order", ids)
    assert len(values) == 16
    assert list(values.values()) == [*ids, *["id-0"] * 5]
    statement = _build(lambda slot: Order.select(Order.id).where(Order.id.is_in(id_slots(slot, values))), tuple(sorted(values)), "sqlite")
    assert statement.bind(values).compile_string("sqlite")[1] == list(values.values())


@pytest.mark.parametrize("count", [0, ID_LIST_SIZES[-1] + 1])
def test_an_id_list_out_of_the_sizes_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match="ids"):
        id_values("order", ["id"] * count)
