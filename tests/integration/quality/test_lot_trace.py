"""Lot traceability: a material lot leads to the deliveries made on the
order it was sent for and to the NCRs naming it; a delivered lot leads
back to the material lots behind it; a supplier traces its own records only."""

from __future__ import annotations

from typing import Any

from tests.integration.deliveries.conftest import create, receive, sent_dispatch
from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.conftest import accepted_order


def test_a_material_lot_traces_forward_and_a_delivered_lot_back(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    dispatch = sent_dispatch(client, shop, ["HEAT-7781"], order["id"], quantity="50")
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
    dispatch = sent_dispatch(client, shop, ["HEAT-PAGE"], order["id"], quantity="50")
    token = shop.as_("supplier_operator")["authorization"].removeprefix("Bearer ")
    headers = {**page_headers(client, token), "accept-language": "en"}
    client.cookies.clear()
    empty = client.get("/lots", headers=headers)
    assert empty.status_code == 200
    assert 'id="lot-material"' not in empty.text
    client.cookies.clear()
    found = client.get("/lots", params={"lot": "HEAT-PAGE"}, headers=headers).text
    assert f'href="/materials/dispatches/{dispatch["id"]}"' in found
