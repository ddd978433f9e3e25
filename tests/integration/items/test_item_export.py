"""The item list as a CSV or XLSX file: every match of the list's search,
buyer roles only."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

from tests.integration.orders.conftest import OrderWorld
from tests.support.factories import api_token, page_headers


def test_export_has_every_item_of_the_search_beyond_the_pages_first_hundred(client: Any, shop: OrderWorld) -> None:
    for index in range(105):
        body = {"code": f"B-{index:03d}", "name": f"=Bolt {index}", "unit": "pcs", "spec": "M8"}
        assert client.post("/api/v1/items", json=body, headers=shop.as_("planner")).status_code == 201
    assert len(client.get("/api/v1/items", params={"q": "B-"}, headers=shop.as_("planner")).json()["items"]) == 100
    response = client.get("/api/v1/items/export", params={"q": "B-"}, headers={**shop.as_("qa"), "accept-language": "en"})
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 105
    assert rows[0] == {"Code": "B-000", "Name": "'=Bolt 0", "Specification": "M8", "Unit": "pcs", "Kind": "part", "Active": "Yes"}
    everything = client.get("/api/v1/items/export", params={"format": "xlsx"}, headers=shop.as_("planner"))
    sheet = openpyxl.load_workbook(io.BytesIO(everything.content), read_only=True).worksheets[0]
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == sorted(codes)
    assert {"P-100", "M-STEEL"} <= set(codes)
    assert len(codes) == 107


def test_supplier_roles_cannot_export_the_item_master(client: Any, shop: OrderWorld) -> None:
    for who in ("supplier_admin", "supplier_operator"):
        assert client.get("/api/v1/items/export", headers=shop.as_(who)).status_code == 403, who


def test_the_item_page_links_to_its_export_with_its_search(client: Any, shop: OrderWorld) -> None:
    headers = page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))
    listing = client.get("/items", params={"q": "STEEL"}, headers=headers)
    assert "/items/export?format=xlsx&amp;q=STEEL" in listing.text
    response = client.get("/items/export", params={"format": "csv", "q": "STEEL"}, headers=headers)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["M-STEEL"]
