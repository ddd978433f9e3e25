"""The signed preview of the import pages, and the files exports are made of."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from decimal import Decimal
from uuid import uuid4

import openpyxl
import pytest

from portal.imports.sealing import SEAL_SECONDS, SealInvalid, seal, unseal
from portal.imports.sheets import Column, Sheet, SourceRow
from portal.imports.writers import TableSheet, build_file

COLUMNS = (Column("code", "Item code", required=True, max_length=10), Column("note", "Shared note"))


def sheet() -> Sheet:
    rows = [SourceRow(2, {"code": "P-1", "note": "去毛刺"}), SourceRow(5, {"code": "P-2", "note": ""})]
    return Sheet(filename="订单.xlsx", kind="xlsx", header_row=1, columns=["code", "note"], rows=rows)


def test_sealed_rows_come_back_exactly_for_the_same_tenant_and_user() -> None:
    tenant, user = uuid4(), uuid4()
    token = seal(sheet(), purpose="orders.import", tenant_id=tenant, user_id=user)
    back = unseal(token, COLUMNS, purpose="orders.import", tenant_id=tenant, user_id=user)
    assert [(row.number, row.values) for row in back.rows] == [(row.number, row.values) for row in sheet().rows]
    assert (back.filename, back.kind, back.errors) == ("订单.xlsx", "xlsx", [])


def test_a_seal_is_refused_for_another_user_tenant_or_purpose_or_when_late() -> None:
    tenant, user = uuid4(), uuid4()
    token = seal(sheet(), purpose="orders.import", tenant_id=tenant, user_id=user)
    for kwargs in (
        {"purpose": "orders.import", "tenant_id": uuid4(), "user_id": user},
        {"purpose": "orders.import", "tenant_id": tenant, "user_id": uuid4()},
        {"purpose": "dispatches.import", "tenant_id": tenant, "user_id": user},
    ):
        with pytest.raises(SealInvalid):
            unseal(token, COLUMNS, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(SealInvalid):
        unseal(token, COLUMNS, purpose="orders.import", tenant_id=tenant, user_id=user, now=time.time() + SEAL_SECONDS + 1)


@pytest.mark.parametrize("damage", [lambda t: t[:-2] + "xx", lambda t: "A" + t[1:], lambda t: t.replace(".", ""), lambda t: "%%%.%%%"])
def test_a_changed_seal_is_refused(damage: object) -> None:
    tenant, user = uuid4(), uuid4()
    token = seal(sheet(), purpose="orders.import", tenant_id=tenant, user_id=user)
    with pytest.raises(SealInvalid):
        unseal(damage(token), COLUMNS, purpose="orders.import", tenant_id=tenant, user_id=user)  # type: ignore[operator]


def test_unsealed_rows_are_checked_again() -> None:
    tenant, user = uuid4(), uuid4()
    bad = sheet()
    bad.rows[1].values["code"] = ""
    token = seal(bad, purpose="p", tenant_id=tenant, user_id=user)
    assert [(error.row, error.column) for error in unseal(token, COLUMNS, purpose="p", tenant_id=tenant, user_id=user).errors] == [
        (5, "code")
    ]


def table() -> TableSheet:
    return TableSheet(
        title="Orders",
        header=["订单号", "数量", "单价", "交期", "备注"],
        rows=[
            ["WO-1", Decimal("100"), Decimal("12.50"), date(2026, 12, 31), '=HYPERLINK("http://x")'],
            ["WO-2", None, Decimal("0.10"), None, "@A1"],
        ],
    )


def test_csv_is_utf8_with_bom_and_inert_formulas() -> None:
    built = build_file("csv", [table()], "orders")
    assert built.filename == "orders.csv"
    assert built.content.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in built.content
    rows = list(csv.reader(io.StringIO(built.content.decode("utf-8-sig"))))
    assert rows == [
        ["订单号", "数量", "单价", "交期", "备注"],
        ["WO-1", "100", "12.50", "2026-12-31", '\'=HYPERLINK("http://x")'],
        ["WO-2", "", "0.10", "", "'@A1"],
    ]


def test_xlsx_cells_are_text_never_formulas() -> None:
    built = build_file("xlsx", [table(), TableSheet(title="Help", header=["x"])], "orders")
    assert built.filename == "orders.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(built.content))
    assert workbook.sheetnames == ["Orders", "Help"]
    sheet = workbook["Orders"]
    assert [cell.value for cell in sheet[2]] == ["WO-1", "100", "12.50", "2026-12-31", '=HYPERLINK("http://x")']
    assert {cell.data_type for cell in sheet[2]} == {"s"}
