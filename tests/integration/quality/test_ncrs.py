"""Nonconformances: opened from a rejected delivery line, a rejected QC
document or by QA directly; run step by step (the supplier answers, QA
accepts or returns) to a closure that needs QA's verification; dispositions
of the goods; due dates, reminders and escalations under a controllable
clock; bad input refused with nothing changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from portal.days import local_minutes
from tests.integration.deliveries.conftest import create, receive
from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.conftest import accepted_order, review, send
from tests.support.documents import samples
from tests.support.factories import page_headers

STEPS = ("containment", "root_cause", "corrective_action", "verification")


def _rejected_line(client: Any, shop: OrderWorld, lot: str = "LOT-7") -> dict[str, Any]:
    """A delivery of 10 whose receipt rejected 4 (the line, with its delivery id)."""
    order = accepted_order(client, shop)
    delivery = create(client, shop, order, "10", lot=lot).json()
    received = receive(client, shop, delivery, ("6", "4", "burrs on the bore"), who="qa")
    assert received.status_code == 200, received.text
    return {**received.json()["lines"][0], "delivery_id": delivery["id"], "order_id": order["id"]}


def _open(client: Any, shop: OrderWorld, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/ncrs", json={"title": "Burrs on the bore", "description": "Bore Ø12 has burrs", **body}, headers=shop.as_("qa")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _get(client: Any, shop: OrderWorld, ncr_id: str, who: str = "qa") -> Any:
    return client.get(f"/api/v1/ncrs/{ncr_id}", headers=shop.as_(who))


def _issue(client: Any, shop: OrderWorld, ncr: dict[str, Any], **body: Any) -> Any:
    return client.post(f"/api/v1/ncrs/{ncr['id']}/issue", json=body, headers=shop.as_("qa"))


def _step(ncr: dict[str, Any], name: str) -> str:
    return str(next(step["id"] for step in ncr["steps"] if step["step"] == name))


def _answer(
    client: Any, shop: OrderWorld, ncr: dict[str, Any], name: str, text: str = "Sorted all stock", who: str = "supplier_operator"
) -> Any:
    return client.post(f"/api/v1/ncrs/{ncr['id']}/steps/{_step(ncr, name)}/answer", json={"text": text}, headers=shop.as_(who))


def _decide(client: Any, shop: OrderWorld, ncr: dict[str, Any], name: str, decision: str, comment: str = "", **body: Any) -> Any:
    url = f"/api/v1/ncrs/{ncr['id']}/steps/{_step(ncr, name)}/{decision}"
    return client.post(url, json={"comment": comment, **body}, headers=shop.as_("qa"))


def _issued(client: Any, shop: OrderWorld) -> dict[str, Any]:
    line = _rejected_line(client, shop)
    ncr = _open(client, shop, delivery_line_id=line["id"], severity="major")
    response = _issue(client, shop, ncr)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_ncr_from_a_rejected_line_runs_every_step_to_closure(client: Any, shop: OrderWorld) -> None:
    line = _rejected_line(client, shop, lot="LOT-42")
    draft = _open(client, shop, delivery_line_id=line["id"], severity="major")
    assert draft["status"] == "draft"
    assert draft["number"].startswith("NCR-")
    assert draft["supplier_id"] == str(shop.world.supplier_ids[0])
    assert draft["source"] == "delivery_line"
    assert draft["order_id"] == line["order_id"]
    assert draft["delivery_id"] == line["delivery_id"]
    assert draft["lots"] == ["LOT-42"]
    assert Decimal(draft["quantity"]) == Decimal(4)
    assert draft["steps"] == []
    # A draft is QA's own: the supplier does not see it.
    assert _get(client, shop, draft["id"], "supplier_admin").status_code == 404
    listed = client.get("/api/v1/ncrs", headers=shop.as_("supplier_admin")).json()
    assert draft["id"] not in [item["id"] for item in listed["items"]]

    before = datetime.now(UTC)
    ncr = _issue(client, shop, draft).json()
    assert (ncr["status"], ncr["step_state"]) == ("containment", "waiting")
    assert [step["step"] for step in ncr["steps"]] == list(STEPS)
    issued = datetime.fromisoformat(ncr["issued_at"])
    assert issued >= before - timedelta(seconds=1)
    dues = [datetime.fromisoformat(step["due_at"]) - issued for step in ncr["steps"]]
    assert dues == [timedelta(days=1), timedelta(days=7), timedelta(days=14), timedelta(days=30)]
    supplier_view = _get(client, shop, ncr["id"], "supplier_operator")
    assert supplier_view.status_code == 200
    assert supplier_view.json()["status"] == "containment"

    # Evidence: a photo on the containment step, named by the answer.
    files = {"file": ("sorting.jpg", samples.jpeg(640, 480), "image/jpeg")}
    fields = {"attached_type": "ncr_step", "attached_id": _step(ncr, "containment"), "category": "photo", "title": "Sorted stock"}
    photo = client.post("/api/v1/documents", data=fields, files=files, headers=shop.as_("supplier_operator"))
    assert photo.status_code == 201, photo.text
    answered = _answer(client, shop, ncr, "containment", "Sorted 120 pcs in stock, 3 bad")
    assert answered.status_code == 200, answered.text
    assert answered.json()["step_state"] == "answered"
    assert answered.json()["entries"][-1]["document_ids"] == [photo.json()["id"]]
    ncr = _decide(client, shop, answered.json(), "containment", "accept").json()
    assert (ncr["status"], ncr["step_state"]) == ("root_cause", "waiting")

    assert _answer(client, shop, ncr, "root_cause", "Worn deburring tool").status_code == 200
    returned = _decide(client, shop, ncr, "root_cause", "return", "Why was the tool not changed? Give the 5 whys.")
    assert returned.status_code == 200, returned.text
    assert returned.json()["step_state"] == "waiting"
    assert _answer(client, shop, ncr, "root_cause", "Tool life not tracked: no counter on the machine").status_code == 200
    ncr = _decide(client, shop, ncr, "root_cause", "accept").json()
    assert ncr["status"] == "corrective_action"
    assert [entry["kind"] for entry in ncr["entries"] if entry["step"] == "root_cause"] == ["answer", "return", "answer", "accept"]

    for name, following in (("corrective_action", "verification"), ("verification", "verified")):
        assert _answer(client, shop, ncr, name).status_code == 200
        ncr = _decide(client, shop, ncr, name, "accept", "ok").json()
        assert ncr["status"] == following
    assert ncr["step_state"] is None
    assert ncr["verified_at"] is not None
    closed = client.post(f"/api/v1/ncrs/{ncr['id']}/close", json={"comment": "effective"}, headers=shop.as_("qa"))
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert [step["state"] for step in closed.json()["steps"]] == ["accepted"] * 4

    events = client.get("/api/v1/audit-events", params={"entity_type": "ncr", "entity_id": ncr["id"]}, headers=shop.as_("admin")).json()
    actions = [event["action"] for event in events["items"]]
    for action in ("ncr.open", "ncr.issue", "ncr.answer", "ncr.accept", "ncr.return", "ncr.close"):
        assert action in actions
    # Visible where people look for it: the order's and the delivery's NCRs.
    for query in ({"order_id": line["order_id"]}, {"delivery_id": line["delivery_id"]}):
        found = client.get("/api/v1/ncrs", params=query, headers=shop.as_("supplier_admin")).json()["items"]
        assert [item["id"] for item in found] == [ncr["id"]]


def test_an_ncr_opens_from_a_rejected_qc_document_only(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    document = send(client, shop, order["id"])
    refused = client.post(
        "/api/v1/ncrs",
        json={"title": "Bad certificate", "description": "Wrong grade", "document_id": document["id"]},
        headers=shop.as_("qa"),
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"].keys() == {"document_id"}
    assert review(client, shop, document["id"], "rejected", "Grade S235 instead of S355").status_code == 201
    ncr = _open(client, shop, document_id=document["id"], severity="critical")
    assert (ncr["source"], ncr["document_id"], ncr["order_id"]) == ("document", document["id"], order["id"])
    assert ncr["supplier_id"] == str(shop.world.supplier_ids[0])


def test_qa_opens_an_ncr_directly_for_a_supplier(client: Any, shop: OrderWorld) -> None:
    ncr = _open(client, shop, supplier_id=str(shop.world.supplier_ids[1]), lots=["H-1", "H-2", "H-1"], quantity="12.5")
    assert (ncr["source"], ncr["order_id"], ncr["lots"], Decimal(ncr["quantity"])) == ("direct", None, ["H-1", "H-2"], Decimal("12.5"))
    # Its supplier sees it once issued; the other supplier never does.
    assert _issue(client, shop, ncr).status_code == 200
    assert _get(client, shop, ncr["id"], "other_supplier_admin").status_code == 200
    assert _get(client, shop, ncr["id"], "supplier_admin").status_code == 404
    assert client.get("/api/v1/ncrs", params={"supplier_id": ncr["supplier_id"]}, headers=shop.as_("supplier_admin")).json()["items"] == []


def _unchanged(client: Any, shop: OrderWorld, ncr: dict[str, Any]) -> None:
    now = _get(client, shop, ncr["id"]).json()
    assert (now["status"], now["step_state"], now["version"], len(now["entries"])) == (
        ncr["status"],
        ncr["step_state"],
        ncr["version"],
        len(ncr["entries"]),
    )


def test_bad_input_is_refused_clearly_and_changes_nothing(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)
    # Out of order: the supplier answers root cause before containment.
    early = client.post(
        f"/api/v1/ncrs/{ncr['id']}/steps/{_step(ncr, 'root_cause')}/answer",
        json={"text": "too early"},
        headers={**shop.as_("supplier_admin"), "accept-language": "en"},
    )
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "ncr_step_out_of_order"
    assert "Containment" in early.json()["error"]["message"]
    zh = client.post(
        f"/api/v1/ncrs/{ncr['id']}/steps/{_step(ncr, 'root_cause')}/answer",
        json={"text": "too early"},
        headers={**shop.as_("supplier_admin"), "accept-language": "zh-CN"},
    )
    assert zh.status_code == 409
    assert "围堵" in zh.json()["error"]["message"]
    # QA cannot accept a step nobody answered, nor close before verification.
    assert _decide(client, shop, ncr, "containment", "accept").json()["error"]["code"] == "ncr_step_not_answered"
    close = client.post(f"/api/v1/ncrs/{ncr['id']}/close", json={}, headers=shop.as_("qa"))
    assert (close.status_code, close.json()["error"]["code"]) == (409, "ncr_not_verified")
    # A supplier touching another supplier's NCR: as if it did not exist.
    foreign = _answer(client, shop, ncr, "containment", who="other_supplier_admin")
    assert foreign.status_code == 404
    # An empty answer and a return without a comment.
    assert _answer(client, shop, ncr, "containment", text="  ").status_code == 400
    _unchanged(client, shop, ncr)

    answered = _answer(client, shop, ncr, "containment").json()
    assert _decide(client, shop, answered, "containment", "return", " ").json()["error"]["fields"].keys() == {"comment"}
    accepted = _decide(client, shop, answered, "containment", "accept")
    assert accepted.status_code == 200
    # Accepting the same step twice.
    twice = _decide(client, shop, answered, "containment", "accept")
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "ncr_step_accepted")
    _unchanged(client, shop, accepted.json())

    # Due dates in the past, or out of order, when issuing.
    draft = _open(client, shop, supplier_id=str(shop.world.supplier_ids[0]))
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    past = _issue(client, shop, draft, due_dates={"containment": yesterday})
    assert past.status_code == 400
    assert past.json()["error"]["fields"].keys() == {"containment"}
    soon, later = (date.today() + timedelta(days=3)).isoformat(), (date.today() + timedelta(days=2)).isoformat()
    backwards = _issue(client, shop, draft, due_dates={"containment": soon, "root_cause": later})
    assert backwards.json()["error"]["fields"].keys() == {"root_cause"}
    _unchanged(client, shop, draft)
    chosen = _issue(client, shop, draft, due_dates={"containment": soon}).json()
    assert chosen["steps"][0]["due_at"].startswith(soon) or chosen["steps"][0]["due_at"] > soon


def test_two_qa_deciding_the_same_step_one_wins_the_other_gets_a_conflict(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)
    answered = _answer(client, shop, ncr, "containment").json()
    version = answered["version"]
    first = _decide(client, shop, answered, "containment", "accept", version=version)
    second = _decide(client, shop, answered, "containment", "return", "not enough", version=version)
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "ncr_changed"
    after = _get(client, shop, ncr["id"]).json()
    assert after["status"] == "root_cause"
    assert [entry["kind"] for entry in after["entries"]] == ["answer", "accept"]


def test_dispositions_and_what_the_statements_deduct(client: Any, shop: OrderWorld, run: Any) -> None:
    ncr = _issued(client, shop)  # 4 rejected

    def add(**body: Any) -> Any:
        return client.post(f"/api/v1/ncrs/{ncr['id']}/dispositions", json=body, headers=shop.as_("qa"))

    assert add(kind="scrap", quantity="1", chargeable=True).json()["error"]["fields"].keys() == {"amount"}
    assert add(kind="use_as_is", quantity="1").json()["error"]["fields"].keys() == {"note"}
    assert add(kind="rework", quantity="1", amount="5").json()["error"]["fields"].keys() == {"amount"}
    assert add(kind="melt", quantity="-1").json()["error"]["fields"].keys() == {"kind", "quantity"}
    scrap = add(kind="scrap", quantity="3", chargeable=True, amount="123456789.1234")
    assert scrap.status_code == 201, scrap.text
    assert add(kind="use_as_is", quantity="1", note="Deviation D-7 accepted by design").status_code == 201
    too_much = add(kind="rework", quantity="0.5")
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (409, "ncr_quantity_exceeded")
    assert len(_get(client, shop, ncr["id"], "supplier_admin").json()["dispositions"]) == 2

    async def deductions() -> list[Any]:
        from portal.quality.ncrs import chargeable_dispositions
        from tenants.context import operator_context, tenant_scope
        from tenants.tables import Tenant

        tenant = await Tenant.objects().where(Tenant.id == shop.world.tenant_id).first()
        async with tenant_scope(operator_context(tenant, "test")):
            start = datetime.now(UTC) - timedelta(days=1)
            inside = await chargeable_dispositions(shop.world.supplier_ids[0], start, start + timedelta(days=2))
            before = await chargeable_dispositions(shop.world.supplier_ids[0], start - timedelta(days=5), start)
            return [inside, before]

    inside, before = run(deductions)
    assert [(item.kind, item.quantity, item.amount, item.ncr_number) for item in inside] == [
        ("scrap", Decimal(3), Decimal("123456789.1234"), ncr["number"])
    ]
    assert before == []


def test_tenant_admin_sets_the_days_per_step(client: Any, shop: OrderWorld) -> None:
    url = "/api/v1/settings/ncr-steps"
    assert client.get(url, headers=shop.as_("admin")).json() == {
        "containment": 1,
        "root_cause": 7,
        "corrective_action": 14,
        "verification": 30,
    }
    assert client.put(
        url, json={"containment": 2, "root_cause": 5, "corrective_action": 4, "verification": 400}, headers=shop.as_("admin")
    ).json()["error"]["fields"].keys() == {"corrective_action", "verification"}
    assert client.put(url, json={"containment": 2}, headers=shop.as_("qa")).status_code == 403
    saved = client.put(
        url, json={"containment": 2, "root_cause": 10, "corrective_action": 20, "verification": 45}, headers=shop.as_("admin")
    )
    assert saved.status_code == 200, saved.text
    ncr = _issued(client, shop)
    issued = datetime.fromisoformat(ncr["issued_at"])
    assert [datetime.fromisoformat(step["due_at"]) - issued for step in ncr["steps"]] == [timedelta(days=days) for days in (2, 10, 20, 45)]


# ------------------------------------------------------------------ under a controllable clock


async def _as(shop: OrderWorld, who: str) -> Any:
    from tenants.context import operator_context
    from tenants.roles import Role
    from tenants.tables import Tenant

    tenant = await Tenant.objects().where(Tenant.id == shop.world.tenant_id).first()
    account = shop.world.accounts[who]
    return replace(operator_context(tenant, who), role=Role(account.role), user_id=account.user_id, supplier_id=account.supplier_id)


def test_due_dates_reminders_and_escalations_follow_the_clock(client: Any, shop: OrderWorld, run: Any) -> None:
    from portal.jobs.runner import run_due_jobs
    from portal.quality import ncrs
    from portal.quality.tables import NcrStep
    from tenants.context import system_scope, tenant_scope

    line = _rejected_line(client, shop)
    draft = _open(client, shop, delivery_line_id=line["id"])
    start = datetime(2031, 3, 1, 8, 0, tzinfo=UTC)

    async def issue() -> Any:
        async with tenant_scope(await _as(shop, "qa")):
            return await ncrs.issue_ncr(draft["id"], ncrs.IssueIn(), now=start)

    ncr = run(issue)
    assert [step.due_at for step in ncr.steps] == [start + timedelta(days=days) for days in (1, 7, 14, 30)]

    async def step_times(name: str) -> tuple[Any, Any]:
        async with system_scope("test"):
            row = (
                await NcrStep.select(NcrStep.reminded_at, NcrStep.escalated_at)
                .where(NcrStep.ncr == ncr.id)
                .where(NcrStep.step == name)
                .first()
            )
        return row["reminded_at"], row["escalated_at"]

    async def check(at: datetime) -> None:
        await ncrs.check_steps(at)

    # Not yet within a day of its due date: nothing.
    run(check, start - timedelta(hours=1))
    assert run(step_times, "containment") == (None, None)
    run(check, start + timedelta(hours=2))
    assert run(step_times, "containment") == (start + timedelta(hours=2), None)
    run(check, start + timedelta(hours=3))  # told once
    assert run(step_times, "containment") == (start + timedelta(hours=2), None)
    run(check, start + timedelta(days=1, seconds=1))
    assert run(step_times, "containment")[1] == start + timedelta(days=1, seconds=1)

    async def seen_at(at: datetime) -> Any:
        async with tenant_scope(await _as(shop, "qa")):
            return await ncrs.get_ncr(ncr.id, now=at)

    assert [step.overdue for step in run(seen_at, start + timedelta(hours=23)).steps] == [False] * 4
    assert [step.overdue for step in run(seen_at, start + timedelta(days=1, seconds=1)).steps] == [True, False, False, False]

    async def answer_and_accept() -> Any:
        at = start + timedelta(days=1, hours=2)
        async with tenant_scope(await _as(shop, "supplier_operator")):
            await ncrs.answer_step(ncr.id, ncr.steps[0].id, ncrs.AnswerIn(text="Contained"), now=at)
        async with tenant_scope(await _as(shop, "qa")):
            return await ncrs.accept_step(ncr.id, ncr.steps[0].id, ncrs.DecisionIn(), now=at)

    accepted = run(answer_and_accept)
    assert accepted.steps[1].started_at == start + timedelta(days=1, hours=2)
    run(check, start + timedelta(days=5))
    assert run(step_times, "root_cause") == (None, None)
    run(check, start + timedelta(days=6, hours=9))
    assert run(step_times, "root_cause")[0] == start + timedelta(days=6, hours=9)

    # An answered step waits for QA, not for the supplier: no escalation.
    async def answer_root_cause() -> None:
        async with tenant_scope(await _as(shop, "supplier_operator")):
            await ncrs.answer_step(ncr.id, ncr.steps[1].id, ncrs.AnswerIn(text="Worn tool"), now=start + timedelta(days=6, hours=10))

    run(answer_root_cause)
    run(check, start + timedelta(days=8))
    assert run(step_times, "root_cause")[1] is None

    # The reminder and the escalation reached the supplier's people.
    run(run_due_jobs)
    kinds = [item["kind"] for item in client.get("/api/v1/notifications", headers=shop.as_("supplier_admin")).json()["items"]]
    assert {"ncr.issued", "ncr.step_due", "ncr.step_overdue", "ncr.accepted"} <= set(kinds)
    qa_kinds = [item["kind"] for item in client.get("/api/v1/notifications", headers=shop.as_("qa")).json()["items"]]
    assert "ncr.step_overdue_owner" in qa_kinds
    # When it was due reads as the tenant's clock does, not as UTC's ISO text.
    zone = run(_zone_of, shop.world.tenant_id)
    notes = client.get("/api/v1/notifications", headers=shop.as_("supplier_admin")).json()["items"]
    overdue = next(item for item in notes if item["kind"] == "ncr.step_overdue")
    assert local_minutes(ncr.steps[0].due_at, zone) in overdue["title"]
    assert "+00:00" not in overdue["title"]


async def _zone_of(tenant_id: Any) -> str:
    from tenants.context import system_scope
    from tenants.tables import Tenant

    async with system_scope("test"):
        return str((await Tenant.select(Tenant.time_zone).where(Tenant.id == tenant_id).first())["time_zone"])


# ------------------------------------------------------------------ pages


def _page(client: Any, shop: OrderWorld, who: str, language: str = "en") -> dict[str, str]:
    token = shop.as_(who)["authorization"].removeprefix("Bearer ")
    return {**page_headers(client, token), "accept-language": language}


def test_pages_show_each_role_the_forms_it_may_post(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)
    _answer(client, shop, ncr, "containment")
    client.cookies.clear()
    qa = client.get(f"/ncrs/{ncr['id']}", headers=_page(client, shop, "qa")).text
    step = _step(ncr, "containment")
    for action in (f"/steps/{step}/accept", f"/steps/{step}/return", "/close", "/cancel", "/dispositions"):
        assert f'action="/ncrs/{ncr["id"]}{action}"' in qa
    assert f"/steps/{step}/answer" not in qa
    client.cookies.clear()
    supplier = client.get(f"/ncrs/{ncr['id']}", headers=_page(client, shop, "supplier_operator")).text
    assert f'action="/ncrs/{ncr["id"]}/steps/{step}/answer"' in supplier
    assert "/accept" not in supplier
    assert "/close" not in supplier

    # A return without a comment, from the page, in Chinese: the form again, nothing changed.
    headers = _page(client, shop, "qa", "zh-CN")
    client.cookies.clear()
    refused = client.post(
        f"/ncrs/{ncr['id']}/steps/{step}/return",
        data={"_csrf_token": headers["x-csrftoken"], "comment": ""},
        headers=headers,
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert "请填写 3 到 4000 个字符" in refused.text
    _unchanged(client, shop, _get(client, shop, ncr["id"]).json())
    client.cookies.clear()
    accepted = client.post(
        f"/ncrs/{ncr['id']}/steps/{step}/accept",
        data={"_csrf_token": headers["x-csrftoken"], "version": str(ncr["version"] + 1)},
        headers=headers,
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text
    assert _get(client, shop, ncr["id"]).json()["status"] == "root_cause"


@pytest.mark.parametrize("who", ["planner", "finance", "supplier_admin"])
def test_only_qa_and_the_admin_open_and_decide(client: Any, shop: OrderWorld, who: str) -> None:
    body = {"title": "x" * 5, "description": "y" * 5, "supplier_id": str(shop.world.supplier_ids[0])}
    assert client.post("/api/v1/ncrs", json=body, headers=shop.as_(who)).status_code == 403
    assert UUID(_open(client, shop, supplier_id=str(shop.world.supplier_ids[0]))["id"])
