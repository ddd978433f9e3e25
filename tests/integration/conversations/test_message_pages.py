"""Paging a thread's messages by their number (``Message.seq``, commit
order), never by time: when several share one ``created_at`` (an import, a
coarse clock) or one committed late carries an earlier time, every message
is on exactly one page, in the order the record's page shows them, on
SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from portal.conversations import services
from portal.conversations.tables import Message
from tenants.context import system_scope
from tests.integration.conversations.test_threads import _issued, _send, _sides
from tests.integration.orders.conftest import OrderWorld
from tests.support.factories import page_headers

# Three a page: seven messages, the 2nd to the 6th at one instant, so that
# both page boundaries (after the 3rd and the 6th) fall inside the tie.
PAGE = 3


async def _same_instant(ids: list[str], at: datetime) -> None:
    async with system_scope("test-same-instant"):
        await Message.update({Message.created_at: at}).where(Message.id.is_in([UUID(key) for key in ids]))


def _pages(client: Any, shop: OrderWorld, who: str, thread_id: str) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        params: dict[str, str] = {"cursor": cursor} if cursor else {}
        response = client.get(f"/api/v1/threads/{thread_id}/messages", params=params, headers=shop.as_(who))
        assert response.status_code == 200, response.text
        pages.append([item["body"] for item in response.json()["items"]])
        cursor = response.json()["next"]
        if cursor is None:
            return pages
        assert len(pages) < 10, "the cursor does not move on"


def test_messages_sharing_one_instant_are_each_on_exactly_one_page(
    client: Any, shop: OrderWorld, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "PAGE_SIZE", PAGE)
    order = _issued(client, shop)
    thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
    sent = []
    for number in range(7):
        response = _send(client, shop, "planner" if number % 2 else "supplier_operator", thread, f"message {number}")
        assert response.status_code == 201, response.text
        sent.append(response.json())
    # The instant the 2nd was made: still after the 1st, before the 7th.
    run(_same_instant, [message["id"] for message in sent[1:6]], datetime.fromisoformat(sent[1]["created_at"]))
    # Within the instant the order they were sent in decides, as on the record's page.
    expected = [f"message {number}" for number in range(7)]

    for who in ("planner", "supplier_operator"):
        pages = _pages(client, shop, who, thread)
        assert [len(page) for page in pages] == [3, 3, 1]
        assert [body for page in pages for body in page] == expected

    # The record's page shows the newest PAGE_SIZE in the same order.
    page = page_headers(client, shop.as_("planner")["authorization"].removeprefix("Bearer "))
    block = client.get("/conversations", params={"record_type": "order", "record_id": order["id"]}, headers=page).text
    shared = block.split(f'id="thread-{thread}"', 1)[1].split('class="thread ', 1)[0]
    assert re.findall(r'<p class="message-body">(message \d)</p>', shared) == expected[-PAGE:]


def test_a_message_committed_late_with_an_earlier_time_is_on_the_next_page(
    client: Any, shop: OrderWorld, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "PAGE_SIZE", PAGE)
    order = _issued(client, shop)
    thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
    sent = [_send(client, shop, "planner", thread, f"message {number}").json() for number in range(4)]
    first = client.get(f"/api/v1/threads/{thread}/messages", headers=shop.as_("supplier_operator")).json()
    assert [item["body"] for item in first["items"]] == ["message 0", "message 1", "message 2"]
    # Made while the 2nd was being made, committed after the reader's first page.
    late = _send(client, shop, "supplier_operator", thread, "late").json()
    run(_same_instant, [late["id"]], datetime.fromisoformat(sent[1]["created_at"]))
    rest = client.get(f"/api/v1/threads/{thread}/messages", params={"cursor": first["next"]}, headers=shop.as_("supplier_operator"))
    assert rest.status_code == 200, rest.text
    assert [item["body"] for item in rest.json()["items"]] == ["message 3", "late"]
    assert [item["seq"] for item in first["items"] + rest.json()["items"]] == [1, 2, 3, 4, 5]


def test_a_cursor_of_the_form_handed_out_before_still_reads(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
    first = _send(client, shop, "planner", thread, "first").json()
    assert _send(client, shop, "planner", thread, "second").status_code == 201
    # A time and an id: resumes after that message.
    legacy = client.get(
        f"/api/v1/threads/{thread}/messages", params={"cursor": f"{first['created_at']}|{first['id']}"}, headers=shop.as_("planner")
    )
    assert legacy.status_code == 200, legacy.text
    assert [item["body"] for item in legacy.json()["items"]] == ["second"]


def test_a_cursor_of_a_time_alone_still_reads_and_a_bad_one_is_refused(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
    first = _send(client, shop, "planner", thread, "first").json()
    assert _send(client, shop, "planner", thread, "second").status_code == 201
    # The form handed out before the id joined it: resumes after that instant.
    legacy = client.get(f"/api/v1/threads/{thread}/messages", params={"cursor": first["created_at"]}, headers=shop.as_("planner"))
    assert legacy.status_code == 200, legacy.text
    assert [item["body"] for item in legacy.json()["items"]] == ["second"]
    for bad in ("yesterday", "2026-03-02T08:30:00|not-an-id", "2026-03-02T08:30:00", "-1", "1.5", f"2026-03-02T08:30:00+00:00|{uuid4()}"):
        for language, text in (("en", "This page link is not valid."), ("zh-CN", "此分页链接无效。")):
            refused = client.get(
                f"/api/v1/threads/{thread}/messages", params={"cursor": bad}, headers={**shop.as_("planner"), "accept-language": language}
            )
            assert refused.status_code == 400, refused.text
            assert refused.json()["error"]["fields"]["cursor"] == text
