"""Open NCRs on the checklist (closed at the old supplier or following the
work to the new one) and a write-off that waits for finance's approval."""

from __future__ import annotations

from typing import Any

from tests.integration.handover.conftest import HandoverWorld, _ok, sign_everything, started


def _ncr(client: Any, ho: HandoverWorld, order_key: str, title: str) -> dict[str, Any]:
    line_id = ho.orders[order_key]["lines"][0]["id"]
    body = {"title": title, "description": "Burr on the bore edge", "severity": "major", "order_line_id": line_id, "lots": ["A-LOT-7"]}
    ncr = _ok(client.post("/api/v1/ncrs", json=body, headers=ho.as_("qa")), 201)
    return dict(_ok(client.post(f"/api/v1/ncrs/{ncr['id']}/issue", json={"version": ncr["version"]}, headers=ho.as_("qa"))))


def _sign(client: Any, ho: HandoverWorld, handover_id: str, item: dict[str, Any], who: str, decision: str) -> Any:
    return client.post(
        f"/api/v1/handovers/{handover_id}/items/{item['id']}/sign-off", json={"decision": decision, "note": "ok"}, headers=ho.as_(who)
    )


def test_open_ncrs_are_decided_and_the_transferred_ones_follow_the_work(client: Any, run: Any, ho: HandoverWorld) -> None:
    moving = _ncr(client, ho, "transfer", "Bore burr")
    staying = _ncr(client, ho, "cancel", "Wrong finish")
    kept = _ncr(client, ho, "kept", "Other part")
    step = moving["steps"][0]["id"]
    answer = {"text": "Our internal scrap cost was 99.75 per piece", "version": moving["version"]}
    _ok(client.post(f"/api/v1/ncrs/{moving['id']}/steps/{step}/answer", json=answer, headers=ho.as_("supplier_admin")))

    handover = started(client, ho)
    entries = {item["record_id"]: item for item in handover["items"] if item["source"] == "ncr"}
    # The NCRs of the handed-over part only; P-200's stays out.
    assert set(entries) == {moving["id"], staying["id"]}
    assert entries[moving["id"]]["decisions"] == ["close", "transfer"]
    assert entries[moving["id"]]["party"] == "qa"
    # The outgoing supplier reads the entries about its NCRs.
    as_a = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("supplier_admin")))
    assert {item["record_id"] for item in as_a["items"] if item["source"] == "ncr"} == set(entries)

    # "Closed" only once it is: refused while open, in both languages, nothing signed.
    for language, text in (("en", "Close the NCR first"), ("zh-CN", "请先关闭该不合格报告")):
        refused = client.post(
            f"/api/v1/handovers/{handover['id']}/items/{entries[staying['id']]['id']}/sign-off",
            json={"decision": "close"},
            headers=ho.as_("qa", language),
        )
        assert refused.status_code == 400, refused.text
        assert text in refused.json()["error"]["fields"]["decision"]
    # A supplier does not sign QA's entry.
    assert _sign(client, ho, handover["id"], entries[moving["id"]], "supplier_admin", "transfer").status_code == 403
    fresh = _ok(client.get(f"/api/v1/ncrs/{staying['id']}", headers=ho.as_("qa")))
    _ok(client.post(f"/api/v1/ncrs/{staying['id']}/cancel", json={"comment": "Settled", "version": fresh["version"]}, headers=ho.as_("qa")))

    transfer, cancel = ho.orders["transfer"]["id"], ho.orders["cancel"]["id"]
    decisions = {transfer: "transfer", cancel: "cancel_rest", ho.material_id: "transfer", moving["id"]: "transfer", staying["id"]: "close"}
    signed = sign_everything(client, ho, handover["id"], decisions)
    done = _ok(client.post(f"/api/v1/handovers/{handover['id']}/complete", json={"version": signed["version"]}, headers=ho.as_("planner")))
    [new_order] = done["transferred_orders"]

    # B holds a new NCR, issued at its first step, on its new order: QA's
    # description, not A's answer, lots or price.
    listed = _ok(client.get("/api/v1/ncrs", headers=ho.as_("other_supplier_admin")))["items"]
    [followed] = listed
    as_b = _ok(client.get(f"/api/v1/ncrs/{followed['id']}", headers=ho.as_("other_supplier_admin")))
    assert (as_b["title"], as_b["description"], as_b["severity"]) == ("Bore burr", "Burr on the bore edge", "major")
    assert (as_b["status"], as_b["step_state"], as_b["source"]) == ("containment", "waiting", "handover")
    assert as_b["order_id"] == new_order
    assert as_b["lots"] == []
    assert as_b["entries"] == []
    for secret in ("99.75", "12.5", "A-LOT-7"):
        assert secret not in str(as_b)
    # The original stays with A's history, cancelled with the handover named.
    original = _ok(client.get(f"/api/v1/ncrs/{moving['id']}", headers=ho.as_("qa")))
    assert original["status"] == "cancelled"
    assert done["number"] in original["cancel_reason"]
    # A never sees the new one; the third supplier sees none; A's NCR on its kept work stays.
    assert client.get(f"/api/v1/ncrs/{followed['id']}", headers=ho.as_("supplier_admin")).status_code == 404
    assert client.get(f"/api/v1/ncrs/{followed['id']}", headers=ho.as_("third")).status_code == 404
    assert client.get(f"/api/v1/ncrs/{kept['id']}", headers=ho.as_("supplier_admin")).status_code == 200
    assert client.get(f"/api/v1/ncrs/{staying['id']}", headers=ho.as_("other_supplier_admin")).status_code == 404
    # B is told of the NCR it now answers.
    from portal.jobs.runner import run_due_jobs

    run(run_due_jobs)
    inbox = _ok(client.get("/api/v1/notifications", headers=ho.as_("other_supplier_admin")))["items"]
    assert any(note["kind"] == "ncr.issued" for note in inbox)


