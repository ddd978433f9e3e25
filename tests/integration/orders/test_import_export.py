"""Orders in and out of spreadsheets, through the API and the pages, as a
planner and as suppliers do it."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from tests.integration.orders.conftest import OrderWorld, draft, due, fire
from tests.support.factories import api_token, bearer, make_world, page_headers

HEADER = ["order", "supplier_code", "item_code", "operation", "quantity", "unit_price", "due_date", "shared_note"]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_file(client: Any, shop: OrderWorld, content: bytes, name: str = "orders.csv", *, dry_run: bool, who: str = "planner") -> Any:
    return client.post(
        "/api/v1/orders/import",
        params={"dry_run": "true" if dry_run else "false"},
        files={"file": (name, content, "application/octet-stream")},
        headers=shop.as_(who),
    )


def order_count(client: Any, shop: OrderWorld) -> int:
    counts = client.get("/api/v1/orders", headers=shop.as_("planner")).json()["counts"]
    return sum(counts.values())


def board_numbers(client: Any, shop: OrderWorld, who: str = "planner") -> set[str]:
    numbers: set[str] = set()
    cursor = None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = client.get("/api/v1/orders", params=params, headers=shop.as_(who)).json()
        numbers |= {item["number"] for item in page["items"]}
        cursor = page["next"]
        if not cursor:
            return numbers


def error_cells(body: dict[str, Any]) -> set[tuple[int | None, str | None]]:
    return {(error["row"], error["column"]) for error in body["errors"]}


def test_dry_run_reports_each_problem_by_row_and_column_and_saves_nothing(client: Any, shop: OrderWorld) -> None:
    before = order_count(client, shop)
    content = csv_bytes(
        [
            ["", "S1", "P-100", "CNC", "100", "12.50", due(10), ""],  # row 2: fine
            ["", "NOPE", "P-100", "", "5", "1", due(10), ""],  # row 3: unknown supplier
            ["", "S1", "P-404", "", "5", "1", due(10), ""],  # row 4: unknown item
            ["", "S1", "P-100", "", "-1", "1", due(10), ""],  # row 5: quantity
            ["", "S1", "P-100", "", "5", "1.234", due(10), ""],  # row 6: too many decimals for CNY
            ["", "S1", "P-100", "", "5", "1", "31/12/2026", ""],  # row 7: not a date
            ["", "S1", "P-100", "", "5", "1", due(-3), ""],  # row 8: in the past
            ["", "S1", "", "", "5", "1", due(10), ""],  # row 9: missing item
        ]
    )
    response = import_file(client, shop, content, dry_run=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows"] == 8
    assert body["orders"] == 2  # S1's unnumbered rows are one order, NOPE's another
    assert error_cells(body) == {
        (3, "supplier_code"),
        (4, "item_code"),
        (5, "quantity"),
        (6, "unit_price"),
        (7, "due_date"),
        (8, "due_date"),
        (9, "item_code"),
    }
    unknown = next(error for error in body["errors"] if error["column"] == "supplier_code")
    assert "NOPE" in unknown["message"]
    decimals = next(error for error in body["errors"] if error["column"] == "unit_price")
    assert "%(" not in decimals["message"]
    english = client.post(
        "/api/v1/orders/import",
        params={"dry_run": "true"},
        files={"file": ("orders.csv", content, "text/csv")},
        headers={**shop.as_("planner"), "accept-language": "en"},
    ).json()
    assert "Unknown supplier code NOPE." in [error["message"] for error in english["errors"]]
    assert body["created"] == []
    assert order_count(client, shop) == before


def test_error_in_row_37_of_40_saves_nothing(client: Any, shop: OrderWorld) -> None:
    rows = [[f"IMP-{index // 5}", "S1", "P-100", "CNC", "10", "2.50", due(20), ""] for index in range(40)]
    rows[36][4] = "ten"  # the 37th line, spreadsheet row 38 (the header is row 1)
    before = order_count(client, shop)
    response = import_file(client, shop, xlsx_bytes(rows), "plan.xlsx", dry_run=False)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]["code"] == "import_rejected"
    assert error_cells(body) == {(38, "quantity")}
    assert (body["rows"], body["orders"]) == (40, 8)
    assert order_count(client, shop) == before
    assert not any(number.startswith("IMP-") for number in board_numbers(client, shop))


def test_a_refusal_by_the_service_mid_import_rolls_back_the_orders_already_created(
    client: Any, shop: OrderWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan passes; the third create_order call fails (as a concurrent
    change could make it): the two orders created before it are gone."""
    from portal.orders import importing, services

    original, calls = services.create_order, []

    async def failing_third(data: Any) -> Any:
        calls.append(data)
        if len(calls) == 3:
            raise services.InvalidOrder(fields={"lines.1.quantity": "Enter a quantity greater than zero."})
        return await original(data)

    monkeypatch.setattr(importing.services, "create_order", failing_third)
    rows = [[f"RB-{index // 2}", "S1", "P-100", "", "1", "1", due(5), ""] for index in range(8)]
    before = order_count(client, shop)
    response = import_file(client, shop, csv_bytes(rows), dry_run=False)
    assert response.status_code == 400, response.text
    # Order RB-2 is rows 6 and 7; its second line is row 7.
    assert error_cells(response.json()) == {(7, "quantity")}
    assert len(calls) == 4  # the import went on to report every order's problems
    monkeypatch.undo()
    assert order_count(client, shop) == before


