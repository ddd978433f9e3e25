"""The statement pages (finance on a desktop, the supplier admin on a phone)
and the export of a statement's lines and material section."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

from tests.integration.orders.conftest import OrderWorld
from tests.integration.reconciliation.conftest import OCTOBER, by_currency, october, shop
from tests.support.factories import api_token, page_headers

__all__ = ["shop"]


def page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    return {**page_headers(client, api_token(client, shop.world.accounts[who], shop.world.slug)), "accept-language": "en"}


def post(client: Any, shop: OrderWorld, who: str, path: str, **form: str) -> Any:
    headers = page(client, shop, who)
    client.cookies.clear()
    return client.post(path, data={"_csrf_token": headers["x-csrftoken"], **form}, headers=headers, follow_redirects=False)


def test_finance_computes_closes_and_sends_from_the_pages_and_the_supplier_answers_there(client: Any, run: Any, shop: OrderWorld) -> None:
    october(client, run, shop)
    supplier = str(shop.world.supplier_ids[0])
    listing = client.get("/statements", headers=page(client, shop, "finance"))
    assert listing.status_code == 200
    assert 'action="/statements/compute"' in listing.text
    bad = post(client, shop, "finance", "/statements/compute", supplier_id=supplier, period="2026-13")
    assert bad.status_code == 400
    assert "YYYY-MM" in bad.text
    computed = post(client, shop, "finance", "/statements/compute", supplier_id=supplier, period=OCTOBER)
    assert (computed.status_code, computed.headers["location"]) == (303, f"/statements?period={OCTOBER}&done=computed")
    closed = post(client, shop, "finance", "/statements/close", supplier_id=supplier, period=OCTOBER)
    assert closed.status_code == 303
    statements = client.get("/api/v1/statements", params={"period": OCTOBER}, headers=shop.as_("finance")).json()["items"]
    cny = next(item for item in statements if item["currency"] == "CNY")
    assert post(client, shop, "finance", f"/statements/{cny['id']}/send").status_code == 303

    phone = client.get(f"/statements/{cny['id']}", headers=page(client, shop, "supplier_admin"))
    assert phone.status_code == 200
    assert phone.text.count('/confirm"') == 3 + 0  # one confirm per line; the statement's own waits
    detail = client.get(f"/api/v1/statements/{cny['id']}", headers=shop.as_("supplier_admin")).json()
    first, second = detail["lines"][0]["id"], detail["lines"][1]["id"]
    assert post(client, shop, "supplier_admin", f"/statements/{cny['id']}/lines/{first}/confirm").status_code == 303
    empty = post(client, shop, "supplier_admin", f"/statements/{cny['id']}/lines/{second}/dispute", comment="")
    assert empty.status_code == 400
    assert "Say what is wrong" in empty.text
    disputed = post(client, shop, "supplier_admin", f"/statements/{cny['id']}/lines/{second}/dispute", comment="Wrong price")
    assert disputed.status_code == 303
    desk = client.get(f"/statements/{cny['id']}", headers=page(client, shop, "finance"))
    assert f'/lines/{second}/answer"' in desk.text
    assert "Wrong price" in desk.text
    home = client.get("/", headers=page(client, shop, "finance"))
    assert "Disputed statements" in home.text
    assert f"/statements/{cny['id']}#lines" in home.text
    supplier_home = client.get("/", headers=page(client, shop, "supplier_admin"))
    assert "Statements to confirm" in supplier_home.text
    assert f"/statements/{cny['id']}" in supplier_home.text


def test_export_of_lines_and_material_section(client: Any, run: Any, shop: OrderWorld) -> None:
    october(client, run, shop)
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "period": OCTOBER}
    cny = by_currency(client.post("/api/v1/statements/compute", json=body, headers=shop.as_("finance")))["CNY"]
    headers = {**shop.as_("finance"), "accept-language": "en"}
    lines = client.get(f"/api/v1/statements/{cny['id']}/export", params={"format": "csv"}, headers=headers)
    assert lines.status_code == 200, lines.text
    rows = list(csv.DictReader(io.StringIO(lines.content.decode("utf-8-sig"))))
    assert [(row["Line"], row["Kind"], row["Amount"]) for row in rows] == [
        ("1", "Accepted delivery", "375.00"),
        ("2", "Accepted delivery", "195.00"),
        ("3", "Scrap beyond the allowance", "-22.14"),
    ]
    materials = client.get(f"/api/v1/statements/{cny['id']}/export", params={"format": "csv", "part": "materials"}, headers=headers)
    [steel] = list(csv.DictReader(io.StringIO(materials.content.decode("utf-8-sig"))))
    assert (steel["Item code"], steel["Opening"], steel["Consumed by accepted output"], steel["Closing"]) == ("M-STEEL", "0", "65", "26")
    xlsx = client.get(f"/api/v1/statements/{cny['id']}/export", params={"format": "xlsx"}, headers=headers)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert [sheet.title for sheet in book.worksheets] == ["Statement lines", "Material section"]
    assert client.get(f"/api/v1/statements/{cny['id']}/export", params={"part": "x"}, headers=headers).status_code == 400
    # A draft is finance's own: the supplier cannot export it either.
    assert client.get(f"/api/v1/statements/{cny['id']}/export", headers=shop.as_("supplier_admin")).status_code == 404
