"""The confirmation loop through the API: finance sends, the supplier admin
confirms or disputes each line, finance answers (with a correcting line),
both sides confirm, and a finalized statement refuses every change."""

from __future__ import annotations

from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld
from tests.integration.reconciliation.conftest import OCTOBER, by_currency, october, shop
from tests.support.factories import outbox_to

__all__ = ["shop"]


def sent_october(client: Any, run: Any, shop: OrderWorld) -> dict[str, dict[str, Any]]:
    october(client, run, shop)
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "period": OCTOBER}
    statements = by_currency(client.post("/api/v1/statements/close", json=body, headers=shop.as_("finance")))
    sent = client.post(f"/api/v1/statements/{statements['CNY']['id']}/send", headers=shop.as_("finance"))
    assert sent.status_code == 200, sent.text
    return {**statements, "CNY": sent.json()}


def step(client: Any, shop: OrderWorld, who: str, statement: dict[str, Any], action: str, line: int | None = None, **body: str) -> Any:
    path = f"/api/v1/statements/{statement['id']}"
    if line is not None:
        path += f"/lines/{statement['lines'][line]['id']}"
    return client.post(f"{path}/{action}", json=body or None, headers={**shop.as_(who), "accept-language": "en"})


def test_dispute_answer_with_a_correction_confirm_and_finalize(client: Any, run: Any, shop: OrderWorld, var_dir: Any) -> None:
    statements = sent_october(client, run, shop)
    cny = statements["CNY"]
    supplier_admin = shop.world.accounts["supplier_admin"].email
    # Told through the notifications' jobs, never by the step itself.
    assert outbox_to(var_dir, supplier_admin) == []
    run(run_due_jobs)
    assert any("2026-10" in message["Subject"] for message in outbox_to(var_dir, supplier_admin))

    assert step(client, shop, "supplier_admin", cny, "confirm", 0).json()["lines"][0]["state"] == "confirmed"
    no_comment = step(client, shop, "supplier_admin", cny, "dispute", 1, comment=" ")
    assert (no_comment.status_code, list(no_comment.json()["error"]["fields"])) == (400, ["comment"])
    assert step(client, shop, "supplier_operator", cny, "dispute", 1, comment="no").status_code == 403
    assert step(client, shop, "other_supplier_admin", cny, "confirm", 1).status_code == 404
    # A line of another statement answers like a missing one.
    foreign_line = {**cny, "lines": statements["USD"]["lines"]}
    assert step(client, shop, "supplier_admin", foreign_line, "confirm", 0).status_code == 404
    disputed = step(client, shop, "supplier_admin", cny, "dispute", 1, comment="We delivered 15 at the old price")
    assert disputed.status_code == 200, disputed.text
    assert (disputed.json()["status"], disputed.json()["lines"][1]["state"]) == ("disputed", "disputed")
    run(run_due_jobs)
    finance_mail = outbox_to(var_dir, shop.world.accounts["finance"].email)
    assert any("line 2" in message["Subject"] or "第 2 行" in message["Subject"] for message in finance_mail)
    early = step(client, shop, "supplier_admin", disputed.json(), "confirm")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "transition_not_allowed")
    too_fine = step(client, shop, "finance", cny, "answer", 1, comment="ok", correction="-5.001")
    assert (too_fine.status_code, list(too_fine.json()["error"]["fields"])) == (400, ["correction"])

    answered = step(client, shop, "finance", cny, "answer", 1, comment="Price revised on 10 Oct; we take 5.00 off", correction="-5.00")
    assert answered.status_code == 200, answered.text
    after = answered.json()
    assert after["status"] == "sent"
    assert [(line["line_no"], line["kind"], line["amount"], line["state"]) for line in after["lines"]] == [
        (1, "delivery", "375.00", "confirmed"),
        (2, "delivery", "195.00", "open"),
        (3, "scrap", "-22.14", "open"),
        (4, "adjustment", "-5.00", "open"),
    ]
    # 547.86 - 5.00 = 542.86; x 0.13 = 70.5718 -> 70.57
    assert (after["adjustments_total"], after["subtotal"], after["tax"], after["total"]) == ("-5.00", "542.86", "70.57", "613.43")
    premature = step(client, shop, "finance", after, "finalize")
    assert (premature.status_code, premature.json()["error"]["code"]) == (409, "not_confirmed_by_supplier")
    partly = step(client, shop, "supplier_admin", after, "confirm")
    assert (partly.status_code, partly.json()["error"]["code"]) == (409, "lines_not_agreed")
    for index in (1, 2, 3):
        assert step(client, shop, "supplier_admin", after, "confirm", index).status_code == 200
    confirmed = step(client, shop, "supplier_admin", after, "confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["supplier_confirmed_at"] is not None
    finalized = step(client, shop, "finance", after, "finalize")
    assert finalized.status_code == 200, finalized.text
    final = finalized.json()
    assert (final["status"], final["total"]) == ("finalized", "613.43")
    assert [(s["event"], s["line_no"]) for s in final["steps"]] == [
        ("send", None),
        ("confirm_line", 1),
        ("dispute_line", 2),
        ("answer", 2),
        ("confirm_line", 2),
        ("confirm_line", 3),
        ("confirm_line", 4),
        ("confirm", None),
        ("finalize", None),
    ]
    assert final["steps"][2]["comment"] == "We delivered 15 at the old price"
    assert final["steps"][3]["amount"] == "-5.00"

    # Each side heard the other's steps, in the app and by email; nobody
    # else did (the operator, another supplier's admin).
    run(run_due_jobs)
    heard = {
        who: [
            item["kind"]
            for item in client.get("/api/v1/notifications", headers=shop.as_(who)).json()["items"]
            if item["kind"].startswith("statement.")
        ]
        for who in ("supplier_admin", "finance", "supplier_operator", "other_supplier_admin")
    }
    assert sorted(heard["supplier_admin"]) == ["statement.answered", "statement.finalized", "statement.sent"]
    assert sorted(heard["finance"]) == ["statement.confirmed", "statement.disputed"]
    assert heard["supplier_operator"] + heard["other_supplier_admin"] == []
    answered = next(
        item
        for item in client.get("/api/v1/notifications", headers=shop.as_("supplier_admin")).json()["items"]
        if item["kind"] == "statement.answered"
    )
    assert answered["link"] == f"/statements/{cny['id']}"
    assert "take 5.00 off" in answered["body"]
    assert any("613.43" in message.get_body().get_content() for message in outbox_to(var_dir, supplier_admin)[-1:])
    # Every step is in the audit trail.
    assert run(_audited, cny["id"]) == [
        "statement.send",
        "statement.confirm_line",
        "statement.dispute_line",
        "statement.answer",
        "statement.confirm_line",
        "statement.confirm_line",
        "statement.confirm_line",
        "statement.confirm",
        "statement.finalize",
        # The final PDF, archived by its job.
        "statement.pdf",
    ]


async def _audited(statement_id: str) -> list[str]:
    from portal.audit.tables import AuditEvent
    from tenants.context import system_scope

    async with system_scope("test"):
        rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.entity_id == statement_id).order_by(AuditEvent.seq)
    return [row["action"] for row in rows]


