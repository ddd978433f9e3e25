"""Statements computed from the records, against figures worked out by hand:
a price revision mid-period, a partial delivery with a reject, a delivery
straddling the cut-off, a second currency, material sent, returned and
scrapped beyond the allowance, an approved adjustment and tax. Then the
period closes: frozen, and the next one opens on its closing balance."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.integration.orders.conftest import OrderWorld
from tests.integration.reconciliation.conftest import NOVEMBER, OCTOBER, by_currency, compute, october, shop

__all__ = ["shop"]


def test_october_by_hand(client: Any, run: Any, shop: OrderWorld) -> None:
    october(client, run, shop)
    statements = by_currency(compute(client, shop, OCTOBER))
    assert set(statements) == {"CNY", "USD"}
    cny = statements["CNY"]
    lines = [(line["kind"], line["quantity"], line["unit_price"], line["amount"]) for line in cny["lines"]]
    # 30 x 12.50 before the revision, 15 x 13.00 after it. Output (45 parts
    # here and 7 on the dollar order) used 52 x 1.25 = 65 kg with 1.3 kg
    # allowed scrap: 4 - 1.3 = 2.7 kg beyond it, x 8.20 = 22.14.
    assert lines == [
        ("delivery", "30", "12.5", "375.00"),
        ("delivery", "15", "13", "195.00"),
        ("scrap", "2.7", "8.2", "-22.14"),
    ]
    assert (cny["deliveries_total"], cny["deductions_total"], cny["adjustments_total"]) == ("570.00", "-22.14", "0.00")
    # 547.86 x 0.13 = 71.2218 -> 71.22
    assert (cny["subtotal"], cny["tax_rate"], cny["tax"], cny["total"]) == ("547.86", "0.13", "71.22", "619.08")
    assert (cny["status"], cny["closed"], cny["period"]) == ("draft", False, OCTOBER)
    assert cny["period_start"].startswith("2026-09-30T16:00:00")
    assert cny["period_end"].startswith("2026-10-31T16:00:00")
    [steel] = cny["materials"]
    figures = {
        name: steel[name]
        for name in ("opening", "dispatched", "received", "consumed", "scrap_allowance", "returned", "scrapped", "closing")
    }
    # 0 + 100 - 65 - 5 - 4 = 26
    assert figures == {
        "opening": "0",
        "dispatched": "100",
        "received": "100",
        "consumed": "65",
        "scrap_allowance": "1.3",
        "returned": "5",
        "scrapped": "4",
        "closing": "26",
    }
    usd = statements["USD"]
    # 7 x 3.35 = 23.45, tax 3.0485 -> 3.05; the material section stays
    # with the tenant's currency.
    assert [line["amount"] for line in usd["lines"]] == ["23.45"]
    assert (usd["tax"], usd["total"], usd["materials"]) == ("3.05", "26.50", [])
    # Computing answers the lines it wrote without reading them back: the
    # same statements as read afterwards.
    for statement in statements.values():
        assert client.get(f"/api/v1/statements/{statement['id']}", headers=shop.as_("finance")).json() == statement


def test_an_adjustment_counts_once_approved_by_someone_else(client: Any, run: Any, shop: OrderWorld) -> None:
    october(client, run, shop)
    supplier = str(shop.world.supplier_ids[0])
    too_fine = client.post(
        "/api/v1/statement-adjustments",
        json={"supplier_id": supplier, "period": OCTOBER, "amount": "10.005", "reason": "freight"},
        headers={**shop.as_("finance"), "accept-language": "zh-CN"},
    )
    assert too_fine.status_code == 400
    assert too_fine.json()["error"]["code"] == "invalid_adjustment"
    assert "2" in too_fine.json()["error"]["fields"]["amount"]
    no_reason = client.post(
        "/api/v1/statement-adjustments",
        json={"supplier_id": supplier, "period": OCTOBER, "amount": "10", "reason": " "},
        headers=shop.as_("finance"),
    )
    assert set(no_reason.json()["error"]["fields"]) == {"reason"}
    made = client.post(
        "/api/v1/statement-adjustments",
        json={"supplier_id": supplier, "period": OCTOBER, "amount": "10.00", "reason": "freight refund", "corrects": "2026-09"},
        headers=shop.as_("finance"),
    )
    assert made.status_code == 201, made.text
    pending = by_currency(compute(client, shop, OCTOBER))["CNY"]
    assert pending["total"] == "619.08"  # not approved yet: not counted
    own = client.post(f"/api/v1/statement-adjustments/{made.json()['id']}/approve", headers=shop.as_("finance"))
    assert (own.status_code, own.json()["error"]["code"]) == (403, "own_adjustment")
    approved = client.post(f"/api/v1/statement-adjustments/{made.json()['id']}/approve", headers=shop.as_("admin"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == str(shop.world.accounts["admin"].user_id)
    again = client.post(f"/api/v1/statement-adjustments/{made.json()['id']}/approve", headers=shop.as_("admin"))
    assert again.status_code == 409
    cny = by_currency(compute(client, shop, OCTOBER))["CNY"]
    assert [(line["kind"], line["amount"], line["description"], line["reference"]) for line in cny["lines"]][-1] == (
        "adjustment",
        "10.00",
        "freight refund",
        "2026-09",
    )
    # 557.86 x 0.13 = 72.5218 -> 72.52
    assert (cny["adjustments_total"], cny["subtotal"], cny["tax"], cny["total"]) == ("10.00", "557.86", "72.52", "630.38")


def test_closing_freezes_the_period_and_november_opens_on_its_closing(client: Any, run: Any, shop: OrderWorld) -> None:
    october(client, run, shop)
    supplier = str(shop.world.supplier_ids[0])
    closed = client.post("/api/v1/statements/close", json={"supplier_id": supplier, "period": OCTOBER}, headers=shop.as_("finance"))
    assert closed.status_code == 200, closed.text
    frozen = by_currency(closed)
    assert frozen["CNY"]["closed"] is True
    assert frozen["CNY"]["total"] == "619.08"
    twice = client.post(
        "/api/v1/statements/close",
        json={"supplier_id": supplier, "period": OCTOBER},
        headers={**shop.as_("finance"), "accept-language": "en"},
    )
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "period_already_closed")
    assert "already closed" in twice.json()["error"]["message"]
    recompute = compute(client, shop, OCTOBER)
    assert (recompute.status_code, recompute.json()["error"]["code"]) == (409, "period_closed")
    late = client.post(
        "/api/v1/statement-adjustments",
        json={"supplier_id": supplier, "period": OCTOBER, "amount": "1", "reason": "late"},
        headers={**shop.as_("finance"), "accept-language": "zh-CN"},
    )
    assert (late.status_code, late.json()["error"]["code"]) == (409, "period_closed")
    assert "调整" in late.json()["error"]["message"]
    # A record arriving now is dated now: it cannot reach October.
    unchanged = client.get(f"/api/v1/statements/{frozen['CNY']['id']}", headers=shop.as_("finance")).json()
    assert unchanged["total"] == "619.08"
    assert unchanged["version"] == frozen["CNY"]["version"]

    november = by_currency(compute(client, shop, NOVEMBER))["CNY"]
    # The delivery straddling the cut-off, at the revised price.
    assert [(line["kind"], line["quantity"], line["amount"]) for line in november["lines"]] == [("delivery", "10", "130.00")]
    [steel] = november["materials"]
    # Opens on October's frozen closing; 10 x 1.25 = 12.5 kg consumed.
    assert (steel["opening"], steel["consumed"], steel["closing"]) == ("26", "12.5", "13.5")
    not_over = client.post(
        "/api/v1/statements/close",
        json={"supplier_id": supplier, "period": datetime.now(UTC).strftime("%Y-%m")},
        headers=shop.as_("finance"),
    )
    assert (not_over.status_code, not_over.json()["error"]["code"]) == (409, "period_not_over")


def test_the_list_and_who_sees_what(client: Any, run: Any, shop: OrderWorld) -> None:
    october(client, run, shop)
    supplier = str(shop.world.supplier_ids[0])
    by_currency(compute(client, shop, OCTOBER))
    listed = client.get("/api/v1/statements", params={"period": OCTOBER}, headers=shop.as_("finance")).json()
    assert sorted(item["currency"] for item in listed["items"]) == ["CNY", "USD"]
    assert listed["next"] is None
    cny = next(item for item in listed["items"] if item["currency"] == "CNY")
    # A draft is finance's own: the supplier sees neither list entry nor statement.
    assert client.get("/api/v1/statements", headers=shop.as_("supplier_admin")).json()["items"] == []
    assert client.get(f"/api/v1/statements/{cny['id']}", headers=shop.as_("supplier_admin")).status_code == 404
    early = client.post(f"/api/v1/statements/{cny['id']}/send", headers=shop.as_("finance"))
    assert (early.status_code, early.json()["error"]["code"]) == (409, "period_still_open")
    client.post("/api/v1/statements/close", json={"supplier_id": supplier, "period": OCTOBER}, headers=shop.as_("finance"))
    sent = client.post(f"/api/v1/statements/{cny['id']}/send", headers=shop.as_("finance"))
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "sent"
    seen = client.get(f"/api/v1/statements/{cny['id']}", headers=shop.as_("supplier_admin"))
    assert seen.status_code == 200
    assert seen.json()["total"] == "619.08"
    assert [item["id"] for item in client.get("/api/v1/statements", headers=shop.as_("supplier_admin")).json()["items"]] == [cny["id"]]
    assert client.get(f"/api/v1/statements/{cny['id']}", headers=shop.as_("other_supplier_admin")).status_code == 404
    assert client.get(f"/api/v1/statements/{cny['id']}", headers=shop.as_("supplier_operator")).status_code == 403
    again = client.post(f"/api/v1/statements/{cny['id']}/send", headers=shop.as_("finance"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "transition_not_allowed")
