"""Threads on a record over the API: sides and who sees them, messages with
mentions, a retried send stored once, read markers, bad input refused in
both languages with nothing stored, and the audit of each message."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.integration.orders.conftest import OrderWorld, draft, fire


def _threads(client: Any, shop: OrderWorld, who: str, record_type: str, record_id: str) -> Any:
    return client.get("/api/v1/threads", params={"record_type": record_type, "record_id": record_id}, headers=shop.as_(who))


def _sides(client: Any, shop: OrderWorld, who: str, order_id: str) -> dict[str, dict[str, Any]]:
    response = _threads(client, shop, who, "order", order_id)
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    return {thread["side"]: thread for thread in response.json()["items"]}


def _send(client: Any, shop: OrderWorld, who: str, thread_id: str, body: str, **extra: Any) -> Any:
    payload = {"body": body, "client_id": str(uuid4()), **extra}
    return client.post(f"/api/v1/threads/{thread_id}/messages", json=payload, headers={**shop.as_(who), "accept-language": "en"})


def _issued(client: Any, shop: OrderWorld) -> dict[str, Any]:
    order = draft(client, shop)
    assert fire(client, shop, order["id"], "planner", "issue").status_code == 200
    return order


def test_buyer_and_supplier_talk_on_the_shared_side_and_the_buyer_alone_on_the_internal(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    buyer = _sides(client, shop, "planner", order["id"])
    assert set(buyer) == {"shared", "internal"}
    supplier = _sides(client, shop, "supplier_operator", order["id"])
    assert set(supplier) == {"shared"}
    assert supplier["shared"]["id"] == buyer["shared"]["id"], "one thread per record and side, whoever opens it first"

    operator = shop.world.accounts["supplier_operator"]
    asked = _send(client, shop, "planner", buyer["shared"]["id"], "Heat treatment on schedule? @operator", mentions=[str(operator.user_id)])
    assert asked.status_code == 201, asked.text
    assert [mention["user_id"] for mention in asked.json()["mentions"]] == [str(operator.user_id)]
    note = _send(client, shop, "qa", buyer["internal"]["id"], "Supplier was late twice this year")
    assert note.status_code == 201, note.text

    # The supplier reads the question, never the internal note, and has one unread.
    assert _sides(client, shop, "supplier_operator", order["id"])["shared"]["unread"] == 1
    seen = client.get(f"/api/v1/threads/{buyer['shared']['id']}/messages", headers=shop.as_("supplier_operator")).json()
    assert [item["body"] for item in seen["items"]] == ["Heat treatment on schedule? @operator"]
    assert seen["next"] is None
    # Listing is a safe GET: the client marks the thread read when its person has read it.
    assert _sides(client, shop, "supplier_operator", order["id"])["shared"]["unread"] == 1
    marked = client.post(f"/api/v1/threads/{buyer['shared']['id']}/read", headers=shop.as_("supplier_operator"))
    assert marked.status_code == 200, marked.text
    assert (marked.json()["id"], marked.json()["unread"]) == (buyer["shared"]["id"], 0)
    assert _sides(client, shop, "supplier_operator", order["id"])["shared"]["unread"] == 0
    assert _sides(client, shop, "planner", order["id"])["shared"]["unread"] == 0, "the planner wrote it"
    assert client.post(f"/api/v1/threads/{buyer['internal']['id']}/read", headers=shop.as_("supplier_operator")).status_code == 404
    internal = client.get(f"/api/v1/threads/{buyer['internal']['id']}/messages", headers=shop.as_("supplier_operator"))
    assert internal.status_code == 404
    assert _send(client, shop, "supplier_operator", buyer["internal"]["id"], "let me in").status_code == 404
    # Another supplier of the same buyer sees neither the order nor its thread.
    assert _threads(client, shop, "other_supplier_admin", "order", order["id"]).status_code == 404
    assert client.get(f"/api/v1/threads/{buyer['shared']['id']}/messages", headers=shop.as_("other_supplier_admin")).status_code == 404

    answer = _send(client, shop, "supplier_operator", buyer["shared"]["id"], "Slipped one day, ships Friday")
    assert answer.status_code == 201
    assert answer.json()["author_side"] == "supplier"
    assert _sides(client, shop, "planner", order["id"])["shared"]["unread"] == 1


def test_a_retried_send_is_stored_once(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    thread = _sides(client, shop, "supplier_operator", order["id"])["shared"]
    payload = {"body": "Drawing rev B or C?", "client_id": str(uuid4())}
    first = client.post(f"/api/v1/threads/{thread['id']}/messages", json=payload, headers=shop.as_("supplier_operator"))
    again = client.post(f"/api/v1/threads/{thread['id']}/messages", json=payload, headers=shop.as_("supplier_operator"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    items = client.get(f"/api/v1/threads/{thread['id']}/messages", headers=shop.as_("planner")).json()["items"]
    assert [item["body"] for item in items] == ["Drawing rev B or C?"]


def test_bad_messages_are_refused_in_the_callers_language_and_nothing_is_stored(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    sides = _sides(client, shop, "planner", order["id"])
    shared, internal = sides["shared"]["id"], sides["internal"]["id"]
    empty = _send(client, shop, "planner", shared, "   ")
    assert empty.status_code == 400
    assert empty.json()["error"]["fields"]["body"] == "Write a message."
    zh = client.post(f"/api/v1/threads/{shared}/messages", json={"body": ""}, headers={**shop.as_("planner"), "accept-language": "zh-CN"})
    assert zh.json()["error"]["fields"]["body"] == "请输入消息内容。"
    long = _send(client, shop, "planner", shared, "x" * 4001)
    assert long.status_code == 400
    assert "4000" in long.json()["error"]["fields"]["body"]
    huge = _send(client, shop, "planner", shared, "x" * (10 * 1024 * 1024))
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "too_large"
    # The operator may not read the internal side: mentioning them there is refused.
    operator = shop.world.accounts["supplier_operator"]
    hidden = _send(client, shop, "planner", internal, "ask them", mentions=[str(operator.user_id)])
    assert hidden.status_code == 400
    assert hidden.json()["error"]["fields"]["mentions"] == "You can only mention people who can see this record."
    # Nor the other supplier's admin on the shared side.
    other = shop.world.accounts["other_supplier_admin"]
    assert _send(client, shop, "planner", shared, "ask them", mentions=[str(other.user_id)]).status_code == 400
    for thread in (shared, internal):
        assert client.get(f"/api/v1/threads/{thread}/messages", headers=shop.as_("planner")).json()["items"] == []
    # A record of no kind, and a draft order the supplier cannot see.
    assert _threads(client, shop, "planner", "invoice", order["id"]).status_code == 400
    hidden_order = draft(client, shop)
    assert _threads(client, shop, "supplier_admin", "order", hidden_order["id"]).status_code == 404


def test_every_message_is_audited(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    thread = _sides(client, shop, "planner", order["id"])["shared"]
    sent = _send(client, shop, "planner", thread["id"], "Please confirm the lot numbers")
    events = client.get(
        "/api/v1/audit-events", params={"entity_type": "conversation_message", "entity_id": sent.json()["id"]}, headers=shop.as_("admin")
    ).json()["items"]
    assert [event["action"] for event in events] == ["message.posted"]
    assert events[0]["after"]["body"] == "Please confirm the lot numbers"


def test_a_mention_and_a_reply_reach_people_by_email_in_their_language(client: Any, shop: OrderWorld, run: Any, var_dir: Any) -> None:
    from portal.jobs.runner import run_due_jobs
    from tests.support.factories import outbox_to

    order = _issued(client, shop)
    thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
    operator, planner = shop.world.accounts["supplier_operator"], shop.world.accounts["planner"]
    assert _send(client, shop, "planner", thread, "Can you send the CMM report?", mentions=[str(operator.user_id)]).status_code == 201
    assert _send(client, shop, "supplier_operator", thread, "Tomorrow morning").status_code == 201
    run(run_due_jobs)
    mention = [mail for mail in outbox_to(var_dir, operator.email) if "#conversation" in _text(mail)]
    assert len(mention) == 1
    assert "Can you send the CMM report?" in _text(mention[0])
    assert f"/orders/{order['id']}#conversation" in _text(mention[0])
    reply = [mail for mail in outbox_to(var_dir, planner.email) if "#conversation" in _text(mail)]
    assert len(reply) == 1
    assert "Tomorrow morning" in _text(reply[0])
    # The tenant speaks Chinese unless the person chose otherwise.
    assert "提到了你" in str(mention[0]["Subject"])


def _text(mail: Any) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content())
