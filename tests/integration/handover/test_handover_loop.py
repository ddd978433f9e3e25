"""The handover loop through the API: pre-fill, sign-offs by the right
side, completion moving the work (and the access) in one go, refusals that
change nothing."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tests.integration.handover.conftest import SIGNER, HandoverWorld, _ok, create, sign_everything, started


def _entries(handover: dict[str, Any], source: str) -> list[dict[str, Any]]:
    return [item for item in handover["items"] if item["source"] == source]


def test_the_checklist_is_prefilled_from_the_outgoing_suppliers_records(client: Any, ho: HandoverWorld) -> None:
    handover = _ok(create(client, ho), 201)
    assert handover["status"] == "draft"
    assert {item["record_id"] for item in _entries(handover, "order")} == {ho.orders["transfer"]["id"], ho.orders["cancel"]["id"]}
    assert [item["record_id"] for item in _entries(handover, "material")] == [ho.material_id]
    assert {item["record_id"] for item in _entries(handover, "document")} >= {ho.drawing_id, ho.certificate_id}
    assert _entries(handover, "order")[0]["decisions"] == ["finish", "cancel_rest", "transfer"]
    # A draft is the buyer's own: neither supplier sees it.
    for who in ("supplier_admin", "other_supplier_admin", "third"):
        assert client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_(who)).status_code == 404


def test_each_party_sees_its_own_part(client: Any, ho: HandoverWorld) -> None:
    handover = started(client, ho)
    outgoing = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("supplier_admin")))
    incoming = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("other_supplier_admin")))
    # A never learns who takes over; B sees only its own steps.
    assert outgoing["to_supplier_id"] is None
    assert outgoing["to_supplier_name"] is None
    assert ho.b not in str(outgoing)
    assert incoming["to_supplier_id"] == ho.b
    assert {item["party"] for item in incoming["items"]} == {"incoming_supplier"}
    assert "incoming_supplier" not in {item["party"] for item in outgoing["items"]}
    assert outgoing["note_internal"] is None
    assert incoming["note_internal"] is None
    assert client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("third")).status_code == 404
    listed = _ok(client.get("/api/v1/handovers", headers=ho.as_("third")))
    assert listed == {"items": [], "next": None}


def test_completion_moves_the_work_and_the_access(client: Any, ho: HandoverWorld) -> None:
    handover = started(client, ho)
    transfer, cancel, kept = (ho.orders[key]["id"] for key in ("transfer", "cancel", "kept"))
    signed = sign_everything(client, ho, handover["id"], {transfer: "transfer", cancel: "cancel_rest", ho.material_id: "transfer"})
    assert signed["blocking_open"] == 0
    done = _ok(client.post(f"/api/v1/handovers/{handover['id']}/complete", json={"version": signed["version"]}, headers=ho.as_("planner")))
    assert done["status"] == "completed"
    [new_order] = done["transferred_orders"]

    # B holds the open remainder as a new, issued order, without A's price.
    as_b = _ok(client.get(f"/api/v1/orders/{new_order}", headers=ho.as_("other_supplier_admin")))
    assert as_b["supplier_id"] == ho.b
    assert as_b["status"] == "issued"
    assert [Decimal(line["quantity"]) for line in as_b["lines"]] == [Decimal(10)]
    assert [Decimal(line["unit_price"]) for line in as_b["lines"]] == [Decimal(0)]
    # Times are left out: a timestamp's fraction may read "...12.5..." too.
    assert "12.5" not in str(_without_times(as_b))
    assert _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("other_supplier_admin")))["transferred_orders"] == [
        new_order
    ]
    # B reads the handed-over documents, drawing and A's certificate alike.
    for document in (ho.drawing_id, ho.certificate_id):
        assert client.get(f"/api/v1/documents/{document}", headers=ho.as_("other_supplier_admin")).status_code == 200
        assert client.get(f"/api/v1/documents/{document}/content", headers=ho.as_("other_supplier_admin")).status_code == 200

    # A: the handed-over order and its documents are gone (API, download,
    # page); its other work stays.
    for who in ("supplier_admin", "supplier_operator"):
        assert client.get(f"/api/v1/orders/{transfer}", headers=ho.as_(who)).status_code == 404
        for document in (ho.drawing_id, ho.certificate_id):
            assert client.get(f"/api/v1/documents/{document}", headers=ho.as_(who)).status_code == 404
            assert client.get(f"/api/v1/documents/{document}/content", headers=ho.as_(who)).status_code == 404
        assert client.get(f"/api/v1/orders/{kept}", headers=ho.as_(who)).status_code == 200
        assert client.get(f"/api/v1/orders/{new_order}", headers=ho.as_(who)).status_code == 404
        board = _ok(client.get("/api/v1/orders", headers=ho.as_(who)))
        assert transfer not in str(board)
        assert kept in str(board)
    # The cancelled rest stays with A, cancelled; the original is kept, cancelled, for the buyer.
    assert _ok(client.get(f"/api/v1/orders/{cancel}", headers=ho.as_("supplier_admin")))["status"] == "cancelled"
    original = _ok(client.get(f"/api/v1/orders/{transfer}", headers=ho.as_("planner")))
    assert original["status"] == "cancelled"
    assert original["supplier_id"] == ho.a
    # The steel goes on to B as a sent dispatch; A's balance is settled.
    dispatches = _ok(client.get("/api/v1/dispatches", headers=ho.as_("other_supplier_admin")))["items"]
    assert len(dispatches) == 1
    assert dispatches[0]["status"] == "sent"
    balances = _ok(client.get("/api/v1/material-balances", params={"supplier_id": ho.a}, headers=ho.as_("planner")))["items"]
    assert [Decimal(row["held"]) for row in balances if row["item_id"] == ho.material_id] == [Decimal(0)]
    # The third supplier sees none of it.
    for path in (f"/api/v1/orders/{new_order}", f"/api/v1/documents/{ho.drawing_id}", f"/api/v1/handovers/{handover['id']}"):
        assert client.get(path, headers=ho.as_("third")).status_code == 404
    events = _ok(client.get("/api/v1/audit-events", params={"entity_id": handover["id"]}, headers=ho.as_("admin")))["items"]
    assert {"handover.create", "handover.start", "handover.sign_off", "handover.complete", "handover.transfer"} <= {
        e["action"] for e in events
    }


def test_completion_is_refused_while_a_blocking_entry_is_open(client: Any, ho: HandoverWorld) -> None:
    handover = started(client, ho)
    for language, words in (("en", "blocking checklist entries"), ("zh-CN", "阻止")):
        refused = client.post(
            f"/api/v1/handovers/{handover['id']}/complete", json={"version": handover["version"]}, headers=ho.as_("planner", language)
        )
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "blocking_items_open"
        assert words in refused.json()["error"]["message"]
    after = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))
    assert after["status"] == "in_progress"
    assert after["version"] == handover["version"]
    assert _ok(client.get(f"/api/v1/orders/{ho.orders['transfer']['id']}", headers=ho.as_("supplier_admin")))["status"] == "accepted"


def test_an_entry_left_open_cannot_be_signed_off_once_the_handover_ended(client: Any, ho: HandoverWorld) -> None:
    for ending in ("complete", "cancel"):
        handover = started(client, ho)
        left = next(item for item in handover["items"] if not item["blocking"] and item["party"] == "planner")
        signed = sign_everything(client, ho, handover["id"], {ho.orders["transfer"]["id"]: "transfer"}, skip={left["id"]})
        body = {"version": signed["version"], "reason": "kept A"}
        _ok(client.post(f"/api/v1/handovers/{handover['id']}/{ending}", json=body, headers=ho.as_("planner")))
        url = f"/api/v1/handovers/{handover['id']}/items/{left['id']}/sign-off"
        for language, words in (
            ("en", ("already completed" if ending == "complete" else "was cancelled", "can no longer be signed off")),
            ("zh-CN", ("已完成" if ending == "complete" else "已取消", "不能再签核")),
        ):
            refused = client.post(url, json={"note": "late"}, headers=ho.as_("planner", language))
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "transition_not_allowed"
            assert all(word in refused.json()["error"]["message"] for word in words), refused.json()
        after = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))
        assert not next(item for item in after["items"] if item["id"] == left["id"])["done"]


def test_a_second_completion_with_the_same_version_is_a_conflict(client: Any, ho: HandoverWorld) -> None:
    handover = started(client, ho)
    signed = sign_everything(client, ho, handover["id"], {ho.orders["transfer"]["id"]: "transfer"})
    body = {"version": signed["version"]}
    _ok(client.post(f"/api/v1/handovers/{handover['id']}/complete", json=body, headers=ho.as_("planner")))
    again = client.post(f"/api/v1/handovers/{handover['id']}/complete", json=body, headers=ho.as_("admin"))
    assert again.status_code == 409
    # One new order, not two.
    assert len(_ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))["transferred_orders"]) == 1


def test_bad_input_is_refused_with_clear_errors(client: Any, ho: HandoverWorld, run: Any) -> None:
    from tests.support.factories import make_world

    same = create(client, ho, to_supplier_id=ho.a)
    assert same.status_code == 400
    assert "to_supplier_id" in same.json()["error"]["fields"]
    other = run(make_world, "hoo")
    foreign = create(client, ho, to_supplier_id=str(other.supplier_ids[0]))
    assert foreign.status_code == 400
    assert "to_supplier_id" in foreign.json()["error"]["fields"]
    for language, words in (("en", "nothing to hand over"), ("zh-CN", "没有")):
        idle = client.post(
            "/api/v1/handovers",
            json={"from_supplier_id": ho.a, "to_supplier_id": ho.b, "item_ids": [ho.idle_part_id]},
            headers=ho.as_("planner", language),
        )
        assert idle.status_code == 400
        assert idle.json()["error"]["code"] == "no_work"
        assert words in idle.json()["error"]["message"]
    assert _ok(client.get("/api/v1/handovers", headers=ho.as_("planner")))["items"] == []
    assert (
        client.post(
            "/api/v1/handovers", json={"from_supplier_id": ho.a, "to_supplier_id": ho.b}, headers=ho.as_("supplier_admin")
        ).status_code
        == 403
    )


def test_only_the_responsible_side_signs_off(client: Any, ho: HandoverWorld) -> None:
    handover = started(client, ho)
    order_entry = _entries(handover, "order")[0]
    url = f"/api/v1/handovers/{handover['id']}/items/{order_entry['id']}/sign-off"
    refused = client.post(url, json={"decision": "transfer"}, headers=ho.as_("supplier_admin", "en"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_your_item"
    assert "Buyer planner" in refused.json()["error"]["message"]
    # B does not even see A's entries.
    assert client.post(url, json={"decision": "transfer"}, headers=ho.as_("other_supplier_admin")).status_code == 404
    assert client.post(url, json={"decision": "transfer"}, headers=ho.as_("qa")).status_code == 403
    missing = client.post(url, json={"decision": ""}, headers=ho.as_("planner"))
    assert missing.status_code == 400
    assert "decision" in missing.json()["error"]["fields"]
    _ok(client.post(url, json={"decision": "transfer"}, headers=ho.as_("planner")))
    assert client.post(url, json={"decision": "finish"}, headers=ho.as_("planner")).status_code == 409
    evidence_entry = next(item for item in handover["items"] if item["evidence"] and item["party"] == "outgoing_supplier")
    no_evidence = client.post(
        f"/api/v1/handovers/{handover['id']}/items/{evidence_entry['id']}/sign-off", json={}, headers=ho.as_("supplier_admin")
    )
    assert no_evidence.status_code == 400
    assert "evidence" in no_evidence.json()["error"]["fields"]


def test_sign_offs_of_different_entries_keep_each_other(client: Any, ho: HandoverWorld) -> None:
    handover = started(client, ho)
    first, second = [item for item in handover["items"] if item["party"] in ("qa", "planner") and not item["source"]][:2]
    for item in (first, second):
        _ok(client.post(f"/api/v1/handovers/{handover['id']}/items/{item['id']}/sign-off", json={}, headers=ho.as_(SIGNER[item["party"]])))
    after = _ok(client.get(f"/api/v1/handovers/{handover['id']}", headers=ho.as_("planner")))
    done = {item["id"] for item in after["items"] if item["done"]}
    assert {first["id"], second["id"]} <= done


def test_cancelling_moves_nothing(client: Any, ho: HandoverWorld) -> None:
    handover = started(client, ho)
    signed = sign_everything(client, ho, handover["id"], {ho.orders["transfer"]["id"]: "transfer"})
    no_reason = client.post(f"/api/v1/handovers/{handover['id']}/cancel", json={"version": signed["version"]}, headers=ho.as_("planner"))
    assert no_reason.status_code == 400
    cancelled = _ok(
        client.post(
            f"/api/v1/handovers/{handover['id']}/cancel", json={"version": signed["version"], "reason": "kept A"}, headers=ho.as_("planner")
        )
    )
    assert cancelled["status"] == "cancelled"
    assert cancelled["transferred_orders"] == []
    late = client.post(f"/api/v1/handovers/{handover['id']}/complete", json={"version": cancelled["version"]}, headers=ho.as_("planner"))
    assert late.status_code == 409
    assert _ok(client.get(f"/api/v1/orders/{ho.orders['transfer']['id']}", headers=ho.as_("supplier_admin")))["status"] == "accepted"
    assert client.get(f"/api/v1/documents/{ho.drawing_id}", headers=ho.as_("supplier_admin")).status_code == 200
    assert client.get(f"/api/v1/documents/{ho.drawing_id}", headers=ho.as_("other_supplier_admin")).status_code == 404


def test_the_parties_hear_of_the_steps(client: Any, run: Any, ho: HandoverWorld) -> None:
    from portal.jobs.runner import run_due_jobs

    handover = started(client, ho)
    run(run_due_jobs)

    def kinds(who: str) -> list[str]:
        return [note["kind"] for note in _ok(client.get("/api/v1/notifications", headers=ho.as_(who)))["items"]]

    # The buyer's roles with entries hear it started (the planner started
    # it); the suppliers hear their checklist opened.
    for who in ("qa", "finance"):
        assert "handover.opened" in kinds(who), who
    for who in ("supplier_admin", "other_supplier_admin"):
        assert "handover.started" in kinds(who)
        assert "handover.opened" not in kinds(who)
    assert "handover.started" not in kinds("third")
    assert "handover.ready" not in kinds("planner")

    transfer, cancel = ho.orders["transfer"]["id"], ho.orders["cancel"]["id"]
    sign_everything(client, ho, handover["id"], {transfer: "transfer", cancel: "cancel_rest", ho.material_id: "transfer"})
    run(run_due_jobs)
    # The planners hear each supplier's sign-off, and once that it can be completed.
    planner = kinds("planner")
    assert "handover.signed_off" in planner
    assert planner.count("handover.ready") == 1
    assert "handover.ready" not in kinds("supplier_admin")
    assert "handover.signed_off" not in kinds("other_supplier_admin")
    # Each planner reads the entry in their own language, whatever the
    # supplier who signed it off speaks (it was stored in the signer's).
    for language, chinese in (("en", False), ("zh-CN", True)):
        notes = _ok(client.get("/api/v1/notifications", headers={**ho.as_("planner"), "accept-language": language}))["items"]
        bodies = [note["body"] for note in notes if note["kind"] == "handover.signed_off"]
        assert bodies
        assert all(bool(re.search("[\u4e00-\u9fff]", body)) == chinese for body in bodies), (language, bodies)


def _without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_times(item) for key, item in value.items() if not key.endswith("_at")}
    if isinstance(value, list):
        return [_without_times(item) for item in value]
    return value