def test_a_valid_file_creates_draft_orders_grouped_by_number_and_supplier(client: Any, shop: OrderWorld) -> None:
    rows = [
        ["ERP-100", "S1", "P-100", "CNC", 100, 12.5, due(10), "Deburr all edges"],
        ["ERP-100", "S1", "P-100", "Plating", "40", "3.20", due(12), ""],
        ["", "S2", "P-100", "", "7", "0", due(30), "Rush"],
    ]
    response = import_file(client, shop, xlsx_bytes(rows), "plan.xlsx", dry_run=False)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows"], body["orders"], body["errors"]) == (3, 2, [])
    numbers = [item["number"] for item in body["created"]]
    assert numbers[0] == "ERP-100"
    assert numbers[1].startswith("WO-")
    first = client.get(f"/api/v1/orders/{body['created'][0]['id']}", headers=shop.as_("planner")).json()
    assert first["status"] == "draft"
    assert first["supplier_id"] == str(shop.world.supplier_ids[0])
    assert first["notes_shared"] == "Deburr all edges"
    assert [(line["operation"], Decimal(line["quantity"]), Decimal(line["unit_price"])) for line in first["lines"]] == [
        ("CNC", Decimal(100), Decimal("12.5")),
        ("Plating", Decimal(40), Decimal("3.2")),
    ]
    second = client.get(f"/api/v1/orders/{body['created'][1]['id']}", headers=shop.as_("planner")).json()
    assert second["supplier_id"] == str(shop.world.supplier_ids[1])
    assert second["due_date"] == due(30)
    assert set(numbers) <= board_numbers(client, shop)


def test_chinese_excel_csv_in_gb18030_with_chinese_headers_imports(client: Any, shop: OrderWorld) -> None:
    header = ["订单号", "供应商代码", "物料编码", "工序", "数量", "单价", "交期", "备注"]
    year, month, day = due(15).split("-")
    rows = [["GB-1", "S1", "P-100", "车削", "1,200", "8.8", f"{year}/{int(month)}/{int(day)}", "去毛刺，按图纸"]]
    response = import_file(client, shop, csv_bytes(rows, header, encoding="gb18030"), "订单.csv", dry_run=False)
    assert response.status_code == 201, response.text
    order = client.get(f"/api/v1/orders/{response.json()['created'][0]['id']}", headers=shop.as_("planner")).json()
    assert order["notes_shared"] == "去毛刺，按图纸"
    assert order["lines"][0]["operation"] == "车削"
    assert Decimal(order["lines"][0]["quantity"]) == 1200
    assert order["lines"][0]["due_date"] == due(15)


def test_numbers_already_used_and_mixed_suppliers_in_one_order_are_row_errors(client: Any, shop: OrderWorld) -> None:
    taken = draft(client, shop)["number"]
    rows = [
        [taken, "S1", "P-100", "", "1", "1", due(5), ""],
        ["MIX-1", "S1", "P-100", "", "1", "1", due(5), "a"],
        ["MIX-1", "S2", "P-100", "", "1", "1", due(5), "b"],
    ]
    body = import_file(client, shop, csv_bytes(rows), dry_run=True).json()
    assert error_cells(body) == {(2, "order"), (4, "supplier_code"), (4, "shared_note")}


def test_codes_of_another_tenant_are_unknown(client: Any, shop: OrderWorld, run: Any) -> None:
    other = run(make_world, "imp")
    admin = bearer(api_token(client, other.accounts["admin"], other.slug))
    assert client.post("/api/v1/suppliers", json={"code": "FOREIGN-S", "name": "Elsewhere"}, headers=admin).status_code == 201
    assert client.post("/api/v1/items", json={"code": "FOREIGN-P", "name": "Theirs"}, headers=admin).status_code == 201
    rows = [["", "FOREIGN-S", "FOREIGN-P", "", "1", "1", due(5), ""]]
    body = import_file(client, shop, csv_bytes(rows), dry_run=True).json()
    assert error_cells(body) == {(2, "supplier_code"), (2, "item_code")}


