"""The QC checklist of an order and QA's review, through the API."""

from __future__ import annotations

from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.integration.quality.conftest import accepted_order, checklist, require, review, send
from tests.support.factories import outbox_to


def _state(client: Any, shop: OrderWorld, order_id: str, who: str = "planner") -> list[tuple[str, str]]:
    return [(item["category"], item["state"]) for item in checklist(client, shop, order_id, who)]


def test_a_requirement_runs_from_missing_to_approved(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    added = require(client, shop, order["id"], note="EN 10204 3.1 for every heat")
    assert added.status_code == 201, added.text
    assert (added.json()["state"], added.json()["note"], added.json()["order_number"]) == (
        "missing",
        "EN 10204 3.1 for every heat",
        order["number"],
    )
    # Both sides see what is owed.
    assert _state(client, shop, order["id"], "supplier_operator") == [("material_certificate", "missing")]

    document = send(client, shop, order["id"])
    assert _state(client, shop, order["id"]) == [("material_certificate", "pending")]
    listed = checklist(client, shop, order["id"], "qa")[0]["documents"]
    assert [(item["id"], item["version"], item["review"]) for item in listed] == [(document["id"], 1, "pending")]

    approved = review(client, shop, document["id"], "approved", version=1)
    assert approved.status_code == 201, approved.text
    assert (approved.json()["decision"], approved.json()["version"]) == ("approved", 1)
    assert approved.json()["reviewed_by"] == f"qa {shop.world.slug}"
    assert _state(client, shop, order["id"], "supplier_admin") == [("material_certificate", "approved")]
    history = client.get(f"/api/v1/documents/{document['id']}/reviews", headers=shop.as_("supplier_operator"))
    assert [item["decision"] for item in history.json()["items"]] == ["approved"]


def test_a_rejection_tells_the_supplier_and_a_new_version_waits_for_review(client: Any, shop: OrderWorld, var_dir: Any, run: Any) -> None:
    order = accepted_order(client, shop)
    assert require(client, shop, order["id"], "inspection_report").status_code == 201
    document = send(client, shop, order["id"], "inspection_report")

    rejected = review(client, shop, document["id"], "rejected", "Bore 12H7 not measured", version=1)
    assert rejected.status_code == 201, rejected.text
    assert _state(client, shop, order["id"]) == [("inspection_report", "rejected")]
    operator = shop.world.accounts["supplier_operator"].email
    run(run_due_jobs)
    bodies = [mail.get_content() for mail in outbox_to(var_dir, operator)]
    assert any(order["number"] in body and "Mill certificate: Bore 12H7 not measured" in body for body in bodies), bodies

    # The supplier's to-do: the requirement it owes and the rejected file with QA's words.
    todo = client.get("/api/v1/qc-requirements", params={"status": "rejected"}, headers=shop.as_("supplier_operator"))
    assert [item["order_id"] for item in todo.json()["items"]] == [order["id"]]

    send(client, shop, order["id"], document_id=document["id"])
    assert _state(client, shop, order["id"]) == [("inspection_report", "pending")]
    # QA looked at version 1: approving it now would approve a file nobody saw.
    stale = review(client, shop, document["id"], "approved", version=1)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_version"
    assert _state(client, shop, order["id"]) == [("inspection_report", "pending")]
    assert review(client, shop, document["id"], "approved", version=2).status_code == 201
    assert _state(client, shop, order["id"]) == [("inspection_report", "approved")]
    history = client.get(f"/api/v1/documents/{document['id']}/reviews", headers=shop.as_("qa")).json()["items"]
    assert [(item["version"], item["decision"]) for item in history] == [(2, "approved"), (1, "rejected")]


def test_bad_input_gets_clear_errors_and_changes_nothing(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    assert require(client, shop, order["id"]).status_code == 201
    document = send(client, shop, order["id"])
    english = {**shop.as_("qa"), "accept-language": "en"}

    no_reason = client.post(f"/api/v1/documents/{document['id']}/reviews", json={"decision": "rejected"}, headers=english)
    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["fields"] == {"reason": "Give a reason of 3 to 1000 characters."}
    chinese = client.post(
        f"/api/v1/documents/{document['id']}/reviews", json={"decision": "maybe"}, headers={**shop.as_("qa"), "accept-language": "zh-CN"}
    )
    assert chinese.status_code == 400
    assert chinese.json()["error"]["fields"]["decision"] != "Choose approve or reject."
    unknown = require(client, shop, order["id"], "nonsense")
    assert unknown.status_code == 400
    assert set(unknown.json()["error"]["fields"]) == {"category"}
    duplicate = require(client, shop, order["id"])
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "qc_requirement_exists")
    requirement_id = checklist(client, shop, order["id"])[0]["id"]
    short = client.post(f"/api/v1/qc-requirements/{requirement_id}/waive", json={"reason": "x"}, headers=shop.as_("qa"))
    assert short.status_code == 400
    # Nothing of that changed the checklist.
    assert _state(client, shop, order["id"]) == [("material_certificate", "pending")]

    waived = client.post(
        f"/api/v1/qc-requirements/{requirement_id}/waive", json={"reason": "Stock material, cert on file"}, headers=shop.as_("qa")
    )
    assert (waived.status_code, waived.json()["state"], waived.json()["waived_reason"]) == (200, "waived", "Stock material, cert on file")
    again = client.post(f"/api/v1/qc-requirements/{requirement_id}/waive", json={"reason": "twice"}, headers=shop.as_("qa"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "qc_requirement_waived")
    # Waived, the category may be required again.
    assert require(client, shop, order["id"]).status_code == 201

    cancelled = accepted_order(client, shop)
    assert fire(client, shop, cancelled["id"], "planner", "cancel", "plan changed").status_code == 200
    closed = require(client, shop, cancelled["id"])
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "order_closed")
    assert checklist(client, shop, cancelled["id"]) == []


def test_only_qa_reviews_and_only_buyers_require(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    for who in ("supplier_admin", "supplier_operator", "finance"):
        assert require(client, shop, order["id"], who=who).status_code == 403, who
    assert require(client, shop, order["id"], who="qa").status_code == 201
    document = send(client, shop, order["id"])
    for who in ("planner", "finance", "supplier_admin", "supplier_operator"):
        assert review(client, shop, document["id"], "approved", who=who).status_code == 403, who
    assert review(client, shop, document["id"], "approved", who="admin").status_code == 201


def test_a_draft_orders_checklist_is_the_buyers_own_until_issue(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    assert require(client, shop, order["id"]).status_code == 201
    hidden = client.get(f"/api/v1/orders/{order['id']}/qc-requirements", headers=shop.as_("supplier_admin"))
    assert hidden.status_code == 404
    requirement_id = checklist(client, shop, order["id"])[0]["id"]
    assert client.get(f"/api/v1/qc-requirements/{requirement_id}", headers=shop.as_("supplier_admin")).status_code == 404
    listed = client.get("/api/v1/qc-requirements", headers=shop.as_("supplier_admin")).json()["items"]
    assert requirement_id not in {item["id"] for item in listed}

    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    assert _state(client, shop, order["id"], "supplier_admin") == [("material_certificate", "missing")]
    # Another supplier of the same buyer never sees it.
    other = client.get("/api/v1/qc-requirements", headers=shop.as_("other_supplier_admin")).json()["items"]
    assert requirement_id not in {item["id"] for item in other}
    assert client.get(f"/api/v1/qc-requirements/{requirement_id}", headers=shop.as_("other_supplier_admin")).status_code == 404
