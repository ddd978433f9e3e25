"""An NCR changes hands (QA or an admin may own it; audited and told to the
new and the former owner), and a concession waits for the approver the
tenant's rule names before it is recorded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.test_ncrs import STEPS as NCR_STEPS
from tests.integration.quality.test_ncrs import _answer as answer
from tests.integration.quality.test_ncrs import _decide, _get, _issued, _page


def _owner(client: Any, shop: OrderWorld, ncr: dict[str, Any], owner_id: Any, who: str = "qa", language: str = "en") -> Any:
    return client.post(
        f"/api/v1/ncrs/{ncr['id']}/owner",
        json={"owner_id": str(owner_id) if owner_id else None},
        headers={**shop.as_(who), "accept-language": language},
    )


def _kinds(client: Any, shop: OrderWorld, who: str) -> list[str]:
    return [item["kind"] for item in client.get("/api/v1/notifications", headers=shop.as_(who)).json()["items"]]


def test_qa_hands_an_ncr_to_the_admin_who_hears_of_it(client: Any, shop: OrderWorld, run: Any) -> None:
    ncr = _issued(client, shop)
    qa, admin = shop.world.accounts["qa"].user_id, shop.world.accounts["admin"].user_id
    assert ncr["owner_id"] == str(qa)
    choices = client.get("/api/v1/ncrs/owners", headers=shop.as_("qa")).json()
    assert {item["id"] for item in choices["items"]} == {str(qa), str(admin)}
    assert choices["next"] is None

    moved = _owner(client, shop, ncr, admin)
    assert moved.status_code == 200, moved.text
    assert moved.json()["owner_id"] == str(admin)
    # The version is the steps' concern: handing it over leaves decisions in flight valid.
    assert moved.json()["version"] == ncr["version"]
    events = client.get("/api/v1/audit-events", params={"entity_type": "ncr", "entity_id": ncr["id"]}, headers=shop.as_("admin")).json()
    owner_events = [event for event in events["items"] if event["action"] == "ncr.owner"]
    assert len(owner_events) == 1
    assert owner_events[0]["after"] == {"owner": str(admin)}
    run(run_due_jobs)
    assert "ncr.owner_changed" in _kinds(client, shop, "admin")
    assert "ncr.owner_changed" not in _kinds(client, shop, "qa")  # QA made the change itself
    assert "ncr.owner_changed" not in _kinds(client, shop, "supplier_admin")

    # The admin hands it back: now the former owner (the admin) made it, QA hears.
    assert _owner(client, shop, ncr, qa, who="admin").status_code == 200
    run(run_due_jobs)
    assert "ncr.owner_changed" in _kinds(client, shop, "qa")


def test_only_qa_or_an_admin_may_own_an_ncr_and_bad_owners_change_nothing(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)
    planner = shop.world.accounts["planner"].user_id
    for owner, language, words in ((planner, "en", "QA"), (None, "zh-CN", "质量")):
        refused = _owner(client, shop, ncr, owner, language=language)
        assert refused.status_code == 400
        assert words in refused.json()["error"]["fields"]["owner_id"]
    assert _owner(client, shop, ncr, shop.world.accounts["admin"].user_id, who="planner").status_code == 403
    assert _owner(client, shop, ncr, shop.world.accounts["qa"].user_id, who="supplier_admin").status_code == 403
    assert _get(client, shop, ncr["id"]).json()["owner_id"] == str(shop.world.accounts["qa"].user_id)

    # A closed NCR keeps its owner.
    for name in NCR_STEPS:
        assert answer(client, shop, ncr, name).status_code == 200
        ncr = _decide(client, shop, ncr, name, "accept").json()
    assert client.post(f"/api/v1/ncrs/{ncr['id']}/close", json={}, headers=shop.as_("qa")).status_code == 200
    closed = _owner(client, shop, ncr, shop.world.accounts["admin"].user_id)
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "ncr_closed")


def test_the_ncr_page_offers_qa_the_owner_form(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)
    admin = shop.world.accounts["admin"].user_id
    shown = client.get(f"/ncrs/{ncr['id']}", headers=_page(client, shop, "qa"))
    assert f'action="/ncrs/{ncr["id"]}/owner"' in shown.text
    assert f'action="/ncrs/{ncr["id"]}/owner"' not in client.get(f"/ncrs/{ncr['id']}", headers=_page(client, shop, "supplier_admin")).text
    headers = _page(client, shop, "qa", "zh-CN")
    wrong = client.post(f"/ncrs/{ncr['id']}/owner", data={"owner_id": "nobody", "_csrf_token": headers["x-csrftoken"]}, headers=headers)
    assert wrong.status_code == 400
    assert "质量" in wrong.text
    saved = client.post(
        f"/ncrs/{ncr['id']}/owner",
        data={"owner_id": str(admin), "_csrf_token": headers["x-csrftoken"]},
        headers=headers,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert _get(client, shop, ncr["id"]).json()["owner_id"] == str(admin)


def _dispose(client: Any, shop: OrderWorld, ncr: dict[str, Any], **body: Any) -> Any:
    return client.post(f"/api/v1/ncrs/{ncr['id']}/dispositions", json=body, headers=shop.as_("qa"))


def test_a_concession_waits_for_the_approver_the_rule_names(client: Any, shop: OrderWorld, run: Any) -> None:
    ncr = _issued(client, shop)  # 4 rejected
    # No rule: a concession is recorded at once.
    assert _dispose(client, shop, ncr, kind="use_as_is", quantity="1", note="Deviation D-1 by design").status_code == 201
    rule = client.put(
        "/api/v1/settings/approvals", json=[{"kind": "ncr.concession", "approver_role": "planner"}], headers=shop.as_("admin")
    )
    assert rule.status_code == 200, rule.text

    held = _dispose(client, shop, ncr, kind="use_as_is", quantity="2", note="Deviation D-2 by design")
    assert held.status_code == 202, held.text
    assert (held.json()["status"], held.json()["kind"], held.json()["ncr_id"]) == ("awaiting_approval", "use_as_is", ncr["id"])
    waiting = _get(client, shop, ncr["id"]).json()
    assert waiting["awaiting_approval"] == ["ncr.concession"]
    assert len(waiting["dispositions"]) == 1
    assert _get(client, shop, ncr["id"], "supplier_admin").json()["awaiting_approval"] == []
    # The rule holds concessions only; and a held one still has to be valid.
    assert _dispose(client, shop, ncr, kind="scrap", quantity="1").status_code == 201
    assert _dispose(client, shop, ncr, kind="use_as_is", quantity="1").json()["error"]["fields"].keys() == {"note"}
    shown = client.get(f"/ncrs/{ncr['id']}", headers=_page(client, shop, "qa"))
    assert "waits for approval" in shown.text

    run(run_due_jobs)
    assert "approval.requested" in _kinds(client, shop, "planner")
    request_id = held.json()["approval_id"]
    request = client.get(f"/api/v1/approvals/{request_id}", headers=shop.as_("planner")).json()
    assert request["link"] == f"/ncrs/{ncr['id']}"
    approved = client.post(f"/api/v1/approvals/{request_id}/decision", json={"approve": True}, headers=shop.as_("planner"))
    assert approved.status_code == 200, approved.text
    after = _get(client, shop, ncr["id"]).json()
    assert after["awaiting_approval"] == []
    assert [(item["kind"], Decimal(item["quantity"])) for item in after["dispositions"]][-1] == ("use_as_is", Decimal(2))
    assert after["dispositions"][-1]["note"] == "Deviation D-2 by design"


def test_an_approved_concession_that_no_longer_fits_is_refused(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)  # 4 rejected
    client.put("/api/v1/settings/approvals", json=[{"kind": "ncr.concession", "approver_role": "finance"}], headers=shop.as_("admin"))
    held = _dispose(client, shop, ncr, kind="use_as_is", quantity="3", note="Deviation D-3 by design")
    assert held.status_code == 202
    # Meanwhile QA scraps two: the concession's three no longer fit.
    assert _dispose(client, shop, ncr, kind="scrap", quantity="2").status_code == 201
    refused = client.post(f"/api/v1/approvals/{held.json()['approval_id']}/decision", json={"approve": True}, headers=shop.as_("finance"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "ncr_quantity_exceeded")
    after = _get(client, shop, ncr["id"]).json()
    assert after["awaiting_approval"] == ["ncr.concession"]
    assert [item["kind"] for item in after["dispositions"]] == ["scrap"]