def test_only_admins_and_planners_import(client: Any, shop: OrderWorld) -> None:
    content = csv_bytes([["", "S1", "P-100", "", "1", "1", due(5), ""]])
    for who in ("qa", "finance", "supplier_admin", "supplier_operator"):
        assert import_file(client, shop, content, dry_run=True, who=who).status_code == 403, who
        assert client.get("/api/v1/orders/import/template", headers=shop.as_(who)).status_code == 403, who
    assert import_file(client, shop, content, dry_run=True, who="admin").status_code == 200


def test_files_that_are_not_spreadsheets_or_too_large_are_refused_clearly(client: Any, shop: OrderWorld) -> None:
    fake = import_file(client, shop, b"this is not a zip file at all", "orders.xlsx", dry_run=True).json()
    assert fake["errors"][0]["row"] is None
    assert fake["rows"] == 0
    huge = import_file(client, shop, b"a," * (6 * 1024 * 1024), "big.csv", dry_run=True)
    assert huge.status_code == 413
    assert "10" in huge.json()["error"]["message"]
    missing = client.post("/api/v1/orders/import", params={"dry_run": "true"}, data={"x": "1"}, headers=shop.as_("planner"))
    assert missing.status_code == 400
    no_columns = import_file(client, shop, csv_bytes([["1"]], header=["order"]), dry_run=True).json()
    assert {error["column"] for error in no_columns["errors"]} == {"supplier_code", "item_code", "quantity", "unit_price", "due_date"}


