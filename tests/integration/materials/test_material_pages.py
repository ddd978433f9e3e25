"""Materials pages through HTML, as the planner and the supplier use them."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.materials.conftest import accept_output, dispatch, page, receipt, sent_dispatch
from tests.integration.orders.conftest import OrderWorld


def _dispatch_form(headers: dict[str, str], shop: OrderWorld, **fields: Any) -> dict[str, Any]:
    return {"_csrf_token": headers["x-csrftoken"], "supplier_id": str(shop.world.supplier_ids[0]), "order_id": "", "note": "", **fields}


def test_planner_drafts_and_sends_a_dispatch_through_the_form(client: Any, shop: OrderWorld) -> None:
    headers = page(client, shop, "planner")
    form_page = client.get("/materials/dispatches/new", headers=headers)
    assert form_page.status_code == 200
    assert "M-STEEL" in form_page.text
    assert 'inputmode="decimal"' in form_page.text
    row = client.get("/materials/dispatches/new/line", headers={**headers, "hx-request": "true"})
    assert row.status_code == 200
    assert 'name="quantity"' in row.text
    assert "<html" not in row.text
    typed = _dispatch_form(headers, shop, note="Handle with care", item_id=[shop.material_id, ""], lot=["HEAT-42", ""], quantity=["-5", ""])
    refused = client.post("/materials/dispatches", data=typed, headers=headers, follow_redirects=False)
    assert refused.status_code == 400
    for kept in ("HEAT-42", 'value="-5"', "Handle with care"):
        assert kept in refused.text
    more = client.post("/materials/dispatches", data={**typed, "add_line": "1"}, headers=headers, follow_redirects=False)
    assert more.status_code == 200
    assert more.text.count('name="quantity"') == 2
    created = client.post("/materials/dispatches", data={**typed, "quantity": ["120.5", ""]}, headers=headers, follow_redirects=False)
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    assert re.fullmatch(r"/materials/dispatches/[0-9a-f-]{36}", location)
    detail = client.get(location, headers=headers)
    assert "HEAT-42" in detail.text
    assert f"{location}/send" in detail.text
    sent = client.post(f"{location}/send", data={"_csrf_token": headers["x-csrftoken"]}, headers=headers, follow_redirects=False)
    assert sent.status_code == 303
    listed = client.get("/materials/dispatches", headers=page(client, shop, "supplier_admin"))
    assert location in listed.text


def test_supplier_confirms_a_receipt_with_a_discrepancy_on_the_page(client: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("100", "A"), ("40", "B"))
    hidden = dispatch(client, shop, ("7", "DRAFT-LOT")).json()
    headers = page(client, shop, "supplier_operator")
    listed = client.get("/materials/dispatches", headers=headers)
    assert sent["number"] in listed.text
    assert hidden["number"] not in listed.text
    detail = client.get(f"/materials/dispatches/{sent['id']}", headers=headers)
    assert detail.status_code == 200
    first, second = sent["lines"][0]["id"], sent["lines"][1]["id"]
    assert f'name="received-{first}"' in detail.text
    assert 'inputmode="decimal"' in detail.text
    form = {"_csrf_token": headers["x-csrftoken"], f"received-{first}": "100", f"reason-{first}": "", f"received-{second}": "36,5"}
    url = f"/materials/dispatches/{sent['id']}/receipt"
    refused = client.post(url, data={**form, f"reason-{second}": ""}, headers=headers, follow_redirects=False)
    assert refused.status_code == 400
    assert 'value="36,5"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    confirmed = client.post(url, data={**form, f"reason-{second}": "Wet packaging, 3.5 kg rusted"}, headers=headers, follow_redirects=False)
    assert confirmed.status_code == 303, confirmed.text
    after = client.get(f"/materials/dispatches/{sent['id']}", headers=headers)
    assert "Wet packaging, 3.5 kg rusted" in after.text
    assert "flagged" in after.text
    assert f'name="received-{first}"' not in after.text
    again = client.post(url, data={**form, f"reason-{second}": "again"}, headers=headers, follow_redirects=False)
    assert again.status_code == 409


def test_returns_scrap_and_balances_pages(client: Any, run: Any, shop: OrderWorld) -> None:
    sent = sent_dispatch(client, shop, ("50", "A"))
    receipt(client, shop, sent, ("50", ""))
    accept_output(client, run, shop, "40")
    supplier = page(client, shop, "supplier_admin")
    reports = client.get("/materials/reports", headers=supplier)
    assert reports.status_code == 200
    assert "M-STEEL" in reports.text
    form = {"_csrf_token": supplier["x-csrftoken"], "kind": "scrap", "item_id": shop.material_id, "lot": "A", "quantity": "3"}
    refused = client.post("/materials/reports", data={**form, "reason": ""}, headers=supplier, follow_redirects=False)
    assert refused.status_code == 400
    assert 'value="3"' in refused.text
    reported = client.post("/materials/reports", data={**form, "reason": "Chipped ends"}, headers=supplier, follow_redirects=False)
    assert reported.status_code == 303
    assert "Chipped ends" in client.get("/materials/reports", headers=page(client, shop, "planner")).text
    balances = client.get("/materials/balances", headers=page(client, shop, "planner"))
    assert balances.status_code == 200
    assert 'class="balance flagged"' in balances.text
    assert str(shop.world.supplier_ids[1]) in balances.text  # the buyer filters by supplier
    own = client.get("/materials/balances", headers=supplier)
    assert 'class="balance flagged"' in own.text
    assert str(shop.world.supplier_ids[1]) not in own.text
    assert client.get("/materials/balances", headers=page(client, shop, "other_supplier_admin")).text.count('class="balance') == 0


def test_only_dispatching_roles_open_the_new_dispatch_form(client: Any, shop: OrderWorld) -> None:
    for who in ("supplier_admin", "qa"):
        headers = page(client, shop, who)
        assert client.get("/materials/dispatches/new", headers=headers).status_code == 403
        assert client.get("/materials/dispatches", headers=headers).status_code == 200
    assert "/materials/dispatches/new" not in client.get("/materials/dispatches", headers=page(client, shop, "qa")).text