def test_a_finalized_statement_refuses_every_change(client: Any, run: Any, shop: OrderWorld) -> None:
    statements = sent_october(client, run, shop)
    cny = statements["CNY"]
    for index in range(len(cny["lines"])):
        assert step(client, shop, "supplier_admin", cny, "confirm", index).status_code == 200
    assert step(client, shop, "supplier_admin", cny, "confirm").status_code == 200
    final = step(client, shop, "finance", cny, "finalize").json()
    attempts = [
        step(client, shop, "supplier_admin", cny, "dispute", 0, comment="too late"),
        step(client, shop, "supplier_admin", cny, "confirm", 0),
        step(client, shop, "finance", cny, "answer", 0, comment="no", correction="1"),
        step(client, shop, "supplier_admin", cny, "confirm"),
        step(client, shop, "finance", cny, "finalize"),
    ]
    assert [(a.status_code, a.json()["error"]["code"]) for a in attempts] == [(409, "statement_finalized")] * 5
    assert "locked" in attempts[0].json()["error"]["message"]
    sent_again = step(client, shop, "finance", cny, "send")
    assert (sent_again.status_code, sent_again.json()["error"]["code"]) == (409, "transition_not_allowed")
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "period": OCTOBER}
    assert client.post("/api/v1/statements/compute", json=body, headers=shop.as_("finance")).status_code == 409
    now = client.get(f"/api/v1/statements/{cny['id']}", headers=shop.as_("finance")).json()
    assert now == final


def test_a_statement_without_lines_is_not_sent(client: Any, run: Any, shop: OrderWorld) -> None:
    from tests.integration.materials.conftest import receipt, sent_dispatch
    from tests.integration.reconciliation.conftest import at, utc

    # Steel sent and received in October, nothing made, returned or
    # scrapped: a material section and no line.
    dispatch = sent_dispatch(client, shop, ("40", "H-2"))
    assert receipt(client, shop, dispatch, ("40", "")).status_code == 200
    at(run, "dispatch", dispatch["id"], sent_at=utc(10, 3), received_at=utc(10, 3))
    body = {"supplier_id": str(shop.world.supplier_ids[0]), "period": OCTOBER}
    [statement] = client.post("/api/v1/statements/close", json=body, headers=shop.as_("finance")).json()["items"]
    assert (statement["lines"], [m["closing"] for m in statement["materials"]]) == ([], ["40"])
    for language, words in (("en", "no lines"), ("zh-CN", "没有")):
        refused = client.post(f"/api/v1/statements/{statement['id']}/send", headers={**shop.as_("finance"), "accept-language": language})
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "statement_empty")
        assert words in refused.json()["error"]["message"]
    after = client.get(f"/api/v1/statements/{statement['id']}", headers=shop.as_("finance")).json()
    assert (after["status"], after["version"], after["steps"]) == ("draft", statement["version"], [])
