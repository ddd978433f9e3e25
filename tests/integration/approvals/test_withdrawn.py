"""A request waits on a record as it was when asked: when the record is
edited, cancelled or closed meanwhile, the request is withdrawn (with the
reason, in the reader's language) instead of approving what nobody asked
for or waiting forever for a decision that can only be refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.integration.quality.test_ncr_owner_and_concession import _dispose
from tests.integration.quality.test_ncrs import _get, _issued
from tests.support.factories import api_token, page_headers


def _rule(client: Any, shop: OrderWorld, kind: str, **extra: str) -> None:
    saved = client.put("/api/v1/settings/approvals", json=[{"kind": kind, "approver_role": "admin", **extra}], headers=shop.as_("admin"))
    assert saved.status_code == 200, saved.text


def _request(client: Any, shop: OrderWorld, request_id: str, language: str = "en") -> dict[str, Any]:
    return dict(client.get(f"/api/v1/approvals/{request_id}", headers={**shop.as_("admin"), "accept-language": language}).json())


def _only_request(client: Any, shop: OrderWorld, record_id: str) -> dict[str, Any]:
    [found] = [
        item for item in client.get("/api/v1/approvals", headers=shop.as_("admin")).json()["items"] if item["record_id"] == record_id
    ]
    return dict(found)


def _decide(client: Any, shop: OrderWorld, request_id: str) -> Any:
    return client.post(f"/api/v1/approvals/{request_id}/decision", json={"approve": True}, headers=shop.as_("admin"))


def test_an_order_edited_while_its_issue_waits_is_not_issued_as_edited(client: Any, shop: OrderWorld) -> None:
    _rule(client, shop, "order.issue", threshold="100")
    order = draft(client, shop)  # 100 x 12.50
    held = fire(client, shop, order["id"], "planner", "issue").json()
    assert held["awaiting_approval"] == ["order.issue"]
    request = _only_request(client, shop, order["id"])
    line = held["lines"][0]
    bigger = {
        "version": held["version"],
        "lines": [{**{k: line[k] for k in ("id", "item_id", "due_date")}, "quantity": "100000", "unit_price": "99.00"}],
    }
    edited = client.patch(f"/api/v1/orders/{order['id']}", json=bigger, headers=shop.as_("planner"))
    assert edited.status_code == 200, edited.text
    assert edited.json()["awaiting_approval"] == []

    withdrawn = _request(client, shop, request["id"])
    assert (withdrawn["status"], withdrawn["decided_by"]) == ("withdrawn", None)
    assert "changed while this waited" in withdrawn["comment"]
    assert "记录" in _request(client, shop, request["id"], "zh-CN")["comment"]
    refused = _decide(client, shop, request["id"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "approval_decided")
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["status"] == "draft"
    pending = client.get("/api/v1/approvals", params={"status": "pending"}, headers=shop.as_("admin")).json()["items"]
    assert pending == []
    # Issuing again asks again, for the order as it is now.
    again = fire(client, shop, order["id"], "planner", "issue").json()
    assert again["awaiting_approval"] == ["order.issue"]
    [fresh] = client.get("/api/v1/approvals", params={"status": "pending"}, headers=shop.as_("admin")).json()["items"]
    assert fresh["amount"] == "9900000"
    assert _decide(client, shop, fresh["id"]).status_code == 200
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["status"] == "issued"
    trail = client.get("/api/v1/audit-events", params={"entity_type": "order", "entity_id": order["id"]}, headers=shop.as_("admin")).json()
    assert "approval.withdrawn" in [event["action"] for event in trail["items"]]


def test_a_cancelled_order_withdraws_what_waited_on_it_and_the_page_says_so(client: Any, shop: OrderWorld) -> None:
    _rule(client, shop, "order.issue")
    order = draft(client, shop)
    fire(client, shop, order["id"], "planner", "issue")
    request = _only_request(client, shop, order["id"])
    cancelled = fire(client, shop, order["id"], "planner", "cancel", reason="customer dropped it")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["awaiting_approval"] == []
    assert _request(client, shop, request["id"])["status"] == "withdrawn"
    admin = page_headers(client, api_token(client, shop.world.accounts["admin"], shop.world.slug))
    page = client.get(f"/approvals/{request['id']}", headers=admin)
    assert page.status_code == 200
    assert "/decision" not in page.text
    assert "已撤回" in page.text or "Withdrawn" in page.text
    assert "None" not in page.text


def test_a_price_increase_is_withdrawn_by_a_later_change_of_the_order(client: Any, shop: OrderWorld) -> None:
    _rule(client, shop, "order.price_increase")
    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    line = order["lines"][0]
    kept = {k: line[k] for k in ("id", "item_id", "quantity", "due_date")}
    dearer = {"version": order["version"], "reason": "alloy surcharge", "lines": [{**kept, "unit_price": "13.10"}]}
    held = client.patch(f"/api/v1/orders/{order['id']}", json=dearer, headers=shop.as_("planner")).json()
    assert held["awaiting_approval"] == ["order.price_increase"]
    request = _only_request(client, shop, order["id"])
    later = {
        "version": held["version"],
        "reason": "one day later",
        "lines": [{**kept, "unit_price": "12.50", "due_date": line["due_date"]}],
    }
    later["notes_shared"] = "Pack in crates"
    changed = client.patch(f"/api/v1/orders/{order['id']}", json=later, headers=shop.as_("planner"))
    assert changed.status_code == 200, changed.text
    assert _request(client, shop, request["id"])["status"] == "withdrawn"
    assert _decide(client, shop, request["id"]).status_code == 409
    assert Decimal(client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["lines"][0]["unit_price"]) == Decimal(
        "12.50"
    )


def test_a_cancelled_ncr_withdraws_its_waiting_concession(client: Any, shop: OrderWorld) -> None:
    ncr = _issued(client, shop)
    _rule(client, shop, "ncr.concession")
    held = _dispose(client, shop, ncr, kind="use_as_is", quantity="2", note="Deviation D-2 by design")
    assert held.status_code == 202, held.text
    request_id = held.json()["approval_id"]
    current = _get(client, shop, ncr["id"]).json()
    cancelled = client.post(
        f"/api/v1/ncrs/{ncr['id']}/cancel",
        json={"comment": "raised on the wrong lot", "version": current["version"]},
        headers=shop.as_("qa"),
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["awaiting_approval"] == []
    withdrawn = _request(client, shop, request_id)
    assert withdrawn["status"] == "withdrawn"
    assert "closed or cancelled" in withdrawn["comment"]
    assert _decide(client, shop, request_id).status_code == 409


async def _edited_behind_the_request(order_id: str) -> None:
    """What an edit racing the decision leaves: the order's version moved,
    the request still pending (its withdrawal not yet committed)."""
    from portal.orders.tables import Order
    from tenants.context import system_scope

    async with system_scope("approvals-test"):
        await Order.update({Order.version: Order.version + 1}).where(Order.id == order_id)


def test_an_approval_meeting_an_order_changed_since_it_was_asked_decides_nothing(client: Any, run: Any, shop: OrderWorld) -> None:
    _rule(client, shop, "order.issue")
    order = draft(client, shop)
    fire(client, shop, order["id"], "planner", "issue")
    request = _only_request(client, shop, order["id"])
    run(_edited_behind_the_request, order["id"])
    refused = _decide(client, shop, request["id"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "stale_order")
    assert _request(client, shop, request["id"])["status"] == "pending"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()["status"] == "draft"