def _write_off_rule(client: Any, ho: HandoverWorld) -> None:
    # A threshold: the material carries no value here, and an unknown value is
    # held. The admin decides: finance signs the entry, and never approves
    # its own request.
    rule = [{"kind": "material.write_off", "approver_role": "admin", "threshold": "1000"}]
    _ok(client.put("/api/v1/settings/approvals", json=rule, headers=ho.as_("admin")))


def _pending(client: Any, ho: HandoverWorld) -> dict[str, Any]:
    [request] = _ok(client.get("/api/v1/approvals?status=pending", headers=ho.as_("admin")))["items"]
    return dict(request)


def test_a_write_off_waits_for_finance_and_completion_waits_with_it(client: Any, ho: HandoverWorld) -> None:
    _write_off_rule(client, ho)
    handover = started(client, ho)
    transfer, cancel = ho.orders["transfer"]["id"], ho.orders["cancel"]["id"]
    signed = sign_everything(client, ho, handover["id"], {transfer: "transfer", cancel: "cancel_rest", ho.material_id: "write_off"})
    [material] = [item for item in signed["items"] if item["source"] == "material"]
    assert not material["done"]
    assert material["waiting_for_approval"]
    assert signed["blocking_open"] == 1
    # Suppliers never see approvals.
    as_a = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("supplier_admin")))
    assert not any(item["waiting_for_approval"] for item in as_a["items"])

    request = _pending(client, ho)
    assert request["kind"] == "material.write_off"
    assert request["link"] == f"/handovers/{handover['id']}"
    assert handover["number"] in request["label"]
    # While it waits: no completion, no second sign-off.
    refused = client.post(f"/api/v1/handovers/{handover['id']}/complete", json={"version": signed["version"]}, headers=ho.as_("planner"))
    assert refused.status_code == 409, refused.text
    again = _sign(client, ho, handover["id"], material, "planner", "return")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "waiting_for_approval"

    # Rejected: the entry is open again and takes another decision.
    reject = {"approve": False, "comment": "Return it instead"}
    _ok(client.post(f"/api/v1/approvals/{request['id']}/decision", json=reject, headers=ho.as_("admin")))
    reopened = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))
    [material] = [item for item in reopened["items"] if item["source"] == "material"]
    assert not material["done"]
    assert not material["waiting_for_approval"]
    # Asked again and approved: signed off as decided, and completion writes it off.
    _ok(_sign(client, ho, handover["id"], material, "finance", "write_off"))
    request = _pending(client, ho)
    assert client.post(f"/api/v1/approvals/{request['id']}/decision", json={"approve": True}, headers=ho.as_("planner")).status_code == 403
    _ok(client.post(f"/api/v1/approvals/{request['id']}/decision", json={"approve": True}, headers=ho.as_("admin")))
    approved = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))
    [material] = [item for item in approved["items"] if item["source"] == "material"]
    assert material["done"]
    assert material["decision"] == "write_off"
    assert approved["blocking_open"] == 0
    done = _ok(
        client.post(f"/api/v1/handovers/{handover['id']}/complete", json={"version": approved["version"]}, headers=ho.as_("planner"))
    )
    assert done["status"] == "completed"
    balances = _ok(client.get(f"/api/v1/material-balances?supplier_id={ho.a}", headers=ho.as_("planner")))["items"]
    assert all(row["item_id"] != ho.material_id or float(row["held"]) == 0 for row in balances)


def test_without_a_rule_a_write_off_is_signed_at_once(client: Any, ho: HandoverWorld) -> None:
    handover = started(client, ho)
    transfer, cancel = ho.orders["transfer"]["id"], ho.orders["cancel"]["id"]
    signed = sign_everything(client, ho, handover["id"], {transfer: "transfer", cancel: "cancel_rest", ho.material_id: "write_off"})
    assert signed["blocking_open"] == 0
    assert _ok(client.get("/api/v1/approvals", headers=ho.as_("finance")))["items"] == []
