"""Approvals: a tenant's rules (no code) hold issuing an order above an
amount and a revision that raises a price until the named role decides;
the approver sees what waits on their home, decides with a comment; the
request and the decision are audited and notified."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.support.factories import api_token, page_headers


def _rules(client: Any, shop: OrderWorld, *rules: dict[str, Any]) -> Any:
    return client.put("/api/v1/settings/approvals", json=list(rules), headers=shop.as_("admin"))


def _kinds(client: Any, shop: OrderWorld, who: str) -> list[str]:
    return [item["kind"] for item in client.get("/api/v1/notifications", headers=shop.as_(who)).json()["items"]]


def test_an_order_above_the_amount_waits_for_finance_who_approves_it(client: Any, run: Any, shop: OrderWorld) -> None:
    saved = _rules(client, shop, {"kind": "order.issue", "approver_role": "finance", "threshold": "1000"})
    assert saved.status_code == 200, saved.text
    small = draft(client, shop, quantity="10")  # 125.00: below the amount
    assert fire(client, shop, small["id"], "planner", "issue").json()["status"] == "issued"
    big = draft(client, shop)  # 100 x 12.50 = 1250.00
    held = fire(client, shop, big["id"], "planner", "issue")
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "draft"
    assert held.json()["awaiting_approval"] == ["order.issue"]
    waiting = client.get("/api/v1/approvals", params={"mine": "true", "status": "pending"}, headers=shop.as_("finance")).json()["items"]
    assert [(item["kind"], item["amount"], item["record_id"]) for item in waiting] == [("order.issue", "1250", big["id"])]
    request_id = waiting[0]["id"]
    run(run_due_jobs)
    assert "approval.requested" in _kinds(client, shop, "finance")
    home = client.get("/", headers=page_headers(client, api_token(client, shop.world.accounts["finance"], shop.world.slug)))
    assert f"/approvals/{request_id}" in home.text
    # Only the named role decides; the supplier never sees approvals.
    assert client.post(f"/api/v1/approvals/{request_id}/decision", json={"approve": True}, headers=shop.as_("qa")).status_code == 403
    assert client.get(f"/api/v1/orders/{big['id']}", headers=shop.as_("planner")).json()["status"] == "draft"
    approved = client.post(
        f"/api/v1/approvals/{request_id}/decision", json={"approve": True, "comment": "budget ok"}, headers=shop.as_("finance")
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    order = client.get(f"/api/v1/orders/{big['id']}", headers=shop.as_("planner")).json()
    assert order["status"] == "issued"
    assert order["awaiting_approval"] == []
    again = client.post(f"/api/v1/approvals/{request_id}/decision", json={"approve": False, "comment": "no"}, headers=shop.as_("finance"))
    assert again.status_code == 409
    run(run_due_jobs)
    assert "approval.decided" in _kinds(client, shop, "planner")
    trail = client.get("/api/v1/audit-events", params={"entity_type": "order", "entity_id": big["id"]}, headers=shop.as_("admin")).json()
    actions = [event["action"] for event in trail["items"]]
    assert "approval.request" in actions
    assert "approval.approved" in actions


def test_a_price_increase_waits_and_a_rejection_keeps_the_order_and_tells_why(client: Any, run: Any, shop: OrderWorld) -> None:
    assert _rules(client, shop, {"kind": "order.price_increase", "approver_role": "admin"}).status_code == 200
    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    line = order["lines"][0]
    body = {
        "version": order["version"],
        "reason": "alloy surcharge",
        "lines": [{"id": line["id"], "item_id": line["item_id"], "quantity": "100", "unit_price": "13.10", "due_date": line["due_date"]}],
    }
    held = client.patch(f"/api/v1/orders/{order['id']}", json=body, headers=shop.as_("planner"))
    assert held.status_code == 200, held.text
    assert Decimal(held.json()["lines"][0]["unit_price"]) == Decimal("12.50")
    assert held.json()["awaiting_approval"] == ["order.price_increase"]
    [request] = client.get("/api/v1/approvals", params={"status": "pending"}, headers=shop.as_("admin")).json()["items"]
    no_reason = client.post(f"/api/v1/approvals/{request['id']}/decision", json={"approve": False}, headers=shop.as_("admin"))
    assert no_reason.status_code == 400
    assert list(no_reason.json()["error"]["fields"]) == ["comment"]
    rejected = client.post(
        f"/api/v1/approvals/{request['id']}/decision", json={"approve": False, "comment": "negotiate first"}, headers=shop.as_("admin")
    )
    assert rejected.json()["status"] == "rejected"
    after = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()
    assert Decimal(after["lines"][0]["unit_price"]) == Decimal("12.50")
    assert after["revision"] == order["revision"]
    # A lower price goes through at once.
    cheaper = {**body, "lines": [{**body["lines"][0], "unit_price": "12.00"}]}
    cheapened = client.patch(f"/api/v1/orders/{order['id']}", json=cheaper, headers=shop.as_("planner")).json()
    assert Decimal(cheapened["lines"][0]["unit_price"]) == Decimal("12.00")


def test_bad_rules_change_nothing_and_only_the_admin_sets_them(client: Any, shop: OrderWorld) -> None:
    before = client.get("/api/v1/settings/approvals", headers=shop.as_("planner")).json()
    assert [rule["kind"] for rule in before["items"]] == ["order.issue", "order.price_increase", "ncr.concession", "material.write_off"]
    for rule, field in (
        ({"kind": "order.nothing", "approver_role": "admin"}, "0.kind"),
        ({"kind": "order.issue", "approver_role": "supplier_admin"}, "0.approver_role"),
        ({"kind": "order.issue", "approver_role": "admin", "threshold": "-1"}, "0.threshold"),
    ):
        refused = _rules(client, shop, rule)
        assert refused.status_code == 400
        assert list(refused.json()["error"]["fields"]) == [field]
    assert client.get("/api/v1/settings/approvals", headers=shop.as_("planner")).json() == before
    assert client.put("/api/v1/settings/approvals", json=[], headers=shop.as_("planner")).status_code == 403
    assert client.get("/api/v1/approvals", headers=shop.as_("supplier_admin")).status_code == 403


def test_the_approver_decides_on_the_page_and_the_admin_sets_rules_on_the_settings_page(client: Any, shop: OrderWorld) -> None:
    admin = page_headers(client, api_token(client, shop.world.accounts["admin"], shop.world.slug))
    form = {"_csrf_token": admin["x-csrftoken"], "order.issue-active": "on", "order.issue-role": "planner", "order.issue-threshold": "100"}
    for kind in ("order.price_increase", "ncr.concession", "material.write_off"):
        form[f"{kind}-role"] = "admin"
    saved = client.post("/admin/settings/approvals", data=form, headers=admin, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    order = draft(client, shop)
    fire(client, shop, order["id"], "admin", "issue")
    planner = page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))
    [request] = client.get("/api/v1/approvals", params={"mine": "true"}, headers=shop.as_("planner")).json()["items"]
    shown = client.get(f"/approvals/{request['id']}", headers=planner)
    assert f'action="/approvals/{request["id"]}/decision"' in shown.text
    decided = client.post(
        f"/approvals/{request['id']}/decision",
        data={"_csrf_token": planner["x-csrftoken"], "decision": "approve", "comment": "ok"},
        headers=planner,
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["status"] == "issued"


async def _hold_concession_and_write_off(world: Any) -> None:
    """What portal/quality and portal/handover do when their rules hold a
    concession on NCR goods and a material write-off."""
    from uuid import uuid4

    from portal.approvals.services import RuleIn, hold, rule_for, set_rules
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.tables import Tenant

    async with system_scope("approvals-test"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    async with tenant_scope(operator_context(tenant, "approvals-test")):
        await set_rules(
            [
                RuleIn(kind="ncr.concession", approver_role="qa"),
                RuleIn(kind="material.write_off", approver_role="finance", threshold=Decimal(0)),
            ]
        )
        concession, write_off = await rule_for("ncr.concession"), await rule_for("material.write_off", Decimal(360))
        assert concession is not None
        assert write_off is not None
        await hold("ncr.concession", "ncr", uuid4(), "NCR-2026-0042: use 3 pcs as is", {}, concession)
        await hold(
            "material.write_off",
            "handover_item",
            uuid4(),
            "Write off 12 kg of steel (HO-2026-0007)",
            {"link": "/handovers"},
            write_off,
            amount=Decimal(360),
            currency="CNY",
        )


def test_a_held_concession_and_write_off_say_what_they_are_to_their_approvers(client: Any, run: Any, shop: OrderWorld) -> None:
    run(_hold_concession_and_write_off, shop.world)
    qa = {**page_headers(client, api_token(client, shop.world.accounts["qa"], shop.world.slug)), "accept-language": "en"}
    finance = {**page_headers(client, api_token(client, shop.world.accounts["finance"], shop.world.slug)), "accept-language": "en"}

    [concession] = client.get("/api/v1/approvals", params={"mine": "true"}, headers=shop.as_("qa")).json()["items"]
    assert (concession["kind"], concession["approver_role"], concession["status"]) == ("ncr.concession", "qa", "pending")
    for page in (client.get("/", headers=qa).text, client.get("/approvals", headers=qa).text):
        assert "NCR-2026-0042: use 3 pcs as is" in page
        assert "A concession (use as is) on nonconforming goods" in page
        assert "Write off 12 kg" not in page.split("All requests")[0], "finance's to decide, not QA's"
    detail = client.get(f"/approvals/{concession['id']}", headers=qa).text
    assert "A concession (use as is) on nonconforming goods" in detail
    assert f'action="/approvals/{concession["id"]}/decision"' in detail

    [write_off] = client.get("/api/v1/approvals", params={"mine": "true"}, headers=shop.as_("finance")).json()["items"]
    assert write_off["kind"] == "material.write_off"
    home = client.get("/", headers=finance).text
    assert "Write off 12 kg of steel (HO-2026-0007)" in home
    assert "A material write-off" in home
    chinese = client.get("/approvals", headers={**finance, "accept-language": "zh-CN"}).text
    assert "A material write-off" not in chinese


def test_the_requester_never_approves_its_own_request(client: Any, shop: OrderWorld) -> None:
    """Four eyes, as for statement adjustments: a rule naming the
    requester's own role still needs another person of that role."""
    assert _rules(client, shop, {"kind": "order.issue", "approver_role": "planner"}).status_code == 200
    order = draft(client, shop)
    assert fire(client, shop, order["id"], "planner", "issue").json()["awaiting_approval"] == ["order.issue"]
    [request] = client.get("/api/v1/approvals", params={"status": "pending"}, headers=shop.as_("planner")).json()["items"]
    own = client.post(
        f"/api/v1/approvals/{request['id']}/decision", json={"approve": True}, headers={**shop.as_("planner"), "accept-language": "en"}
    )
    assert (own.status_code, own.json()["error"]["code"]) == (403, "own_request")
    assert "Someone else" in own.json()["error"]["message"]
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["status"] == "draft"
    planner = page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))
    assert "/decision" not in client.get(f"/approvals/{request['id']}", headers=planner).text
    assert f"/approvals/{request['id']}" not in client.get("/", headers=planner).text
