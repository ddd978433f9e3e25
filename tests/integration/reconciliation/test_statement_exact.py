"""A statement shows every figure the same way on its page, in its PDF and
in its export: quantities and prices with every decimal they carry (never
cut to three), amounts rounded once per currency, and totals that are the
sums of the rounded lines."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import msgspec

from portal.i18n import format_money, use_locale
from portal.reconciliation.pdf import printed_lines
from portal.reconciliation.schemas import StatementOut
from tests.integration.orders.conftest import OrderWorld
from tests.integration.reconciliation.conftest import OCTOBER, by_currency, deliver, order_in, shop, steel_moves, utc
from tests.support.factories import api_token, page_headers

__all__ = ["shop"]


def fine_october(client: Any, run: Any, shop: OrderWorld) -> dict[str, Any]:
    """October's CNY statement of quantities finer than three decimals."""
    price = client.put("/api/v1/material-prices", json={"item_id": shop.material_id, "unit_price": "8.123456"}, headers=shop.as_("finance"))
    assert price.status_code == 204, price.text
    order = order_in(client, shop, "100", "12.50")
    deliver(client, run, shop, order, "2.0005", "2.0005", utc(10, 5))
    deliver(client, run, shop, order, "1.0003", "1.0003", utc(10, 6))
    steel_moves(client, run, shop, sent="10", received="10", returned="0.0001", scrapped="0.1235", when=utc(10, 2))
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "period": OCTOBER}
    return by_currency(client.post("/api/v1/statements/compute", json=body, headers=shop.as_("finance")))["CNY"]


def in_english(amount: Decimal) -> str:
    with use_locale("en"):
        return format_money(amount, "CNY")


def test_the_page_the_pdf_and_the_export_show_the_same_exact_figures(client: Any, run: Any, shop: OrderWorld) -> None:
    cny = fine_october(client, run, shop)
    headers = {**page_headers(client, api_token(client, shop.world.accounts["finance"], shop.world.slug)), "accept-language": "en"}
    page = client.get(f"/statements/{cny['id']}", headers=headers)
    assert page.status_code == 200, page.text
    exported = client.get(
        f"/api/v1/statements/{cny['id']}/export", params={"format": "csv"}, headers={**shop.as_("finance"), "accept-language": "en"}
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    materials = client.get(
        f"/api/v1/statements/{cny['id']}/export",
        params={"format": "csv", "part": "materials"},
        headers={**shop.as_("finance"), "accept-language": "en"},
    )
    [steel] = list(csv.DictReader(io.StringIO(materials.content.decode("utf-8-sig"))))

    # The export: exact quantities and prices, amounts rounded half up to fen.
    assert [(row["Quantity"], row["Unit price"], row["Amount"]) for row in rows] == [
        ("2.0005", "12.5", "25.01"),  # 25.00625
        ("1.0003", "12.5", "12.50"),  # 12.50375
        ("0.04848", "8.123456", "-0.39"),  # 0.1235 kg scrapped beyond 2 % of 3.751: 0.3938...
    ]
    assert (steel["Consumed by accepted output"], steel["Returned"], steel["Scrapped"]) == ("3.751", "0.0001", "0.1235")

    # The page: the same digits, in the page's locale.
    for row in rows:
        assert f"{row['Quantity']} " in page.text
        assert f"× {row['Unit price']}" in page.text
        assert in_english(Decimal(row["Amount"])) in page.text
    for figure in (steel["Opening"], steel["Consumed by accepted output"], steel["Returned"], steel["Scrapped"], steel["Closing"]):
        assert f"<dd>{figure}</dd>" in page.text

    # The PDF's rows: the same digits again.
    statement = msgspec.convert(client.get(f"/api/v1/statements/{cny['id']}", headers=shop.as_("finance")).json(), StatementOut)
    with use_locale("en"):
        printed = printed_lines(statement, statement.lines, "Asia/Shanghai")
    assert [(row.cells[5], row.cells[7]) for row in printed] == [(row["Quantity"], row["Unit price"]) for row in rows]

    # Totals are the sums of the rounded lines, on the page as in the API.
    assert Decimal(statement.subtotal) == sum(Decimal(row["Amount"]) for row in rows)
    assert in_english(statement.subtotal) in page.text


def test_a_material_price_below_zero_is_refused_as_such(client: Any, shop: OrderWorld) -> None:
    for language, words in (("en", "zero or more"), ("zh-CN", "0")):
        refused = client.put(
            "/api/v1/material-prices",
            json={"item_id": shop.material_id, "unit_price": "-1"},
            headers={**shop.as_("finance"), "accept-language": language},
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_material_price")
        assert words in refused.json()["error"]["fields"]["unit_price"]
