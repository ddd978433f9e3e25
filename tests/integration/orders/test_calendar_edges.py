"""Dates and numbers at the edges of what Python holds, sent to the order
routes or already in the database: a refusal naming the field in the
reader's language, and no page or job that fails for a whole tenant
because of one stored row (an order due 9999-12-31 took the buyer's home
page down with an OverflowError)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from portal.days import latest_due
from tests.integration.orders.conftest import OrderWorld, draft, due, fire
from tests.integration.orders.test_import_export import csv_bytes, import_file, xlsx_bytes
from tests.support.factories import api_token, page_headers

ZH = {"accept-language": "zh-CN"}


def _line(shop: OrderWorld, **values: str) -> dict[str, str]:
    return {"item_id": shop.part_id, "quantity": "10", "unit_price": "2.50", "due_date": due(14), **values}


def _create(client: Any, shop: OrderWorld, line: dict[str, str]) -> Any:
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "lines": [line]}
    return client.post("/api/v1/orders", json=body, headers={**shop.as_("planner"), **ZH})


def test_a_due_date_beyond_ten_years_is_refused_when_created_changed_or_imported(client: Any, shop: OrderWorld) -> None:
    # Two days on: the tenant's day (Asia/Shanghai) may be a day ahead of this machine's.
    beyond = (latest_due(date.today()) + timedelta(days=2)).isoformat()
    for far in (beyond, "9999-12-31"):
        refused = _create(client, shop, _line(shop, due_date=far))
        assert refused.status_code == 400, refused.text
        assert "10 年" in refused.json()["error"]["fields"]["lines.0.due_date"]
    assert _create(client, shop, _line(shop, due_date=latest_due(date.today()).isoformat())).status_code == 201

    order = draft(client, shop)
    body = {"version": order["version"], "lines": [_line(shop, id=order["lines"][0]["id"], due_date="9999-12-31")]}
    changed = client.patch(f"/api/v1/orders/{order['id']}", json=body, headers=shop.as_("planner"))
    assert changed.status_code == 400, changed.text
    assert "10 年" in changed.json()["error"]["fields"]["lines.0.due_date"]

    rows = [["", "S1", "P-100", "", "5", "1", "9999-12-31", ""], ["", "S1", "P-100", "", "5", "1", due(10), ""]]
    imported = import_file(client, shop, csv_bytes(rows), dry_run=True).json()
    assert [(error["row"], error["column"]) for error in imported["errors"]] == [(2, "due_date")]
    assert "10 年" in imported["errors"][0]["message"]


async def _due_far_away(order_id: UUID, zone: str) -> None:
    """An order saved before the horizon existed, in a tenant west of UTC
    (where the evening of 9999-12-31 is past the calendar's end)."""
    from portal.orders.tables import Order, OrderLine
    from tenants.context import system_scope
    from tenants.tables import Tenant

    async with system_scope("calendar-edges-test"):
        order = await Order.objects().where(Order.id == order_id).first()
        assert order is not None
        await Tenant.update({Tenant.time_zone: zone}).where(Tenant.id == order.tenant)
        await OrderLine.update({OrderLine.due_date: date(9999, 12, 31)}).where(OrderLine.order == order_id)
        await Order.update({Order.due_date: date(9999, 12, 31)}).where(Order.id == order_id)


def test_an_order_already_due_9999_12_31_breaks_no_home_board_or_reminder(client: Any, run: Any, shop: OrderWorld) -> None:
    from portal.sla.services import check

    order = draft(client, shop)
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    assert fire(client, shop, order["id"], "supplier_admin", "accept").status_code == 200
    run(_due_far_away, UUID(order["id"]), "America/Los_Angeles")
    for who in ("planner", "admin", "qa", "supplier_admin"):
        home = client.get("/", headers=page_headers(client, api_token(client, shop.world.accounts[who], shop.world.slug)))
        assert home.status_code == 200, f"{who}: {home.status_code} {home.text[:300]}"
    board = client.get("/api/v1/orders", headers=shop.as_("planner"))
    assert board.status_code == 200
    assert order["number"] in {item["number"] for item in board.json()["items"]}
    counts = run(check, datetime.now().astimezone())
    assert isinstance(counts, dict)


def test_not_a_number_in_an_order_change_is_refused_naming_the_line_and_the_page_keeps_the_note(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop, quantity="100", price="20")
    line_id = order["lines"][0]["id"]
    for value in ("NaN", "sNaN", "-Infinity"):
        body = {"version": order["version"], "lines": [_line(shop, id=line_id, quantity=value)]}
        refused = client.patch(f"/api/v1/orders/{order['id']}", json=body, headers={**shop.as_("planner"), **ZH})
        assert refused.status_code == 400, f"{value}: {refused.status_code} {refused.text[:300]}"
        assert list(refused.json()["error"]["fields"]) == ["lines.0.quantity"]

    headers = page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))
    form = client.get(f"/orders/{order['id']}/edit", headers=headers)
    assert form.status_code == 200
    # Shown as typed, not as Decimal's exponent form (1E+2, 2E+1).
    assert 'value="100"' in form.text
    assert 'value="20"' in form.text
    assert "E+" not in form.text
    posted = {
        "_csrf_token": headers["x-csrftoken"],
        "version": str(order["version"]),
        "notes_shared": "keep this note",
        "lines-0-id": line_id,
        "lines-0-item_id": shop.part_id,
        "lines-0-quantity": "NaN",
        "lines-0-unit_price": "20",
        "lines-0-due_date": due(14),
    }
    page = client.post(f"/orders/{order['id']}/edit", data=posted, headers=headers, follow_redirects=False)
    assert page.status_code == 400, page.text[:300]
    assert "keep this note" in page.text


def test_numbers_too_large_for_a_cell_are_named_for_what_they_are(client: Any, shop: OrderWorld) -> None:
    rows: list[list[Any]] = [["", "S1", "P-100", "", 1e308, 1, due(10), ""], ["", "S1", "P-100", "", 5, "1e999", due(10), ""]]
    body = import_file(client, shop, xlsx_bytes(rows), "plan.xlsx", dry_run=True).json()
    messages = {(error["row"], error["column"]): error["message"] for error in body["errors"]}
    assert set(messages) == {(2, "quantity"), (3, "unit_price")}
    # The tenant speaks Chinese: "too large or too precise", "the price is too large".
    assert messages[(2, "quantity")].startswith("数量过大")
    assert messages[(3, "unit_price")] == "价格过大。"
