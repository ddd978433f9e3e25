"""Lot traceability: a material lot leads to the deliveries made on the
order it was sent for and to the NCRs naming it; a delivered lot leads
back to the material lots behind it; a supplier traces its own records only."""

from __future__ import annotations

from typing import Any

from tests.integration.deliveries.conftest import create, receive
from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.conftest import accepted_order


def _dispatch(client: Any, shop: OrderWorld, order_id: str, lot: str) -> dict[str, Any]:
    body = {
        "supplier_id": str(shop.world.supplier_ids[0]),
        "order_id": order_id,
        "lines": [{"item_id": shop.material_id, "quantity": "50", "lot": lot}],
    }
    made = client.post("/api/v1/dispatches", json=body, headers=shop.as_("planner"))
    assert made.status_code == 201, made.text
    sent = client.post(f"/api/v1/dispatches/{made.json()['id']}/send", headers=shop.as_("planner"))
    assert sent.status_code == 200, sent.text
    return dict(sent.json())


def test_a_material_lot_traces_forward_and_a_delivered_lot_back(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    dispatch = _dispatch(client, shop, order["id"], "HEAT-7781")
    delivery = create(client, shop, order, "10", lot="FG-0042").json()
    assert receive(client, shop, delivery, ("8", "2", "cracks"), who="qa").status_code == 200
    ncr = client.post(
        "/api/v1/ncrs",
        json={
            "title": "Cracks",
            "description": "Cracks from heat 7781",
            "supplier_id": str(shop.world.supplier_ids[0]),
            "lots": ["HEAT-7781"],
        },
        headers=shop.as_("qa"),
    ).json()

    forward = client.get("/api/v1/lot-trace", params={"lot": "HEAT-7781"}, headers=shop.as_("qa")).json()
    assert [row["dispatch_id"] for row in forward["material"]] == [dispatch["id"]]
    assert [row["delivery_id"] for row in forward["consumed_by"]] == [delivery["id"]]
    assert [row["id"] for row in forward["ncrs"]] == [ncr["id"]]
    back = client.get("/api/v1/lot-trace", params={"lot": " FG-0042 "}, headers=shop.as_("qa")).json()
    assert back["lot"] == "FG-0042"
    assert [row["delivery_id"] for row in back["delivered"]] == [delivery["id"]]
    assert [(row["dispatch_id"], row["lot"]) for row in back["made_from"]] == [(dispatch["id"], "HEAT-7781")]

    # The other supplier traces nothing of it; the draft NCR stays QA's.
    other = client.get("/api/v1/lot-trace", params={"lot": "HEAT-7781"}, headers=shop.as_("other_supplier_admin")).json()
    assert (other["material"], other["consumed_by"], other["ncrs"]) == ([], [], [])
    own = client.get("/api/v1/lot-trace", params={"lot": "HEAT-7781"}, headers=shop.as_("supplier_operator")).json()
    assert len(own["material"]) == 1
    assert own["ncrs"] == []
    assert client.get("/api/v1/lot-trace", params={"lot": "  "}, headers=shop.as_("qa")).json()["error"]["fields"].keys() == {"lot"}


def test_the_trace_page_searches_a_lot(client: Any, shop: OrderWorld) -> None:
    from tests.support.factories import page_headers

    order = accepted_order(client, shop)
    dispatch = _dispatch(client, shop, order["id"], "HEAT-PAGE")
    token = shop.as_("supplier_operator")["authorization"].removeprefix("Bearer ")
    headers = {**page_headers(client, token), "accept-language": "en"}
    client.cookies.clear()
    empty = client.get("/lots", headers=headers)
    assert empty.status_code == 200
    assert 'id="lot-material"' not in empty.text
    client.cookies.clear()
    found = client.get("/lots", params={"lot": "HEAT-PAGE"}, headers=headers).text
    assert f'href="/materials/dispatches/{dispatch["id"]}"' in found
