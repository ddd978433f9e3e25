"""The board's export is what the board shows, in the order it shows it:
every sort key both ways and each filter, through the API and through the
page's own export link (which follows filters changed through htmx)."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import openpyxl
import pytest

from portal.orders.schemas import BOARD_SORTS
from tests.integration.orders.conftest import OrderWorld
from tests.integration.orders.test_board_sort import sorted_shop
from tests.support.factories import api_token, page_headers

__all__ = ["sorted_shop"]


def _board(client: Any, shop: OrderWorld, params: dict[str, str]) -> list[str]:
    numbers: list[str] = []
    cursor = None
    while True:
        page = client.get("/api/v1/orders", params={**params, **({"cursor": cursor} if cursor else {})}, headers=shop.as_("planner"))
        assert page.status_code == 200, page.text
        numbers += [item["number"] for item in page.json()["items"]]
        cursor = page.json()["next"]
        if not cursor:
            return numbers


def _numbers(response: Any) -> list[str]:
    """The order column of an exported file, one entry per order (each
    order here has one line)."""
    assert response.status_code == 200, response.text
    if response.content.startswith(b"\xef\xbb\xbf"):
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
        rows = [[str(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    return [row[0] for row in rows[1:]]


@pytest.mark.parametrize("sort", BOARD_SORTS)
def test_the_export_has_the_boards_orders_in_the_boards_order(
    client: Any, shop: OrderWorld, sorted_shop: dict[str, str], sort: str
) -> None:
    for direction in ("asc", "desc"):
        params = {"sort": sort, "dir": direction}
        shown = _board(client, shop, params)
        assert len(shown) == len(sorted_shop)
        exported = client.get("/api/v1/orders/export", params={"format": "csv", **params}, headers=shop.as_("planner"))
        assert _numbers(exported) == shown, params


def test_the_export_keeps_every_filter_of_the_board(client: Any, shop: OrderWorld, sorted_shop: dict[str, str]) -> None:
    first_supplier = str(shop.world.supplier_ids[0])
    for params in (
        {"supplier_id": first_supplier, "sort": "number", "dir": "desc"},
        {"status": "issued", "sort": "supplier"},
        {"overdue": "true", "sort": "late"},
        {"q": "SORT-0", "due_before": sorted(_due_dates(client, shop))[3], "sort": "status", "dir": "desc"},
    ):
        shown = _board(client, shop, params)
        assert 0 < len(shown) < len(sorted_shop), params
        for fmt in ("csv", "xlsx"):
            exported = client.get("/api/v1/orders/export", params={"format": fmt, **params}, headers=shop.as_("planner"))
            assert _numbers(exported) == shown, (fmt, params)


def _due_dates(client: Any, shop: OrderWorld) -> list[str]:
    return [item["due_date"] for item in client.get("/api/v1/orders", headers=shop.as_("planner")).json()["items"]]


def _export_link(page: str) -> str:
    found = re.search(r'href="(/orders/export\?[^"]+)"', page)
    assert found, "the board offers no export link"
    return html.unescape(found.group(1))


def _table_numbers(page: str) -> list[str]:
    table = page.split('<table class="board-table">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<strong>(SORT-\d+)</strong>", table)


def test_the_pages_export_link_downloads_the_list_shown(client: Any, shop: OrderWorld, sorted_shop: dict[str, str]) -> None:
    headers = page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))
    query = {"supplier_id": str(shop.world.supplier_ids[0]), "q": "SORT", "sort": "number", "dir": "desc"}
    page = client.get("/orders", params=query, headers=headers).text
    shown = _table_numbers(page)
    assert shown == sorted(shown, reverse=True)
    assert 0 < len(shown) < len(sorted_shop)
    assert _numbers(client.get(_export_link(page), headers=headers)) == shown

    # Filters changed through htmx re-render the list, and the link with it.
    refreshed = client.get(
        "/orders", params={"overdue": "true", "sort": "due"}, headers={**headers, "hx-request": "true", "hx-target": "order-list"}
    ).text
    assert "<html" not in refreshed
    shown = _table_numbers(refreshed)
    assert len(shown) == 1
    assert _numbers(client.get(_export_link(refreshed), headers=headers)) == shown
