"""Order lines answered one by one: the supplier admin accepts some lines
and declines others with a reason, through the order's state machine; the
buyer sees each line's answer; bad answers change nothing."""

from __future__ import annotations

from typing import Any

from portal.jobs.runner import run_due_jobs
from tests.integration.orders.conftest import OrderWorld, due, fire
from tests.support.factories import api_token, page_headers


def _issued(client: Any, shop: OrderWorld, lines: int = 3) -> dict[str, Any]:
    body = {
        "supplier_id": str(shop.world.supplier_ids[0]),
        "lines": [
            {"item_id": shop.part_id, "quantity": str(10 * (n + 1)), "unit_price": "2", "due_date": due(10 + n)} for n in range(lines)
        ],
    }
    created = client.post("/api/v1/orders", json=body, headers=shop.as_("planner"))
    assert created.status_code == 201, created.text
    issued = fire(client, shop, created.json()["id"], "planner", "issue")
    assert issued.status_code == 200, issued.text
    return dict(issued.json())


def _answer(client: Any, shop: OrderWorld, order: dict[str, Any], answers: list[tuple[bool, str]], who: str = "supplier_admin") -> Any:
    body = {
        "lines": [
            {"line_id": line["id"], "accept": accept, "reason": reason}
            for line, (accept, reason) in zip(order["lines"], answers, strict=True)
        ]
    }
    return client.post(f"/api/v1/orders/{order['id']}/answers", json=body, headers=shop.as_(who))


def test_some_lines_accepted_and_one_declined_accepts_the_order_without_it(client: Any, run: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    answered = _answer(client, shop, order, [(True, ""), (False, "No 40 mm bar stock until March"), (True, "")])
    assert answered.status_code == 200, answered.text
    result = answered.json()
    assert result["status"] == "accepted"
    assert [(line["answer"], line["removed"]) for line in result["lines"]] == [("accepted", False), ("declined", True), ("accepted", False)]
    # The buyer sees each answer, with the reason, on the API and the page.
    seen = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()
    assert seen["lines"][1]["answer_reason"] == "No 40 mm bar stock until March"
    assert seen["lines"][1]["open_quantity"] == "0"
    page = client.get(
        f"/orders/{order['id']}", headers=page_headers(client, api_token(client, shop.world.accounts["planner"], shop.world.slug))
    )
    assert "No 40 mm bar stock until March" in page.text
    run(run_due_jobs)
    kinds = [item["kind"] for item in client.get("/api/v1/notifications", headers=shop.as_("planner")).json()["items"]]
    assert "order.accepted_in_part" in kinds
    # Answered once: a second answer is refused.
    again = _answer(client, shop, order, [(True, ""), (True, ""), (True, "")])
    assert (again.status_code, again.json()["error"]["code"]) == (409, "transition_not_allowed")
    # The refusal names the action in the reader's words, not the API's event name.
    assert "accept_in_part" not in again.json()["error"]["message"]


def test_all_declined_rejects_the_order_with_the_reasons_and_all_accepted_accepts_it(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop, lines=2)
    rejected = _answer(client, shop, order, [(False, "no capacity"), (False, "tooling missing")])
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["status_reason"] == "1: no capacity; 2: tooling missing"
    # Sent again: answered anew.
    reissued = fire(client, shop, order["id"], "planner", "reissue").json()
    assert [line["answer"] for line in reissued["lines"]] == ["", ""]
    accepted = _answer(client, shop, reissued, [(True, ""), (True, "")])
    assert accepted.json()["status"] == "accepted"
    assert [line["answer"] for line in accepted.json()["lines"]] == ["accepted", "accepted"]


def test_bad_answers_change_nothing(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop, lines=2)
    zh = {**shop.as_("supplier_admin"), "accept-language": "zh-CN"}
    missing_reason = client.post(
        f"/api/v1/orders/{order['id']}/answers",
        json={"lines": [{"line_id": order["lines"][0]["id"], "accept": True}, {"line_id": order["lines"][1]["id"], "accept": False}]},
        headers=zh,
    )
    assert missing_reason.status_code == 400
    assert list(missing_reason.json()["error"]["fields"]) == ["lines.1.reason"]
    assert any("\u4e00" <= char <= "\u9fff" for char in missing_reason.json()["error"]["fields"]["lines.1.reason"])
    one_only = client.post(
        f"/api/v1/orders/{order['id']}/answers", json={"lines": [{"line_id": order["lines"][0]["id"], "accept": True}]}, headers=zh
    )
    assert list(one_only.json()["error"]["fields"]) == ["lines"]
    stranger = client.post(
        f"/api/v1/orders/{order['id']}/answers",
        json={"lines": [{"line_id": shop.part_id, "accept": True}, {"line_id": order["lines"][1]["id"], "accept": True}]},
        headers=zh,
    )
    assert list(stranger.json()["error"]["fields"]) == ["lines.0.line_id"]
    assert _answer(client, shop, order, [(True, ""), (True, "")], who="supplier_operator").status_code == 403
    assert _answer(client, shop, order, [(True, ""), (True, "")], who="planner").status_code == 403
    unchanged = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()
    assert unchanged["status"] == "issued"
    assert [line["answer"] for line in unchanged["lines"]] == ["", ""]


def test_the_supplier_answers_line_by_line_on_its_phone_page(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop, lines=2)
    headers = page_headers(client, api_token(client, shop.world.accounts["supplier_admin"], shop.world.slug))
    shown = client.get(f"/orders/{order['id']}", headers=headers)
    assert f'action="/orders/{order["id"]}/answers"' in shown.text
    form = {
        "_csrf_token": headers["x-csrftoken"],
        "version": str(order["version"]),
        f"answer-{order['lines'][0]['id']}": "accept",
        f"answer-{order['lines'][1]['id']}": "decline",
        f"reason-{order['lines'][1]['id']}": "",
    }
    refused = client.post(f"/orders/{order['id']}/answers", data=form, headers=headers)
    assert refused.status_code == 400
    form[f"reason-{order['lines'][1]['id']}"] = "heat treatment furnace down"
    sent = client.post(f"/orders/{order['id']}/answers", data=form, headers=headers, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    result = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()
    assert [line["answer"] for line in result["lines"]] == ["accepted", "declined"]
