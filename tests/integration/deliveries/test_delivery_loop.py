"""The delivery loop through the API, as the supplier and the buyer do it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.integration.deliveries.conftest import accepted_order, create, line_of, open_of, order_of, receive
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.support.factories import api_token, bearer, make_world


def test_partial_delivery_with_a_reject_leaves_the_rest_open_then_the_rest_completes_the_order(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    shipped = create(client, shop, order, "60", lot="A-17")
    assert shipped.status_code == 201, shipped.text
    notice = shipped.json()
    assert notice["status"] == "shipped"
    assert notice["number"].startswith("DN-")
    assert notice["lines"][0]["lot"] == "A-17"
    assert notice["lines"][0]["accepted_quantity"] is None

    to_receive = client.get("/api/v1/deliveries", params={"status": "shipped"}, headers=shop.as_("planner")).json()
    assert [item["id"] for item in to_receive["items"]] == [notice["id"]]
    assert to_receive["next"] is None

    received = receive(client, shop, notice, ("55", "5", "Scratches on the flange face"))
    assert received.status_code == 200, received.text
    line = received.json()["lines"][0]
    assert (Decimal(line["accepted_quantity"]), Decimal(line["rejected_quantity"])) == (Decimal(55), Decimal(5))
    assert line["reject_reason"] == "Scratches on the flange face"
    assert received.json()["received_by"] == str(shop.world.accounts["planner"].user_id)

    after = order_of(client, shop, order)
    assert after["status"] == "partially_delivered"
    assert Decimal(after["lines"][0]["delivered_quantity"]) == 55
    # The 5 rejected stay open for the supplier to replace.
    assert Decimal(after["lines"][0]["open_quantity"]) == 45

    rest = create(client, shop, order, "40", "5", lot="A-18")
    assert rest.status_code == 201, rest.text
    assert receive(client, shop, rest.json(), ("40", "0", ""), ("5", "0", "")).status_code == 200
    done = order_of(client, shop, order)
    assert done["status"] == "delivered"
    assert Decimal(done["lines"][0]["open_quantity"]) == 0

    seen = client.get(f"/api/v1/deliveries/{notice['id']}", headers=shop.as_("supplier_admin")).json()
    assert seen["status"] == "received"
    assert seen["lines"][0]["reject_reason"] == "Scratches on the flange face"


def test_over_delivery_beyond_the_tolerance_is_refused_naming_the_line(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")  # the tenant allows 5 % over
    over = create(client, shop, order, "106")
    assert over.status_code == 400
    error = over.json()["error"]
    assert error["code"] == "over_delivery"
    assert set(error["fields"]) == {"lines.0.quantity"}
    assert "105" in error["fields"]["lines.0.quantity"]

    # Two lots on the same order line count together.
    split = create(client, shop, order, "60", "46")
    assert split.status_code == 400
    assert set(split.json()["error"]["fields"]) == {"lines.0.quantity", "lines.1.quantity"}

    within = create(client, shop, order, "105")
    assert within.status_code == 201, within.text
    # What is in transit counts against the next notice.
    more = create(client, shop, order, "1")
    assert more.status_code == 400
    assert more.json()["error"]["code"] == "over_delivery"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["status"] == "accepted"

    # A surplus within the tolerance ships but cannot be accepted: the order
    # line never counts more than was ordered.
    notice = within.json()
    too_much = receive(client, shop, notice, ("105", "0", ""))
    assert too_much.status_code == 400
    assert set(too_much.json()["error"]["fields"]) == {"lines.0.accepted_quantity"}
    assert receive(client, shop, notice, ("100", "5", "Over-delivery, returned")).status_code == 200
    assert order_of(client, shop, order)["status"] == "delivered"


def test_a_draft_is_checked_again_when_it_ships(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    draft_notice = create(client, shop, order, "80", ship=False)
    assert draft_notice.status_code == 201, draft_notice.text
    assert draft_notice.json()["status"] == "draft"
    # Drafts are not in transit: this one still fits.
    assert create(client, shop, order, "30").status_code == 201
    late = client.post(f"/api/v1/deliveries/{draft_notice.json()['id']}/ship", headers=shop.as_("supplier_operator"))
    assert late.status_code == 400
    assert late.json()["error"]["code"] == "over_delivery"
    assert client.get(f"/api/v1/deliveries/{draft_notice.json()['id']}", headers=shop.as_("supplier_operator")).json()["status"] == "draft"


def test_a_draft_is_the_suppliers_own_until_it_ships(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    notice = create(client, shop, order, "10", ship=False).json()
    assert client.get(f"/api/v1/deliveries/{notice['id']}", headers=shop.as_("planner")).status_code == 404
    assert client.get("/api/v1/deliveries", headers=shop.as_("planner")).json()["items"] == []
    assert client.get("/api/v1/deliveries", headers=shop.as_("supplier_admin")).json()["items"][0]["id"] == notice["id"]
    shipped = client.post(f"/api/v1/deliveries/{notice['id']}/ship", headers=shop.as_("supplier_admin"))
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["shipped_at"] is not None
    assert client.get(f"/api/v1/deliveries/{notice['id']}", headers=shop.as_("planner")).status_code == 200


def test_another_supplier_sees_nothing_and_cannot_ship_against_the_order(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    notice = create(client, shop, order, "10").json()
    other = shop.as_("other_supplier_admin")
    assert client.get("/api/v1/deliveries", headers=other).json()["items"] == []
    assert client.get(f"/api/v1/deliveries/{notice['id']}", headers=other).status_code == 404
    assert client.post(f"/api/v1/deliveries/{notice['id']}/cancel", json={"reason": "mine"}, headers=other).status_code == 404
    stolen = create(client, shop, order, "1", who="other_supplier_admin")
    assert stolen.status_code == 400
    assert set(stolen.json()["error"]["fields"]) == {"order_id"}
    assert client.get(f"/deliveries/{notice['id']}", headers=_page(client, shop, "other_supplier_admin")).status_code == 404


def test_another_tenants_ids_are_as_unknown_as_missing_ones(client: Any, shop: OrderWorld, run: Any) -> None:
    order = accepted_order(client, shop)
    notice = create(client, shop, order, "10").json()
    foreign = run(make_world, "dlv")
    planner = bearer(api_token(client, foreign.accounts["planner"], foreign.slug))
    supplier = bearer(api_token(client, foreign.accounts["supplier_admin"], foreign.slug))
    for path in (f"/api/v1/deliveries/{notice['id']}", f"/api/v1/deliveries/{uuid4()}"):
        response = client.get(path, headers=planner)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    receipt = {"lines": [{"line_id": notice["lines"][0]["id"], "accepted_quantity": "10"}]}
    assert client.post(f"/api/v1/deliveries/{notice['id']}/receipt", json=receipt, headers=planner).status_code == 404
    assert client.get("/api/v1/deliveries", headers=planner).json()["items"] == []
    body = {"order_id": order["id"], "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": "1"}]}
    response = client.post("/api/v1/deliveries", json=body, headers=supplier)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"order_id"}
    assert Decimal(line_of(client, shop, order)["delivered_quantity"]) == 0


def test_bad_shipping_notices_are_refused_field_by_field(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    other_order = accepted_order(client, shop)
    line_id = order["lines"][0]["id"]
    body = {
        "order_id": order["id"],
        "lines": [
            {"order_line_id": line_id, "quantity": "0"},
            {"order_line_id": line_id, "quantity": "-3"},
            {"order_line_id": other_order["lines"][0]["id"], "quantity": "1"},
            {"order_line_id": str(uuid4()), "quantity": "1"},
            {"order_line_id": line_id, "quantity": "1.1234567"},
            {"order_line_id": line_id, "quantity": "1", "lot": "L" * 61},
        ],
    }
    response = client.post("/api/v1/deliveries", json=body, headers=shop.as_("supplier_operator"))
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {
        "lines.0.quantity",
        "lines.1.quantity",
        "lines.2.order_line_id",
        "lines.3.order_line_id",
        "lines.4.quantity",
        "lines.5.lot",
    }
    empty = client.post("/api/v1/deliveries", json={"order_id": order["id"], "lines": []}, headers=shop.as_("supplier_operator"))
    assert set(empty.json()["error"]["fields"]) == {"lines"}
    missing = client.post("/api/v1/deliveries", json={"lines": []}, headers=shop.as_("supplier_operator"))
    assert missing.status_code == 400
    assert "order_id" in missing.json()["error"]["fields"]
    assert client.get("/api/v1/deliveries", headers=shop.as_("supplier_operator")).json()["items"] == []


def test_an_order_that_is_not_accepted_takes_no_deliveries(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    fire(client, shop, order["id"], "planner", "issue")
    issued = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()
    response = create(client, shop, issued, "1")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_shippable"
    unissued = draft(client, shop)
    response = create(client, shop, unissued, "1")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"order_id"}


def test_bad_receipts_are_refused_field_by_field(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    notice = create(client, shop, order, "10", "5").json()
    first, second = notice["lines"]
    response = client.post(
        f"/api/v1/deliveries/{notice['id']}/receipt",
        json={
            "lines": [
                {"line_id": first["id"], "accepted_quantity": "8", "rejected_quantity": "1", "reject_reason": "Burrs"},
                {"line_id": second["id"], "accepted_quantity": "-1", "rejected_quantity": "6"},
            ]
        },
        headers=shop.as_("qa"),
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {
        "lines.0.accepted_quantity",
        "lines.0.rejected_quantity",
        "lines.1.accepted_quantity",
    }
    no_reason = receive(client, shop, notice, ("8", "2", " "), ("5", "0", ""), who="qa")
    assert set(no_reason.json()["error"]["fields"]) == {"lines.0.reject_reason"}
    partial = client.post(
        f"/api/v1/deliveries/{notice['id']}/receipt",
        json={"lines": [{"line_id": first["id"], "accepted_quantity": "10"}]},
        headers=shop.as_("qa"),
    )
    assert set(partial.json()["error"]["fields"]) == {"lines"}
    foreign_line = client.post(
        f"/api/v1/deliveries/{notice['id']}/receipt",
        json={"lines": [{"line_id": str(uuid4()), "accepted_quantity": "10"}]},
        headers=shop.as_("qa"),
    )
    assert set(foreign_line.json()["error"]["fields"]) == {"lines.0.line_id"}
    assert order_of(client, shop, order)["status"] == "accepted"
    assert receive(client, shop, notice, ("8", "2", "Burrs"), ("5", "0", ""), who="qa").status_code == 200


def test_receiving_twice_is_a_conflict_and_counts_once(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    notice = create(client, shop, order, "10").json()
    assert receive(client, shop, notice, ("10", "0", "")).status_code == 200
    again = receive(client, shop, notice, ("10", "0", ""))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_received"
    assert open_of(client, shop, order) == 90


def test_concurrent_receipts_of_one_notice_count_once(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    notice = create(client, shop, order, "10").json()
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda who: receive(client, shop, notice, ("10", "0", ""), who=who), ["planner", "qa", "admin", "planner"]))
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409], [answer.text for answer in answers]
    assert open_of(client, shop, order) == 90


def test_concurrent_receipts_of_two_notices_both_count(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    first, second = create(client, shop, order, "10").json(), create(client, shop, order, "20").json()
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda notice: receive(client, shop, notice, (notice["lines"][0]["quantity"], "0", "")), [first, second]))
    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
    assert open_of(client, shop, order) == 70
    assert order_of(client, shop, order)["status"] == "partially_delivered"


def test_cancel_needs_a_reason_and_frees_the_quantity_in_transit(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    notice = create(client, shop, order, "100").json()
    path = f"/api/v1/deliveries/{notice['id']}/cancel"
    blank = client.post(path, json={"reason": "  "}, headers=shop.as_("supplier_operator"))
    assert blank.status_code == 400
    assert set(blank.json()["error"]["fields"]) == {"reason"}
    assert client.post(path, json={"reason": "Wrong lot"}, headers=shop.as_("planner")).status_code == 403
    cancelled = client.post(path, json={"reason": "Wrong lot"}, headers=shop.as_("supplier_operator"))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["status_reason"] == "Wrong lot"
    assert client.post(path, json={"reason": "again"}, headers=shop.as_("supplier_operator")).status_code == 409
    assert receive(client, shop, notice, ("100", "0", "")).status_code == 409
    assert create(client, shop, order, "100").status_code == 201


def test_roles_the_policy_refuses_get_403(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    body = {"order_id": order["id"], "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": "1"}]}
    assert client.post("/api/v1/deliveries", json=body, headers=shop.as_("planner")).status_code == 403
    notice = create(client, shop, order, "1").json()
    assert receive(client, shop, notice, ("1", "0", ""), who="supplier_admin").status_code == 403
    assert receive(client, shop, notice, ("1", "0", ""), who="finance").status_code == 403
    assert client.get(f"/api/v1/deliveries/{notice['id']}", headers=shop.as_("finance")).status_code == 200


def test_list_filters_and_pages(client: Any, shop: OrderWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    first_order, second_order = accepted_order(client, shop), accepted_order(client, shop)
    notices = [create(client, shop, first_order, "1").json() for _ in range(3)] + [create(client, shop, second_order, "1").json()]
    planner = shop.as_("planner")
    by_order = client.get("/api/v1/deliveries", params={"order_id": second_order["id"]}, headers=planner).json()
    assert [item["id"] for item in by_order["items"]] == [notices[3]["id"]]
    by_supplier = client.get("/api/v1/deliveries", params={"supplier_id": str(shop.world.supplier_ids[1])}, headers=planner).json()
    assert by_supplier["items"] == []
    bad = client.get("/api/v1/deliveries", params={"status": "lost"}, headers=planner)
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"status"}
    from portal.deliveries import services

    monkeypatch.setattr(services, "PAGE_SIZE", 3)
    seen: list[str] = []
    cursor = None
    while True:
        page = client.get("/api/v1/deliveries", params={"cursor": cursor} if cursor else {}, headers=planner).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    monkeypatch.undo()
    assert seen == [notice["id"] for notice in reversed(notices)]
    summary = client.get("/api/v1/deliveries", headers=planner).json()["items"][0]
    assert (summary["line_count"], Decimal(summary["quantity"]), summary["accepted_quantity"]) == (1, Decimal(1), None)


def test_every_state_change_is_in_the_audit_trail(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    kept = create(client, shop, order, "10", ship=False).json()
    client.post(f"/api/v1/deliveries/{kept['id']}/ship", headers=shop.as_("supplier_operator"))
    receive(client, shop, kept, ("9", "1", "Dent"))
    dropped = create(client, shop, order, "1").json()
    client.post(f"/api/v1/deliveries/{dropped['id']}/cancel", json={"reason": "Duplicate"}, headers=shop.as_("supplier_operator"))

    def actions(delivery_id: str) -> list[str]:
        events = client.get(
            "/api/v1/audit-events", params={"entity_type": "delivery", "entity_id": delivery_id}, headers=shop.as_("admin")
        ).json()["items"]
        return sorted(event["action"] for event in events)

    assert actions(kept["id"]) == ["delivery.create", "delivery.receive", "delivery.ship"]
    assert actions(dropped["id"]) == ["delivery.cancel", "delivery.create", "delivery.ship"]
    order_events = client.get(
        "/api/v1/audit-events", params={"entity_type": "order", "entity_id": order["id"]}, headers=shop.as_("admin")
    ).json()["items"]
    assert "order.receive" in {event["action"] for event in order_events}


def test_deliveries_to_receive_lists_what_is_in_transit(client: Any, shop: OrderWorld, run: Any) -> None:
    order = accepted_order(client, shop)
    waiting = create(client, shop, order, "3").json()
    create(client, shop, order, "2", ship=False)
    received = create(client, shop, order, "1").json()
    receive(client, shop, received, ("1", "0", ""))

    async def as_planner() -> list[Any]:
        from portal.deliveries.services import deliveries_to_receive
        from tenants.context import operator_context, system_scope, tenant_scope
        from tenants.tables import Tenant

        async with system_scope("test"):
            tenant = await Tenant.objects().where(Tenant.id == shop.world.tenant_id).first()
        async with tenant_scope(operator_context(tenant, "test")):
            return await deliveries_to_receive()

    assert [summary.id for summary in run(as_planner)] == [UUID(waiting["id"])]


def _page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    from tests.support.factories import page_headers

    account = shop.world.accounts[who]
    return page_headers(client, api_token(client, account, shop.world.slug))
