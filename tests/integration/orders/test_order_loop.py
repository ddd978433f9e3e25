"""The order loop through the API, as the planner and the supplier do it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.orders.conftest import OrderWorld, draft, due, fire


def test_orders_are_numbered_per_tenant_and_year(client: Any, shop: OrderWorld) -> None:
    first, second = draft(client, shop), draft(client, shop)
    year = first["created_at"][:4]
    assert first["number"].startswith(f"WO-{year}-")
    assert int(second["number"][-5:]) == int(first["number"][-5:]) + 1


def test_planner_issues_and_supplier_accepts(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("supplier_admin")).status_code == 404
    issued = fire(client, shop, order["id"], "planner", "issue")
    assert issued.status_code == 200, issued.text
    assert issued.json()["status"] == "issued"
    seen = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("supplier_admin")).json()
    assert seen["notes_internal"] is None
    assert seen["notes_shared"] == "Deburr all edges"
    accepted = fire(client, shop, order["id"], "supplier_admin", "accept")
    assert accepted.json()["status"] == "accepted"
    assert fire(client, shop, order["id"], "supplier_operator", "start").json()["status"] == "in_production"


def test_supplier_rejects_with_a_reason_and_planner_reissues(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    fire(client, shop, order["id"], "planner", "issue")
    no_reason = fire(client, shop, order["id"], "supplier_admin", "reject")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["error"]["fields"]
    rejected = fire(client, shop, order["id"], "supplier_admin", "reject", "Material not available")
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["status_reason"] == "Material not available"
    assert fire(client, shop, order["id"], "planner", "reissue").json()["status"] == "issued"


def test_other_supplier_and_operator_cannot_answer(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    fire(client, shop, order["id"], "planner", "issue")
    assert fire(client, shop, order["id"], "other_supplier_admin", "accept").status_code == 404
    assert fire(client, shop, order["id"], "supplier_operator", "accept").status_code == 403
    assert fire(client, shop, order["id"], "qa", "issue").status_code == 403


def test_refused_transition_says_why(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    response = fire(client, shop, order["id"], "planner", "close")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition_not_allowed"


def test_revision_after_issue_needs_reason_and_acknowledgement(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    issued = fire(client, shop, order["id"], "planner", "issue").json()
    line = issued["lines"][0]
    change = {
        "version": issued["version"],
        "lines": [{"id": line["id"], "item_id": line["item_id"], "quantity": "120", "unit_price": line["unit_price"], "due_date": due(20)}],
    }
    assert client.patch(f"/api/v1/orders/{order['id']}", json=change, headers=shop.as_("planner")).status_code == 400
    revised = client.patch(f"/api/v1/orders/{order['id']}", json={**change, "reason": "Customer forecast up"}, headers=shop.as_("planner"))
    assert revised.status_code == 200, revised.text
    assert revised.json()["revision"] == 1
    assert revised.json()["unacknowledged_revisions"] == 1
    revisions = client.get(f"/api/v1/orders/{order['id']}/revisions", headers=shop.as_("supplier_admin")).json()["items"]
    old, new = revisions[0]["diff"]["lines"][0]["fields"]["quantity"]
    assert (Decimal(old), Decimal(new)) == (Decimal(100), Decimal(120))
    ack = client.post(f"/api/v1/orders/{order['id']}/revisions/{revisions[0]['id']}/acknowledge", headers=shop.as_("supplier_admin"))
    assert ack.status_code == 200
    assert ack.json()["acknowledged_at"] is not None
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["unacknowledged_revisions"] == 0


def test_second_save_of_the_same_version_is_a_conflict(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    line = order["lines"][0]
    body = {
        "version": order["version"],
        "lines": [{"id": line["id"], "item_id": line["item_id"], "quantity": "90", "unit_price": "12.50", "due_date": due(14)}],
    }
    assert client.patch(f"/api/v1/orders/{order['id']}", json=body, headers=shop.as_("planner")).status_code == 200
    stale = client.patch(
        f"/api/v1/orders/{order['id']}", json={**body, "lines": [{**body["lines"][0], "quantity": "80"}]}, headers=shop.as_("planner")
    )
    assert stale.status_code == 409
    assert Decimal(client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["lines"][0]["quantity"]) == 90


def test_bad_input_is_refused_field_by_field(client: Any, shop: OrderWorld) -> None:
    supplier = str(shop.world.supplier_ids[0])
    bad = client.post(
        "/api/v1/orders",
        json={"supplier_id": supplier, "lines": [{"item_id": shop.part_id, "quantity": "-1", "unit_price": "1.234", "due_date": due(3)}]},
        headers=shop.as_("planner"),
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"lines.0.quantity", "lines.0.unit_price"}
    assert "2" in bad.json()["error"]["fields"]["lines.0.unit_price"]
    assert "%(" not in bad.json()["error"]["fields"]["lines.0.unit_price"]
    past = draft(client, shop, days=-1)
    assert fire(client, shop, past["id"], "planner", "issue").status_code == 400


def test_supplier_of_another_tenant_is_unknown(client: Any, shop: OrderWorld, run: Any) -> None:
    from tests.support.factories import make_world

    other = run(make_world, "ord")
    response = client.post(
        "/api/v1/orders",
        json={
            "supplier_id": str(other.supplier_ids[0]),
            "lines": [{"item_id": shop.part_id, "quantity": "1", "unit_price": "1", "due_date": due(3)}],
        },
        headers=shop.as_("planner"),
    )
    assert response.status_code == 400
    assert "supplier_id" in response.json()["error"]["fields"]


def test_duplicate_erp_number_is_refused(client: Any, shop: OrderWorld) -> None:
    body = {
        "supplier_id": str(shop.world.supplier_ids[0]),
        "number": "ERP-77",
        "lines": [{"item_id": shop.part_id, "quantity": "1", "unit_price": "1", "due_date": due(3)}],
    }
    assert client.post("/api/v1/orders", json=body, headers=shop.as_("planner")).status_code == 201
    again = client.post("/api/v1/orders", json=body, headers=shop.as_("planner"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_number_taken"


def test_board_filters_and_counts(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    fire(client, shop, order["id"], "planner", "issue")
    draft(client, shop)
    board = client.get("/api/v1/orders", params={"status": "issued"}, headers=shop.as_("planner")).json()
    assert [item["id"] for item in board["items"]] == [order["id"]]
    assert board["counts"]["issued"] == 1
    assert board["counts"]["draft"] == 1
    supplier_board = client.get("/api/v1/orders", headers=shop.as_("supplier_admin")).json()
    assert "draft" not in supplier_board["counts"]
    assert [item["id"] for item in supplier_board["items"]] == [order["id"]]
    assert client.get("/api/v1/orders", headers=shop.as_("other_supplier_admin")).json()["items"] == []
    found = client.get("/api/v1/orders", params={"q": "P-100"}, headers=shop.as_("planner")).json()
    assert len(found["items"]) == 2
