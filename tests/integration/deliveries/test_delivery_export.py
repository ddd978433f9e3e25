"""The delivery list as a CSV or XLSX file: the list's rows, filters and
scoping, through the API and the page."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

from tests.integration.deliveries.conftest import accepted_order, create, receive
from tests.integration.orders.conftest import OrderWorld, due, fire
from tests.support.factories import api_token, page_headers


def export(client: Any, shop: OrderWorld, who: str, fmt: str = "csv", **params: str) -> list[dict[str, str]]:
    response = client.get("/api/v1/deliveries/export", params={"format": fmt, **params}, headers={**shop.as_(who), "accept-language": "en"})
    assert response.status_code == 200, response.text
    if fmt == "csv":
        assert response.content.startswith(b"\xef\xbb\xbf")
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    # Empty cells at the end of a row are not stored.
    return [dict(zip(rows[0], row + [""] * (len(rows[0]) - len(row)), strict=True)) for row in rows[1:]]


def second_suppliers_notice(client: Any, shop: OrderWorld) -> dict[str, Any]:
    body = {
        "supplier_id": str(shop.world.supplier_ids[1]),
        "lines": [{"item_id": shop.part_id, "quantity": "10", "unit_price": "3", "due_date": due(7)}],
    }
    order = client.post("/api/v1/orders", json=body, headers=shop.as_("planner")).json()
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    accepted = fire(client, shop, order["id"], "other_supplier_admin", "accept").json()
    notice = create(client, shop, accepted, "4", lot="S2-LOT", who="other_supplier_admin")
    assert notice.status_code == 201, notice.text
    return dict(notice.json())


def notices(client: Any, shop: OrderWorld) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The first supplier's notice received with a reject (two lots), its
    draft, and the second supplier's notice in transit."""
    order = accepted_order(client, shop, "100")
    received = create(client, shop, order, "30", "20", lot="=1+1").json()
    assert receive(client, shop, received, ("30", "0", ""), ("15", "5", "Scratches")).status_code == 200
    draft = create(client, shop, order, "10", lot="D-1", ship=False).json()
    return received, draft, second_suppliers_notice(client, shop)


def test_export_has_one_row_per_line_with_the_receipt_and_the_lists_filters(client: Any, shop: OrderWorld) -> None:
    received, draft, theirs = notices(client, shop)
    rows = export(client, shop, "planner")
    # Newest number first, as on the list; the buyer never sees a draft.
    assert [(row["Delivery number"], row["Lot"]) for row in rows] == [
        (theirs["number"], "S2-LOT"),
        (received["number"], "'=1+1"),  # text, never a formula
        (received["number"], "'=1+1"),
    ]
    assert draft["number"] not in str(rows)
    second = rows[2]
    assert (second["Shipped quantity"], second["Accepted quantity"], second["Rejected quantity"]) == ("20", "15", "5")
    assert (second["Reject reason"], second["Status"], second["Item code"], second["Order line"]) == ("Scratches", "Received", "P-100", "1")
    assert rows[0]["Accepted quantity"] == ""  # in transit: no receipt yet
    assert [row["Delivery number"] for row in export(client, shop, "planner", status="shipped")] == [theirs["number"]]
    by_supplier = export(client, shop, "planner", supplier_id=str(shop.world.supplier_ids[0]))
    assert {row["Delivery number"] for row in by_supplier} == {received["number"]}
    xlsx = export(client, shop, "planner", "xlsx")
    assert [{key: value.removeprefix("'") for key, value in row.items()} for row in rows] == xlsx


def test_suppliers_export_their_own_notices_only_drafts_included(client: Any, shop: OrderWorld) -> None:
    received, draft, theirs = notices(client, shop)
    for who in ("supplier_admin", "supplier_operator"):
        numbers = [row["Delivery number"] for row in export(client, shop, who)]
        assert numbers == [draft["number"], received["number"], received["number"]], who
        assert theirs["number"] not in numbers
    other = export(client, shop, "other_supplier_admin")
    assert [row["Delivery number"] for row in other] == [theirs["number"]]
    assert "Scratches" not in str(other)


def test_export_refuses_an_unknown_format_or_status(client: Any, shop: OrderWorld) -> None:
    wrong_format = client.get("/api/v1/deliveries/export", params={"format": "pdf"}, headers=shop.as_("planner"))
    assert wrong_format.status_code == 400
    assert "format" in wrong_format.json()["error"]["fields"]
    wrong_status = client.get("/api/v1/deliveries/export", params={"status": "lost"}, headers=shop.as_("planner"))
    assert wrong_status.status_code == 400
    assert "status" in wrong_status.json()["error"]["fields"]


def test_the_list_page_links_to_its_export_with_its_filter(client: Any, shop: OrderWorld) -> None:
    received, _, theirs = notices(client, shop)
    headers = page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))
    listing = client.get("/deliveries", params={"status": "received"}, headers=headers)
    assert "/deliveries/export?format=xlsx&amp;status=received" in listing.text
    response = client.get("/deliveries/export", params={"format": "xlsx", "status": "received"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {received["number"]}
    assert theirs["number"] not in str(list(sheet.iter_rows(values_only=True)))
