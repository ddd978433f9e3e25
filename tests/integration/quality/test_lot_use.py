"""The supplier records which material lots a delivery used: among the lots
sent to it only, replacing what it said before, audited; the lot trace then
goes from a material lot to those deliveries and back through the records,
and through the order only for deliveries with none."""

from __future__ import annotations

from typing import Any

from tests.integration.deliveries.conftest import create, receive, sent_dispatch
from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.conftest import accepted_order
from tests.integration.quality.test_ncrs import _page


def _record(client: Any, shop: OrderWorld, delivery: dict[str, Any], *dispatches: dict[str, Any], who: str = "supplier_operator") -> Any:
    lots = [{"dispatch_line_id": dispatch["lines"][0]["id"]} for dispatch in dispatches]
    return client.put(f"/api/v1/deliveries/{delivery['id']}/material-lots", json={"lots": lots}, headers=shop.as_(who))


def _trace(client: Any, shop: OrderWorld, lot: str, who: str = "qa") -> dict[str, Any]:
    return dict(client.get("/api/v1/lot-trace", params={"lot": lot}, headers=shop.as_(who)).json())


def test_recorded_lots_lead_from_material_to_the_delivery_and_back(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    for_order = sent_dispatch(client, shop, ["HEAT-ORDER"], order["id"], quantity="50")
    loose = sent_dispatch(client, shop, ["HEAT-STOCK"], quantity="20")
    delivery = create(client, shop, order, "10", lot="FG-7").json()

    # Nothing recorded: the trace goes through the order.
    assert [(row["dispatch_id"], row["via"]) for row in _trace(client, shop, "FG-7")["made_from"]] == [(for_order["id"], "order")]
    assert _trace(client, shop, "HEAT-STOCK")["consumed_by"] == []

    choices = client.get(f"/api/v1/deliveries/{delivery['id']}/material-lots/choices", headers=shop.as_("supplier_operator")).json()
    assert [choice["lot"] for choice in choices] == ["HEAT-ORDER", "HEAT-STOCK"]  # the order's own first
    recorded = _record(client, shop, delivery, loose, loose)
    assert recorded.status_code == 200, recorded.text
    assert [lot["lot"] for lot in recorded.json()["lots"]] == ["HEAT-STOCK"]

    forward = _trace(client, shop, "HEAT-STOCK")
    assert [(row["delivery_id"], row["lot"], row["via"]) for row in forward["consumed_by"]] == [(delivery["id"], "FG-7", "record")]
    back = _trace(client, shop, "FG-7")
    assert [(row["dispatch_id"], row["lot"], row["via"]) for row in back["made_from"]] == [(loose["id"], "HEAT-STOCK", "record")]
    # The order's own material is no longer taken as used by this delivery.
    assert _trace(client, shop, "HEAT-ORDER")["consumed_by"] == []
    # The buyer and the supplier read the same records; the other supplier nothing.
    assert client.get(f"/api/v1/deliveries/{delivery['id']}/material-lots", headers=shop.as_("qa")).json()["lots"][0]["lot"] == "HEAT-STOCK"
    assert _trace(client, shop, "HEAT-STOCK", "supplier_admin")["consumed_by"] != []
    assert _trace(client, shop, "HEAT-STOCK", "other_supplier_admin")["consumed_by"] == []

    # Said again: the new list replaces the old one, both in the audit trail.
    assert _record(client, shop, delivery, for_order, loose).status_code == 200
    back = _trace(client, shop, "FG-7")
    assert sorted(row["lot"] for row in back["made_from"]) == ["HEAT-ORDER", "HEAT-STOCK"]
    events = client.get(
        "/api/v1/audit-events", params={"entity_type": "delivery", "entity_id": delivery["id"]}, headers=shop.as_("admin")
    ).json()["items"]
    said = [event for event in events if event["action"] == "delivery.material_lots"]
    assert len(said) == 2
    assert {tuple(event["after"]["lots"]) for event in said} == {("M-STEEL HEAT-STOCK",), ("M-STEEL HEAT-ORDER", "M-STEEL HEAT-STOCK")}


def test_only_lots_sent_to_the_supplier_and_only_by_it(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    mine = sent_dispatch(client, shop, ["HEAT-MINE"], quantity="20")
    theirs = sent_dispatch(client, shop, ["HEAT-THEIRS"], quantity="20", supplier=1)
    delivery = create(client, shop, order, "10", lot="FG-8").json()
    assert _record(client, shop, delivery, mine).status_code == 200

    for language, words in (("en", "sent to you"), ("zh-CN", "发给")):
        refused = client.put(
            f"/api/v1/deliveries/{delivery['id']}/material-lots",
            json={"lots": [{"dispatch_line_id": theirs["lines"][0]["id"]}]},
            headers={**shop.as_("supplier_operator"), "accept-language": language},
        )
        assert refused.status_code == 400
        assert words in refused.json()["error"]["fields"]["lots"]
    assert _record(client, shop, delivery, mine, who="qa").status_code == 403
    assert _record(client, shop, delivery, theirs, who="other_supplier_admin").status_code == 404
    # Nothing changed by any of it.
    kept = client.get(f"/api/v1/deliveries/{delivery['id']}/material-lots", headers=shop.as_("qa")).json()
    assert [lot["lot"] for lot in kept["lots"]] == ["HEAT-MINE"]

    cancelled = create(client, shop, order, "1", lot="FG-9").json()
    reason = {"reason": "wrong parts"}
    assert client.post(f"/api/v1/deliveries/{cancelled['id']}/cancel", json=reason, headers=shop.as_("supplier_admin")).status_code == 200
    refused = _record(client, shop, cancelled, mine)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "delivery_cancelled")


def test_the_supplier_ticks_the_lots_on_the_delivery_page(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    mine = sent_dispatch(client, shop, ["HEAT-PHONE"], quantity="20")
    delivery = create(client, shop, order, "10", lot="FG-10").json()
    assert receive(client, shop, delivery, ("10", "0", ""), who="qa").status_code == 200
    headers = _page(client, shop, "supplier_operator", "zh-CN")
    page = client.get(f"/deliveries/{delivery['id']}", headers=headers).text
    assert f'hx-get="/deliveries/{delivery["id"]}/material-lots"' in page
    block = client.get(f"/deliveries/{delivery['id']}/material-lots", headers={**headers, "hx-request": "true"})
    assert block.status_code == 200
    assert "<html" not in block.text
    assert f'value="{mine["lines"][0]["id"]}"' in block.text
    saved = client.post(
        f"/deliveries/{delivery['id']}/material-lots",
        data={"_csrf_token": headers["x-csrftoken"], "dispatch_line_id": mine["lines"][0]["id"]},
        headers=headers,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    kept = client.get(f"/api/v1/deliveries/{delivery['id']}/material-lots", headers=shop.as_("qa")).json()
    assert [lot["lot"] for lot in kept["lots"]] == ["HEAT-PHONE"]
    wrong = client.post(
        f"/deliveries/{delivery['id']}/material-lots",
        data={"_csrf_token": headers["x-csrftoken"], "dispatch_line_id": "0b1c2d3e-0000-4000-8000-000000000000"},
        headers=headers,
    )
    assert wrong.status_code == 400
    assert "发给" in wrong.text
    # The buyer sees what was recorded, without the form.
    qa_block = client.get(f"/deliveries/{delivery['id']}/material-lots", headers={**_page(client, shop, "qa"), "hx-request": "true"}).text
    assert "HEAT-PHONE" in qa_block
    assert 'action="/deliveries/' not in qa_block
