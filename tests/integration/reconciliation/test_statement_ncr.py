"""Chargeable NCR dispositions become deductions of the statement of the
period they were recorded in, in the currency of the NCR's order, against
figures worked out by hand: one just before the cut-off, one just after it
(November's), one on the dollar order, one on an NCR naming no order (the
tenant's currency), a free one and another supplier's (never on ours)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld
from tests.integration.reconciliation.conftest import NOVEMBER, OCTOBER, at, by_currency, compute, october, shop, utc
from tests.integration.reconciliation.test_statement_pdf import pdf_text

__all__ = ["shop"]


def ncr(client: Any, shop: OrderWorld, **source: Any) -> dict[str, Any]:
    """An NCR issued to its supplier (``source``: an order line, a supplier)."""
    opened = client.post("/api/v1/ncrs", json={"title": "Burrs", "description": "Burrs on the bore", **source}, headers=shop.as_("qa"))
    assert opened.status_code == 201, opened.text
    issued = client.post(f"/api/v1/ncrs/{opened.json()['id']}/issue", json={}, headers=shop.as_("qa"))
    assert issued.status_code == 200, issued.text
    return dict(issued.json())


def disposition(client: Any, run: Any, shop: OrderWorld, of: dict[str, Any], when: Any, **body: Any) -> dict[str, Any]:
    made = client.post(f"/api/v1/ncrs/{of['id']}/dispositions", json=body, headers=shop.as_("qa"))
    assert made.status_code == 201, made.text
    at(run, "disposition", made.json()["id"], created_at=when)
    return dict(made.json())


def with_ncrs(client: Any, run: Any, shop: OrderWorld) -> dict[str, Any]:
    records = october(client, run, shop)
    yuan = ncr(client, shop, order_line_id=records["order"]["lines"][0]["id"], quantity="5")
    # 15:59 UTC on 31 October is 23:59 in Shanghai: October's, by a minute.
    disposition(
        client, run, shop, yuan, utc(10, 31, 15, 59), kind="scrap", quantity="3", chargeable=True, amount="40.005", note="3 scrapped"
    )
    # 16:01 UTC is past the cut-off: November's.
    disposition(client, run, shop, yuan, utc(10, 31, 16, 1), kind="rework", quantity="2", chargeable=True, amount="12.50")
    dollars = ncr(client, shop, order_line_id=records["dollars"]["lines"][0]["id"], quantity="1")
    disposition(client, run, shop, dollars, utc(10, 20), kind="return", quantity="1", chargeable=True, amount="3.35")
    direct = ncr(client, shop, supplier_id=str(shop.world.supplier_ids[0]), quantity="2")
    disposition(client, run, shop, direct, utc(10, 12), kind="scrap", quantity="1", chargeable=True, amount="7")
    disposition(client, run, shop, direct, utc(10, 13), kind="use_as_is", quantity="1", note="Deviation D-7 accepted by design")
    theirs = ncr(client, shop, supplier_id=str(shop.world.supplier_ids[1]), quantity="1")
    disposition(client, run, shop, theirs, utc(10, 14), kind="scrap", quantity="1", chargeable=True, amount="99")
    return {"yuan": yuan, "dollars": dollars, "direct": direct, "theirs": theirs}


def test_chargeable_dispositions_are_deducted_in_their_period_and_currency(client: Any, run: Any, shop: OrderWorld) -> None:
    made = with_ncrs(client, run, shop)
    statements = by_currency(compute(client, shop, OCTOBER))
    assert set(statements) == {"CNY", "USD"}
    cny = statements["CNY"]
    lines = [
        (line["kind"], line["reference"], line["item_code"], line["quantity"], line["unit_price"], line["amount"]) for line in cny["lines"]
    ]
    # test_statement_figures' October (375.00 + 195.00 - 22.14), then the NCR
    # naming no order (12 Oct, yuan: the tenant's currency) and the scrap of
    # 31 October 23:59 Shanghai time: 40.005 rounded half up to 40.01.
    assert lines == [
        ("delivery", lines[0][1], "P-100", "30", "12.5", "375.00"),
        ("delivery", lines[1][1], "P-100", "15", "13", "195.00"),
        ("scrap", "", "M-STEEL", "2.7", "8.2", "-22.14"),
        ("ncr", made["direct"]["number"], "", "1", None, "-7.00"),
        ("ncr", f"{made['yuan']['number']} / {made['yuan']['order_number']}", "P-100", "3", None, "-40.01"),
    ]
    assert cny["lines"][4]["description"] == "3 scrapped"
    # Deductions -22.14 - 7.00 - 40.01 = -69.15; 570.00 - 69.15 = 500.85;
    # tax 500.85 x 0.13 = 65.1105 -> 65.11; total 565.96.
    assert (cny["deliveries_total"], cny["deductions_total"], cny["subtotal"], cny["tax"], cny["total"]) == (
        "570.00",
        "-69.15",
        "500.85",
        "65.11",
        "565.96",
    )
    usd = statements["USD"]
    # 7 x 3.35 = 23.45 less the returned part's 3.35 = 20.10; tax 2.613 -> 2.61.
    assert [(line["kind"], line["amount"]) for line in usd["lines"]] == [("delivery", "23.45"), ("ncr", "-3.35")]
    assert (usd["deductions_total"], usd["subtotal"], usd["tax"], usd["total"]) == ("-3.35", "20.10", "2.61", "22.71")
    # The other supplier's 99 is on no statement of ours.
    assert all(line["amount"] != "-99.00" for statement in statements.values() for line in statement["lines"])

    november = by_currency(compute(client, shop, NOVEMBER))["CNY"]
    # The delivery straddling the cut-off (10 x 13.00) and the rework of
    # 16:01 UTC: 117.50; tax 15.275 -> 15.28; total 132.78.
    assert [(line["kind"], line["amount"]) for line in november["lines"]] == [("delivery", "130.00"), ("ncr", "-12.50")]
    assert (november["subtotal"], november["tax"], november["total"]) == ("117.50", "15.28", "132.78")

    other = by_currency(compute(client, shop, OCTOBER, supplier=1))
    assert [(line["kind"], line["amount"]) for line in other["CNY"]["lines"]] == [("ncr", "-99.00")]


def test_a_cancelled_ncr_charges_nothing(client: Any, run: Any, shop: OrderWorld) -> None:
    made = with_ncrs(client, run, shop)
    cancelled = client.post(f"/api/v1/ncrs/{made['yuan']['id']}/cancel", json={"comment": "raised in error"}, headers=shop.as_("qa"))
    assert cancelled.status_code == 200, cancelled.text
    cny = by_currency(compute(client, shop, OCTOBER))["CNY"]
    assert [line["amount"] for line in cny["lines"] if line["kind"] == "ncr"] == ["-7.00"]
    assert cny["deductions_total"] == "-29.14"


def test_a_draft_ncr_charges_nothing(client: Any, run: Any, shop: OrderWorld) -> None:
    made = with_ncrs(client, run, shop)
    opened = client.post(
        "/api/v1/ncrs",
        json={"title": "Dents", "description": "Dents on the flange", "supplier_id": str(shop.world.supplier_ids[0]), "quantity": "1"},
        headers=shop.as_("qa"),
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["status"] == "draft"
    disposition(client, run, shop, opened.json(), utc(10, 15), kind="scrap", quantity="1", chargeable=True, amount="55")
    cny = by_currency(compute(client, shop, OCTOBER))["CNY"]
    # Only the issued NCRs of with_ncrs: the supplier cannot open a draft, so
    # its statement must not name one.
    assert [line["reference"] for line in cny["lines"] if line["kind"] == "ncr"] == [
        made["direct"]["number"],
        f"{made['yuan']['number']} / {made['yuan']['order_number']}",
    ]
    assert cny["deductions_total"] == "-69.15"


def test_the_deductions_show_on_the_page_and_in_the_pdf(client: Any, run: Any, shop: OrderWorld, tmp_path: Path) -> None:
    from tests.integration.reconciliation.test_statement_pages import page

    made = with_ncrs(client, run, shop)
    cny = by_currency(compute(client, shop, OCTOBER))["CNY"]
    shown = client.get(f"/statements/{cny['id']}", headers={**page(client, shop, "finance"), "accept-language": "en"})
    assert shown.status_code == 200
    assert shown.text.count("Chargeable nonconformance") == 2
    assert made["direct"]["number"] in shown.text
    assert "3 scrapped" in shown.text

    asked = client.post(f"/api/v1/statements/{cny['id']}/pdf", headers=shop.as_("finance"))
    assert asked.status_code == 202, asked.text
    run(run_due_jobs)
    served = client.get(f"/api/v1/statements/{cny['id']}/pdf", headers=shop.as_("finance"))
    assert served.status_code == 200, served.text
    text = pdf_text(served.content, tmp_path)
    flat = re.sub(r"\s+", " ", text)
    for figure in ("-¥7.00", "-¥40.01", "-¥69.15", "¥565.96", made["direct"]["number"], made["yuan"]["number"]):
        assert figure in flat, figure
