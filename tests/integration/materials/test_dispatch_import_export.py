"""Dispatches in and out of spreadsheets, and the balance export, through
the API and the pages, as a planner and as suppliers do it."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import openpyxl

from tests.integration.materials.conftest import accept_output, page, receipt, sent_dispatch
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.support.factories import api_token, bearer, make_world

HEADER = ["reference", "supplier_code", "order", "item_code", "lot", "quantity", "note"]


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


def import_file(client: Any, shop: OrderWorld, content: bytes, name: str = "send.csv", *, dry_run: bool, who: str = "planner") -> Any:
    return client.post(
        "/api/v1/dispatches/import",
        params={"dry_run": "true" if dry_run else "false"},
        files={"file": (name, content, "application/octet-stream")},
        headers=shop.as_(who),
    )


def all_dispatches(client: Any, shop: OrderWorld, who: str = "planner") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"cursor": cursor} if cursor else {}
        body = client.get("/api/v1/dispatches", params=params, headers=shop.as_(who)).json()
        found += body["items"]
        cursor = body["next"]
        if not cursor:
            return found


def error_cells(body: dict[str, Any]) -> set[tuple[int | None, str | None]]:
    return {(error["row"], error["column"]) for error in body["errors"]}


def issued_order(client: Any, shop: OrderWorld) -> dict[str, Any]:
    order = draft(client, shop)
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    return order


# -- import -------------------------------------------------------------------


def test_dry_run_reports_each_problem_by_row_and_column_and_saves_nothing(client: Any, shop: OrderWorld) -> None:
    open_order, still_draft = issued_order(client, shop), draft(client, shop)
    suspended = client.patch(f"/api/v1/suppliers/{shop.world.supplier_ids[1]}", json={"status": "suspended"}, headers=shop.as_("admin"))
    assert suspended.status_code == 200, suspended.text
    content = csv_bytes(
        [
            ["", "S1", open_order["number"], "M-STEEL", "H-1", "100", ""],  # row 2: fine
            ["", "NOPE", "", "M-STEEL", "", "5", ""],  # row 3: unknown supplier
            ["", "S1", "", "M-404", "", "5", ""],  # row 4: unknown item
            ["", "S1", "", "M-STEEL", "", "0", ""],  # row 5: quantity not > 0
            ["", "S1", "", "M-STEEL", "", "1.1234567", ""],  # row 6: too precise
            ["", "S1", "WO-1999-00001", "M-STEEL", "", "5", ""],  # row 7: unknown order
            ["", "S1", still_draft["number"], "M-STEEL", "", "5", ""],  # row 8: a draft order is not open
            ["", "S2", open_order["number"], "M-STEEL", "", "5", ""],  # row 9: suspended, and the order is S1's
            ["", "S1", "", "", "", "5", ""],  # row 10: missing item
            ["", "S1", "", "M-STEEL", "L" * 81, "5", ""],  # row 11: lot too long
        ]
    )
    before = len(all_dispatches(client, shop))
    response = import_file(client, shop, content, dry_run=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows"] == 10
    assert error_cells(body) == {
        (3, "supplier_code"),
        (4, "item_code"),
        (5, "quantity"),
        (6, "quantity"),
        (7, "order"),
        (8, "order"),
        (9, "supplier_code"),
        (9, "order"),
        (10, "item_code"),
        (11, "lot"),
    }
    english = client.post(
        "/api/v1/dispatches/import",
        params={"dry_run": "true"},
        files={"file": ("send.csv", content, "text/csv")},
        headers={**shop.as_("planner"), "accept-language": "en"},
    ).json()
    messages = {(error["row"], error["column"]): error["message"] for error in english["errors"]}
    assert messages[(3, "supplier_code")] == "Unknown supplier code NOPE."
    assert messages[(7, "order")] == "Unknown order number WO-1999-00001."
    assert messages[(9, "order")] == "This order belongs to another supplier."
    assert body["created"] == []
    assert len(all_dispatches(client, shop)) == before


def test_an_error_in_one_row_of_a_valid_file_saves_nothing(client: Any, shop: OrderWorld) -> None:
    rows: list[list[Any]] = [[f"R-{index // 10}", "S1", "", "M-STEEL", f"H-{index}", 5, ""] for index in range(60)]
    rows[44][5] = "five"  # the 45th line, spreadsheet row 46 (the header is row 1)
    response = import_file(client, shop, xlsx_bytes(rows), "plan.xlsx", dry_run=False)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]["code"] == "import_rejected"
    assert error_cells(body) == {(46, "quantity")}
    assert (body["rows"], body["dispatches"], body["created"]) == (60, 6, [])
    assert all_dispatches(client, shop) == []


def test_a_valid_file_creates_draft_dispatches_grouped_by_reference_supplier_and_order(client: Any, shop: OrderWorld) -> None:
    order = issued_order(client, shop)
    rows = [
        ["SEND-1", "S1", order["number"], "M-STEEL", "H-1", 100, "Handle with care"],
        ["SEND-1", "S1", "", "M-STEEL", "H-2", "12.5", ""],
        ["SEND-1", "S2", "", "P-100", "", "3", ""],  # same reference, another supplier: its own dispatch
        ["", "S1", "", "M-STEEL", "H-3", "7", ""],
        ["", "S1", order["number"], "M-STEEL", "H-4", "8", ""],  # no reference: one dispatch per supplier and order
        ["", "S1", "", "M-STEEL", "H-5", "9", ""],
    ]
    response = import_file(client, shop, xlsx_bytes(rows), "send.xlsx", dry_run=False)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows"], body["dispatches"], body["errors"]) == (6, 4, [])
    assert [item["reference"] for item in body["created"]] == ["SEND-1", "SEND-1", "", ""]
    assert all(item["number"].startswith("MD-") for item in body["created"])
    details = [client.get(f"/api/v1/dispatches/{item['id']}", headers=shop.as_("planner")).json() for item in body["created"]]
    assert [detail["status"] for detail in details] == ["draft"] * 4
    first = details[0]
    assert first["supplier_id"] == str(shop.world.supplier_ids[0])
    assert first["order_id"] == order["id"]
    assert first["note"] == "Handle with care"
    assert [(line["lot"], Decimal(line["quantity"])) for line in first["lines"]] == [("H-1", Decimal(100)), ("H-2", Decimal("12.5"))]
    assert details[1]["supplier_id"] == str(shop.world.supplier_ids[1])
    assert details[1]["lines"][0]["item_code"] == "P-100"
    assert (details[2]["order_id"], [line["lot"] for line in details[2]["lines"]]) == (None, ["H-3", "H-5"])
    assert (details[3]["order_id"], [line["lot"] for line in details[3]["lines"]]) == (order["id"], ["H-4"])
    # Drafts: the supplier sees none of them until the planner sends one.
    assert all_dispatches(client, shop, "supplier_admin") == []
    assert client.post(f"/api/v1/dispatches/{first['id']}/send", headers=shop.as_("planner")).status_code == 200
    assert [item["id"] for item in all_dispatches(client, shop, "supplier_admin")] == [first["id"]]


def test_chinese_excel_csv_in_gb18030_with_chinese_headers_imports(client: Any, shop: OrderWorld) -> None:
    header = ["发料单号", "供应商代码", "订单号", "物料编码", "批号", "数量", "备注"]
    rows = [["发-1", "S1", "", "M-STEEL", "炉号A-7", "1,250.5", "轻拿轻放，注意防锈"]]
    response = import_file(client, shop, csv_bytes(rows, header, encoding="gb18030"), "发料.csv", dry_run=False)
    assert response.status_code == 201, response.text
    created = response.json()["created"][0]
    assert created["reference"] == "发-1"
    dispatch = client.get(f"/api/v1/dispatches/{created['id']}", headers=shop.as_("planner")).json()
    assert dispatch["note"] == "轻拿轻放，注意防锈"
    assert dispatch["lines"][0]["lot"] == "炉号A-7"
    assert Decimal(dispatch["lines"][0]["quantity"]) == Decimal("1250.5")


def test_rows_of_one_reference_must_agree_on_order_and_note(client: Any, shop: OrderWorld) -> None:
    first, second = issued_order(client, shop), issued_order(client, shop)
    rows = [
        ["MIX", "S1", first["number"], "M-STEEL", "", "1", "a"],
        ["MIX", "S1", second["number"], "M-STEEL", "", "1", "b"],
        ["MIX", "S1", "", "M-STEEL", "", "1", ""],
    ]
    body = import_file(client, shop, csv_bytes(rows), dry_run=True).json()
    assert error_cells(body) == {(3, "order"), (3, "note")}
    assert body["dispatches"] == 1


def test_a_dispatch_has_at_most_200_lines(client: Any, shop: OrderWorld) -> None:
    rows = [["BIG", "S1", "", "M-STEEL", f"H-{index}", "1", ""] for index in range(201)]
    body = import_file(client, shop, csv_bytes(rows), dry_run=True).json()
    assert error_cells(body) == {(202, "reference")}


def test_codes_of_another_tenant_are_unknown(client: Any, shop: OrderWorld, run: Any) -> None:
    other = run(make_world, "dimp")
    admin = bearer(api_token(client, other.accounts["admin"], other.slug))
    assert client.post("/api/v1/suppliers", json={"code": "FOREIGN-S", "name": "Elsewhere"}, headers=admin).status_code == 201
    material = {"code": "FOREIGN-M", "name": "Theirs", "unit": "kg", "kind": "material"}
    assert client.post("/api/v1/items", json=material, headers=admin).status_code == 201
    rows = [["", "FOREIGN-S", "", "FOREIGN-M", "", "1", ""]]
    body = import_file(client, shop, csv_bytes(rows), dry_run=True).json()
    assert error_cells(body) == {(2, "supplier_code"), (2, "item_code")}


def test_only_buyers_who_dispatch_may_import(client: Any, shop: OrderWorld) -> None:
    content = csv_bytes([["", "S1", "", "M-STEEL", "", "1", ""]])
    for who in ("qa", "finance", "supplier_admin", "supplier_operator"):
        assert import_file(client, shop, content, dry_run=True, who=who).status_code == 403, who
        assert client.get("/api/v1/dispatches/import/template", headers=shop.as_(who)).status_code == 403, who
    assert import_file(client, shop, content, dry_run=True, who="admin").status_code == 200


def test_template_downloads_and_imports_once_filled(client: Any, shop: OrderWorld) -> None:
    response = client.get("/api/v1/dispatches/import/template", params={"format": "xlsx"}, headers=shop.as_("planner"))
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 2  # the columns, and their help
    sheet = workbook.worksheets[0]
    sheet.append(["T-1", "S1", "", "M-STEEL", "H-9", 3, ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    body = import_file(client, shop, buffer.getvalue(), "filled.xlsx", dry_run=True).json()
    assert (body["rows"], body["dispatches"], body["errors"]) == (1, 1, [])
    csv_template = client.get("/api/v1/dispatches/import/template", params={"format": "csv"}, headers=shop.as_("planner"))
    assert csv_template.content.startswith(b"\xef\xbb\xbf")


# -- export -------------------------------------------------------------------


def export(client: Any, shop: OrderWorld, path: str, who: str, fmt: str = "csv", **params: str) -> list[dict[str, str]]:
    response = client.get(path, params={"format": fmt, **params}, headers=shop.as_(who))
    assert response.status_code == 200, response.text
    if fmt == "csv":
        assert response.content.startswith(b"\xef\xbb\xbf")
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    # Empty cells at the end of a row are not stored.
    return [dict(zip(rows[0], row + [""] * (len(rows[0]) - len(row)), strict=True)) for row in rows[1:]]


def _dispatches_of_both_suppliers(client: Any, shop: OrderWorld) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    mine = sent_dispatch(client, shop, ("100", "H-1"), ("50", "=cmd|' /C calc'!A0"))
    theirs = sent_dispatch(client, shop, ("7", "H-9"), supplier=1)
    assert receipt(client, shop, mine, ("100", ""), ("45", "Two bars bent"), who="supplier_admin").status_code == 200
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "lines": [{"item_id": shop.material_id, "quantity": "1", "lot": "D"}]}
    still_draft = client.post("/api/v1/dispatches", json=body, headers=shop.as_("planner")).json()
    return mine, theirs, still_draft


def test_dispatch_export_has_the_lists_rows_in_csv_and_xlsx_and_imports_again(client: Any, shop: OrderWorld) -> None:
    mine, theirs, still_draft = _dispatches_of_both_suppliers(client, shop)
    response = client.get("/api/v1/dispatches/export", params={"format": "csv"}, headers={**shop.as_("planner"), "accept-language": "en"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="dispatches-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(row["Dispatch number"], row["Lot"]) for row in rows] == [
        (still_draft["number"], "D"),
        (theirs["number"], "H-9"),
        (mine["number"], "H-1"),
        (mine["number"], "'=cmd|' /C calc'!A0"),  # text, never a formula
    ]
    short = rows[3]
    assert (short["Quantity"], short["Received quantity"], short["Difference"]) == ("50", "45", "-5")
    assert (short["Discrepancy reason"], short["Outside tolerance"], short["Status"]) == (
        "Two bars bent",
        "Yes",
        "Received with discrepancy",
    )
    assert short["Supplier code"] == "S1"
    xlsx_rows = export(client, shop, "/api/v1/dispatches/export", "planner", "xlsx")
    csv_again = export(client, shop, "/api/v1/dispatches/export", "planner")
    # Formula-like text is behind an apostrophe in CSV, a text cell in XLSX.
    assert [{key: value.removeprefix("'") for key, value in row.items()} for row in csv_again] == xlsx_rows
    received_only = export(client, shop, "/api/v1/dispatches/export", "planner", status="received_with_discrepancy")
    assert {next(iter(row.values())) for row in received_only} == {mine["number"]}
    # The export is an import file: the numbers are read as references.
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(list(csv_again[0]))
    writer.writerows([list(row.values()) for row in csv_again])
    body = import_file(client, shop, buffer.getvalue().encode("utf-8-sig"), "export.csv", dry_run=True).json()
    assert (body["rows"], body["dispatches"], body["errors"]) == (4, 3, [])


def test_supplier_exports_only_its_own_sent_dispatches(client: Any, shop: OrderWorld) -> None:
    mine, theirs, still_draft = _dispatches_of_both_suppliers(client, shop)
    for who, expected in (("supplier_admin", mine), ("supplier_operator", mine), ("other_supplier_admin", theirs)):
        rows = export(client, shop, "/api/v1/dispatches/export", who)
        assert {next(iter(row.values())) for row in rows} == {expected["number"]}, who
        assert still_draft["number"] not in str(rows)
        other = theirs if expected is mine else mine
        assert other["number"] not in str(rows)
    # A filter naming another supplier finds nothing, as on the list.
    filtered = export(client, shop, "/api/v1/dispatches/export", "supplier_admin", supplier_id=str(shop.world.supplier_ids[1]))
    assert filtered == []


def test_balance_export_has_the_apis_figures_and_suppliers_get_their_own(client: Any, shop: OrderWorld, run: Any) -> None:
    _dispatches_of_both_suppliers(client, shop)
    accept_output(client, run, shop, "40")
    api = client.get("/api/v1/material-balances", headers=shop.as_("planner")).json()["items"]
    response = client.get(
        "/api/v1/material-balances/export", params={"format": "xlsx"}, headers={**shop.as_("planner"), "accept-language": "en"}
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = values[0]
    rows = [dict(zip(header, row + [None] * (len(header) - len(row)), strict=True)) for row in values[1:]]
    assert header[:4] == ["Supplier name", "Item code", "Item name", "Unit"]
    assert [(row["Supplier name"], Decimal(str(row["Held at the supplier"]))) for row in rows] == [
        (item["supplier_name"], Decimal(item["held"])) for item in api
    ]
    first = rows[0]
    assert first["Supplier name"] == api[0]["supplier_name"]
    assert Decimal(str(first["Used by accepted output"])) == Decimal(api[0]["consumed"]) == Decimal("50")  # 40 x 1.25
    own = next(item for item in api if item["supplier_id"] == str(shop.world.supplier_ids[0]))
    other = next(item for item in api if item["supplier_id"] == str(shop.world.supplier_ids[1]))
    supplier_rows = export(client, shop, "/api/v1/material-balances/export", "supplier_operator")
    assert [next(iter(row.values())) for row in supplier_rows] == [own["supplier_name"]]
    assert other["supplier_name"] not in str(supplier_rows)


def test_export_refuses_an_unknown_format(client: Any, shop: OrderWorld) -> None:
    for path in ("/api/v1/dispatches/export", "/api/v1/material-balances/export"):
        response = client.get(path, params={"format": "pdf"}, headers=shop.as_("planner"))
        assert response.status_code == 400, path
        assert "format" in response.json()["error"]["fields"]


# -- pages --------------------------------------------------------------------


def test_import_page_previews_then_creates_on_confirm(client: Any, shop: OrderWorld) -> None:
    headers = page(client, shop, "planner")
    listing = client.get("/materials/dispatches", headers=headers)
    assert 'href="/materials/dispatches/import"' in listing.text
    supplier_listing = client.get("/materials/dispatches", headers=page(client, shop, "supplier_admin"))
    assert 'href="/materials/dispatches/import"' not in supplier_listing.text
    assert "/materials/dispatches/export?format=xlsx" in supplier_listing.text
    form = client.get("/materials/dispatches/import", headers=headers)
    assert form.status_code == 200
    assert "/materials/dispatches/import/template?format=xlsx" in form.text
    bad = csv_bytes([["", "NOPE", "", "M-STEEL", "", "1", ""]])
    preview = client.post("/materials/dispatches/import", files={"file": ("bad.csv", bad, "text/csv")}, headers=headers)
    assert preview.status_code == 200
    assert "未知的供应商代码 NOPE" in preview.text  # the reader's language (zh_CN here)
    assert 'name="sheet"' not in preview.text  # no confirm with problems
    good = csv_bytes([["PG-1", "S1", "", "M-STEEL", "H-1", "2", ""], ["PG-1", "S1", "", "M-STEEL", "H-2", "3", ""]])
    preview = client.post(
        "/materials/dispatches/import", files={"file": ("good.csv", good, "text/csv")}, headers={**headers, "hx-request": "true"}
    )
    assert preview.status_code == 200
    assert "<html" not in preview.text  # the preview block only, for htmx
    assert all_dispatches(client, shop) == []
    sealed = preview.text.split('name="sheet" value="', 1)[1].split('"', 1)[0]
    confirmed = client.post("/materials/dispatches/import/confirm", data={"sheet": sealed}, headers=headers, follow_redirects=False)
    assert confirmed.status_code == 303, confirmed.text
    assert confirmed.headers["location"].startswith("/materials/dispatches/import?imported=1")
    created = all_dispatches(client, shop)
    assert [(item["status"], item["lines"]) for item in created] == [("draft", 2)]


def test_a_confirm_after_the_order_closed_meanwhile_saves_nothing(client: Any, shop: OrderWorld) -> None:
    """The rows are checked again on confirm: what changed since the preview
    refuses the whole file."""
    headers = page(client, shop, "planner")
    order = issued_order(client, shop)
    good = csv_bytes([["", "S1", "", "M-STEEL", "H-1", "2", ""], ["", "S1", order["number"], "M-STEEL", "H-2", "3", ""]])
    preview = client.post("/materials/dispatches/import", files={"file": ("good.csv", good, "text/csv")}, headers=headers)
    sealed = preview.text.split('name="sheet" value="', 1)[1].split('"', 1)[0]
    assert fire(client, shop, order["id"], "planner", "cancel", "plan changed").status_code == 200
    confirmed = client.post("/materials/dispatches/import/confirm", data={"sheet": sealed}, headers=headers, follow_redirects=False)
    assert confirmed.status_code == 400
    assert all_dispatches(client, shop) == []
    other = page(client, shop, "admin")  # a seal is bound to the person who checked the file
    assert client.post("/materials/dispatches/import/confirm", data={"sheet": sealed}, headers=other).status_code == 400


def test_export_links_of_the_pages_download_the_lists(client: Any, shop: OrderWorld) -> None:
    mine, _, _ = _dispatches_of_both_suppliers(client, shop)
    headers = page(client, shop, "supplier_admin")
    response = client.get("/materials/dispatches/export", params={"format": "xlsx"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {mine["number"]}
    balances = client.get("/materials/balances", headers=headers)
    assert "/materials/balances/export?format=xlsx" in balances.text
    response = client.get("/materials/balances/export", params={"format": "csv"}, headers=headers)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2  # the header, and the steel held by this supplier


def test_returns_and_scrap_export_their_lists_and_suppliers_get_their_own(client: Any, shop: OrderWorld) -> None:
    for supplier, who in ((0, "supplier_operator"), (1, "other_supplier_admin")):
        sent = sent_dispatch(client, shop, ("100", f"A{supplier}"), supplier=supplier)
        assert receipt(client, shop, sent, ("100", ""), who=who).status_code == 200
        body = {"item_id": shop.material_id, "quantity": f"{supplier + 1}.5", "lot": f"A{supplier}", "reason": f"Cracked {supplier}"}
        assert client.post("/api/v1/material-returns", json=body, headers=shop.as_(who)).status_code == 201
        assert client.post("/api/v1/material-scrap", json=body, headers=shop.as_(who)).status_code == 201
    english = {"accept-language": "en"}
    for path in ("/api/v1/material-returns/export", "/api/v1/material-scrap/export"):
        response = client.get(path, params={"format": "xlsx"}, headers={**shop.as_("planner"), **english})
        assert response.status_code == 200, response.text
        sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert values[0][:6] == ["Reported at", "Supplier name", "Item code", "Item name", "Lot / batch", "Quantity"]
        # Newest first, as on the list, with quantities as numbers.
        assert [(row[4], Decimal(str(row[5])), row[7]) for row in values[1:]] == [
            ("A1", Decimal("2.5"), "Cracked 1"),
            ("A0", Decimal("1.5"), "Cracked 0"),
        ], path
        own = export(client, shop, path, "supplier_admin")
        assert len(own) == 1
        assert "A1" not in str(own)
        assert "A0" in str(own)
    listing = client.get("/materials/reports", headers=page(client, shop, "supplier_admin")).text
    for kind in ("returns", "scrap"):
        assert f"/materials/reports/{kind}/export?format=xlsx" in listing
        downloaded = client.get(f"/materials/reports/{kind}/export", params={"format": "csv"}, headers=page(client, shop, "planner"))
        assert downloaded.status_code == 200
        assert "Cracked 0" in downloaded.content.decode("utf-8-sig")