def test_template_downloads_import_without_errors_once_filled(client: Any, shop: OrderWorld) -> None:
    response = client.get("/api/v1/orders/import/template", params={"format": "xlsx"}, headers=shop.as_("planner"))
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 2  # the columns, and their help
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    sheet.append(["T-1", "S1", "P-100", "", 3, 4, due(9), ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    body = import_file(client, shop, buffer.getvalue(), "filled.xlsx", dry_run=True).json()
    assert (body["rows"], body["errors"]) == (1, []), header
    csv_template = client.get("/api/v1/orders/import/template", params={"format": "csv"}, headers=shop.as_("planner"))
    assert csv_template.content.startswith(b"\xef\xbb\xbf")


# -- export -------------------------------------------------------------------


def _issued_orders(client: Any, shop: OrderWorld) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    mine = draft(client, shop)
    fire(client, shop, mine["id"], "planner", "issue")
    body = {
        "supplier_id": str(shop.world.supplier_ids[1]),
        "lines": [{"item_id": shop.part_id, "quantity": "3", "unit_price": "1999.99", "due_date": due(4), "operation": "=HYPERLINK(1)"}],
        "notes_shared": "-for S2",
        "notes_internal": "secret margin",
    }
    theirs = client.post("/api/v1/orders", json=body, headers=shop.as_("planner")).json()
    fire(client, shop, theirs["id"], "planner", "issue")
    still_draft = draft(client, shop)
    return mine, theirs, still_draft


def export(client: Any, shop: OrderWorld, who: str, fmt: str = "csv", **params: str) -> list[dict[str, str]]:
    response = client.get("/api/v1/orders/export", params={"format": fmt, **params}, headers=shop.as_(who))
    assert response.status_code == 200, response.text
    if fmt == "csv":
        assert response.content.startswith(b"\xef\xbb\xbf")
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_export_csv_and_xlsx_have_the_boards_rows_and_import_again(client: Any, shop: OrderWorld) -> None:
    mine, theirs, still_draft = _issued_orders(client, shop)
    numbers = board_numbers(client, shop)
    csv_rows = export(client, shop, "planner")
    xlsx_rows = export(client, shop, "planner", "xlsx")
    # Formula-like text is behind an apostrophe in CSV, a text cell in XLSX.
    assert [{key: value.removeprefix("'") for key, value in row.items()} for row in csv_rows] == xlsx_rows
    order_column = next(key for key in csv_rows[0] if key in ("订单号", "Order number"))
    assert {row[order_column] for row in csv_rows} == numbers
    exported = next(row for row in csv_rows if row[order_column] == theirs["number"])
    values = list(exported.values())
    assert values[4:7] == ["3", "1999.99", due(4)]  # quantity, unit price, due date
    assert values[3] == "'=HYPERLINK(1)"  # written as text, never as a formula
    assert values[7] == "'-for S2"
    assert "secret margin" not in str(csv_rows)
    issued_only = export(client, shop, "planner", status="issued")
    assert {row[order_column] for row in issued_only} == {mine["number"], theirs["number"]}
    # The export is an import file: only the numbers are refused (they exist).
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(list(csv_rows[0]))
    writer.writerows([list(row.values()) for row in csv_rows])
    body = import_file(client, shop, buffer.getvalue().encode("utf-8-sig"), "export.csv", dry_run=True).json()
    assert {error["column"] for error in body["errors"]} == {"order"}, body["errors"]
    assert body["rows"] == len(csv_rows)
    assert still_draft["number"] in numbers


def test_supplier_export_has_only_its_own_issued_orders(client: Any, shop: OrderWorld) -> None:
    mine, theirs, still_draft = _issued_orders(client, shop)
    for who, expected in (("supplier_admin", mine), ("supplier_operator", mine), ("other_supplier_admin", theirs)):
        rows = export(client, shop, who)
        assert {next(iter(row.values())) for row in rows} == {expected["number"]}, who
        assert "secret margin" not in str(rows)
        assert still_draft["number"] not in str(rows)


def test_export_refuses_an_unknown_format(client: Any, shop: OrderWorld) -> None:
    response = client.get("/api/v1/orders/export", params={"format": "pdf"}, headers=shop.as_("planner"))
    assert response.status_code == 400
    assert "format" in response.json()["error"]["fields"]


# -- pages --------------------------------------------------------------------


def test_import_page_previews_then_creates_on_confirm(client: Any, shop: OrderWorld) -> None:
    token = api_token(client, shop.world.accounts["planner"], shop.world.slug)
    headers = page_headers(client, token)
    page = client.get("/orders/import", headers=headers)
    assert page.status_code == 200
    assert "/orders/import/template?format=xlsx" in page.text
    bad = csv_bytes([["", "NOPE", "P-100", "", "1", "1", due(5), ""]])
    preview = client.post("/orders/import", files={"file": ("bad.csv", bad, "text/csv")}, headers=headers)
    assert preview.status_code == 200
    assert "未知的供应商代码 NOPE" in preview.text  # the reader's language (zh_CN here)
    assert 'name="sheet"' not in preview.text  # no confirm with problems
    good = csv_bytes([["PG-1", "S1", "P-100", "", "2", "5", due(5), ""], ["PG-1", "S1", "P-100", "", "3", "5", due(6), ""]])
    before = order_count(client, shop)
    preview = client.post("/orders/import", files={"file": ("good.csv", good, "text/csv")}, headers={**headers, "hx-request": "true"})
    assert preview.status_code == 200
    assert "<html" not in preview.text  # the preview block only, for htmx
    assert order_count(client, shop) == before
    sealed = preview.text.split('name="sheet" value="', 1)[1].split('"', 1)[0]
    confirmed = client.post("/orders/import/confirm", data={"sheet": sealed}, headers=headers, follow_redirects=False)
    assert confirmed.status_code == 303, confirmed.text
    assert confirmed.headers["location"].startswith("/orders/import?imported=1")
    assert order_count(client, shop) == before + 1
    assert "PG-1" in board_numbers(client, shop)
    again = client.post("/orders/import/confirm", data={"sheet": sealed}, headers=headers, follow_redirects=False)
    assert again.status_code == 400  # the number is taken now: checked again, nothing saved
    assert order_count(client, shop) == before + 1


def test_a_tampered_or_foreign_preview_is_refused(client: Any, shop: OrderWorld) -> None:
    planner = page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))
    good = csv_bytes([["", "S1", "P-100", "", "2", "5", due(5), ""]])
    preview = client.post("/orders/import", files={"file": ("good.csv", good, "text/csv")}, headers=planner)
    sealed = preview.text.split('name="sheet" value="', 1)[1].split('"', 1)[0]
    admin = page_headers(client, api_token(client, shop.world.accounts["admin"], shop.world.slug))
    before = order_count(client, shop)
    assert client.post("/orders/import/confirm", data={"sheet": sealed}, headers=admin).status_code == 400
    tampered = sealed[:-6] + ("AAAAAA" if not sealed.endswith("AAAAAA") else "BBBBBB")
    assert client.post("/orders/import/confirm", data={"sheet": tampered}, headers=planner).status_code == 400
    assert order_count(client, shop) == before


def test_export_link_of_the_pages_downloads_the_board(client: Any, shop: OrderWorld) -> None:
    mine, _, _ = _issued_orders(client, shop)
    headers = page_headers(client, api_token(client, shop.world.accounts["supplier_admin"], shop.world.slug))
    response = client.get("/orders/export", params={"format": "xlsx"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [mine["number"]]
