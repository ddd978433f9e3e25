"""How the dispatch service's refusals are reported against the rows of
an imported file."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from portal.materials.importing import PlannedDispatch, PlannedLine, _row_errors
from portal.materials.schemas import DispatchLineIn
from portal.materials.services import InvalidDispatch


def planned(*rows: int) -> PlannedDispatch:
    dispatch = PlannedDispatch("R-1", "S1", uuid4(), "", None, "", first_row=rows[0], row_count=len(rows))
    dispatch.lines = [PlannedLine(row, DispatchLineIn(item_id=uuid4(), quantity=Decimal(1))) for row in rows]
    return dispatch


def test_a_line_field_names_the_row_of_that_line_and_the_import_column() -> None:
    exc = InvalidDispatch(fields={"lines.1.quantity": "Enter a number.", "lines.2.item_id": "This material does not exist."})
    errors = _row_errors(planned(4, 7, 9), exc)
    assert {(error.row, error.column) for error in errors} == {(7, "quantity"), (9, "item_code")}


def test_a_dispatch_field_names_the_first_row_and_its_column() -> None:
    exc = InvalidDispatch(fields={"order_id": "This order is not open.", "supplier_id": "This supplier does not exist.", "lines": "x"})
    errors = _row_errors(planned(12, 13), exc)
    assert {(error.row, error.column) for error in errors} == {(12, "order"), (12, "supplier_code"), (12, None)}


def test_a_refusal_without_fields_is_reported_on_the_first_row() -> None:
    errors = _row_errors(planned(5, 6), InvalidDispatch())
    assert [(error.row, error.column, error.message) for error in errors] == [(5, None, InvalidDispatch.message)]
