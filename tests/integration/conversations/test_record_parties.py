"""Threads on NCRs and handovers follow the record: an NCR's supplier talks
once the NCR is issued; a handover's outgoing and incoming suppliers each
talk with the buyer in a thread of their own, never reading the other's,
and a supplier outside the handover reads neither."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.integration.handover.conftest import HandoverWorld, create, started
from tests.integration.handover.conftest import ho as ho
from tests.integration.orders.conftest import OrderWorld
from tests.support.factories import page_headers


def _threads(client: Any, headers: dict[str, str], record_type: str, record_id: str) -> Any:
    return client.get("/api/v1/threads", params={"record_type": record_type, "record_id": record_id}, headers=headers)


def _items(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _send(client: Any, headers: dict[str, str], thread_id: str, body: str, **extra: Any) -> Any:
    payload = {"body": body, "client_id": str(uuid4()), **extra}
    return client.post(f"/api/v1/threads/{thread_id}/messages", json=payload, headers={**headers, "accept-language": "en"})


def _page(client: Any, headers: dict[str, str]) -> dict[str, str]:
    return {**page_headers(client, headers["authorization"].removeprefix("Bearer ")), "accept-language": "en"}


def _bodies(client: Any, headers: dict[str, str], thread_id: str) -> list[str]:
    response = client.get(f"/api/v1/threads/{thread_id}/messages", headers=headers)
    assert response.status_code == 200, response.text
    return [item["body"] for item in response.json()["items"]]


def test_an_ncrs_supplier_talks_once_it_is_issued(client: Any, shop: OrderWorld) -> None:
    supplier_id = str(shop.world.supplier_ids[0])
    body = {"title": "Burrs", "description": "Bore has burrs", "supplier_id": supplier_id}
    ncr = client.post("/api/v1/ncrs", json=body, headers=shop.as_("qa")).json()
    buyer = {thread["side"]: thread for thread in _items(_threads(client, shop.as_("qa"), "ncr", ncr["id"]))}
    assert set(buyer) == {"shared", "internal"}
    assert buyer["shared"]["supplier_id"] == supplier_id
    assert _send(client, shop.as_("qa"), buyer["internal"]["id"], "Third time this quarter").status_code == 201
    assert _send(client, shop.as_("qa"), buyer["shared"]["id"], "Please sort the stock").status_code == 201

    # A draft NCR is QA's own: its supplier reads no thread of it yet.
    assert _threads(client, shop.as_("supplier_operator"), "ncr", ncr["id"]).status_code == 404
    assert client.get(f"/api/v1/threads/{buyer['shared']['id']}/messages", headers=shop.as_("supplier_operator")).status_code == 404
    assert _send(client, shop.as_("supplier_operator"), buyer["shared"]["id"], "early").status_code == 404

    assert client.post(f"/api/v1/ncrs/{ncr['id']}/issue", json={}, headers=shop.as_("qa")).status_code == 200
    [shared] = _items(_threads(client, shop.as_("supplier_operator"), "ncr", ncr["id"]))
    assert shared["id"] == buyer["shared"]["id"]
    assert _bodies(client, shop.as_("supplier_operator"), shared["id"]) == ["Please sort the stock"]
    assert _send(client, shop.as_("supplier_operator"), shared["id"], "Sorted, 3 found").status_code == 201
    assert _bodies(client, shop.as_("qa"), shared["id"]) == ["Please sort the stock", "Sorted, 3 found"]
    assert client.get(f"/api/v1/threads/{buyer['internal']['id']}/messages", headers=shop.as_("supplier_operator")).status_code == 404
    # Another supplier of the buyer sees neither the NCR nor its threads.
    assert _threads(client, shop.as_("other_supplier_admin"), "ncr", ncr["id"]).status_code == 404
    assert client.get(f"/api/v1/threads/{shared['id']}/messages", headers=shop.as_("other_supplier_admin")).status_code == 404
    page = client.get(f"/ncrs/{ncr['id']}", headers=_page(client, shop.as_("supplier_operator")))
    assert 'id="conversation"' in page.text
    assert "record_type=ncr" in page.text


def test_a_handovers_two_suppliers_each_talk_with_the_buyer_alone(client: Any, ho: HandoverWorld) -> None:
    draft = create(client, ho).json()
    for who in ("supplier_admin", "other_supplier_admin"):
        assert _threads(client, ho.as_(who), "handover", draft["id"]).status_code == 404, "a draft is the buyer's own"
    handover = started(client, ho)

    buyer = _items(_threads(client, ho.as_("planner"), "handover", handover["id"]))
    shared = {thread["supplier_id"]: thread for thread in buyer if thread["side"] == "shared"}
    assert set(shared) == {ho.a, ho.b}
    assert [thread["side"] for thread in buyer].count("internal") == 1
    outgoing, incoming = shared[ho.a], shared[ho.b]
    assert outgoing["supplier_name"]
    assert incoming["supplier_name"]
    assert outgoing["supplier_name"] != incoming["supplier_name"]

    [mine] = _items(_threads(client, ho.as_("supplier_admin"), "handover", handover["id"]))
    assert mine["id"] == outgoing["id"]
    [theirs] = _items(_threads(client, ho.as_("other_supplier_admin"), "handover", handover["id"]))
    assert theirs["id"] == incoming["id"]

    assert _send(client, ho.as_("supplier_admin"), outgoing["id"], "Fixture F-7 stays with us").status_code == 201
    assert _send(client, ho.as_("other_supplier_admin"), incoming["id"], "We need fixture F-7").status_code == 201
    assert _bodies(client, ho.as_("planner"), outgoing["id"]) == ["Fixture F-7 stays with us"]
    assert _bodies(client, ho.as_("planner"), incoming["id"]) == ["We need fixture F-7"]
    # Neither supplier reads nor writes the other's side, nor the buyer's internal one.
    internal = next(thread for thread in buyer if thread["side"] == "internal")
    for who, foreign in (("supplier_admin", incoming), ("other_supplier_admin", outgoing), ("supplier_admin", internal)):
        assert client.get(f"/api/v1/threads/{foreign['id']}/messages", headers=ho.as_(who)).status_code == 404
        assert _send(client, ho.as_(who), foreign["id"], "let me in").status_code == 404
    # Nor may one mention the other's people: they cannot see the thread.
    other = ho.world.accounts["other_supplier_admin"]
    refused = _send(client, ho.as_("supplier_admin"), outgoing["id"], "@B", mentions=[str(other.user_id)])
    assert refused.status_code == 400
    assert _bodies(client, ho.as_("planner"), outgoing["id"]) == ["Fixture F-7 stays with us"]
    # A supplier outside the handover reads nothing of it.
    assert _threads(client, ho.as_("third"), "handover", handover["id"]).status_code == 404
    assert client.get(f"/api/v1/threads/{outgoing['id']}/messages", headers=ho.as_("third")).status_code == 404

    # The pages say the same: each supplier's block shows its own talk.
    block = client.get(
        "/conversations", params={"record_type": "handover", "record_id": handover["id"]}, headers=_page(client, ho.as_("supplier_admin"))
    )
    assert "Fixture F-7 stays with us" in block.text
    assert "We need fixture F-7" not in block.text
    block = client.get(
        "/conversations", params={"record_type": "handover", "record_id": handover["id"]}, headers=_page(client, ho.as_("planner"))
    )
    assert "Fixture F-7 stays with us" in block.text
    assert "We need fixture F-7" in block.text
    assert outgoing["supplier_name"] in block.text
    assert incoming["supplier_name"] in block.text
    page = client.get(f"/handovers/{handover['id']}", headers=_page(client, ho.as_("other_supplier_admin")))
    assert "record_type=handover" in page.text
