"""The conversation block on a record's page: both sides for the buyer, the
shared side for the supplier, a message with a photo posted from the form
through the documents intake, and a refused message keeping its text."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.integration.conversations.test_threads import _issued, _sides
from tests.integration.orders.conftest import OrderWorld
from tests.support.documents.samples import png
from tests.support.factories import page_headers


def _page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    token = shop.as_(who)["authorization"].removeprefix("Bearer ")
    return {**page_headers(client, token), "accept-language": "en"}


def test_the_supplier_answers_with_a_photo_from_the_page(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    planner, operator = _page(client, shop, "planner"), _page(client, shop, "supplier_operator")
    page = client.get(f"/orders/{order['id']}", headers=operator).text
    assert f'hx-get="/conversations?record_type=order&amp;record_id={order["id"]}"' in page
    block = client.get("/conversations", params={"record_type": "order", "record_id": order["id"]}, headers=planner).text
    assert "With the supplier" in block
    assert "Internal notes (buyer only)" in block
    block = client.get("/conversations", params={"record_type": "order", "record_id": order["id"]}, headers=operator).text
    assert "With the supplier" in block
    assert "Internal notes" not in block

    thread = _sides(client, shop, "supplier_operator", order["id"])["shared"]["id"]
    form = {"_csrf_token": operator["x-csrftoken"], "body": "Furnace repaired, see photo", "client_id": str(uuid4())}
    files = {"file": ("furnace.png", png(), "image/png")}
    sent = client.post(f"/conversations/{thread}/messages", data=form, files=files, headers=operator, follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, f"/orders/{order['id']}#conversation")
    again = client.post(f"/conversations/{thread}/messages", data=form, files=files, headers=operator, follow_redirects=False)
    assert again.status_code == 303
    items = client.get(f"/api/v1/threads/{thread}/messages", headers=shop.as_("planner")).json()["items"]
    assert [item["body"] for item in items] == ["Furnace repaired, see photo"], "a resent form is stored once"
    assert [file["category"] for file in items[0]["attachments"]] == ["photo"]
    block = client.get("/conversations", params={"record_type": "order", "record_id": order["id"]}, headers=planner).text
    assert f'href="/documents/{items[0]["attachments"][0]["id"]}"' in block

    # htmx: a refused message comes back in the block with its text and the reason.
    empty = {"_csrf_token": planner["x-csrftoken"], "body": " ", "client_id": str(uuid4())}
    no_file = {"file": ("", b"", "application/octet-stream")}
    refused = client.post(f"/conversations/{thread}/messages", data=empty, files=no_file, headers={**planner, "hx-request": "true"})
    assert refused.status_code == 200
    assert "Write a message." in refused.text


def test_the_page_marks_what_it_has_shown_read_with_a_post_and_shows_the_newest_messages(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    operator = _page(client, shop, "supplier_operator")
    thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
    params = {"record_type": "order", "record_id": order["id"]}

    def send(body: str) -> None:
        sent = client.post(
            f"/api/v1/threads/{thread}/messages", json={"body": body, "client_id": str(uuid4())}, headers=shop.as_("planner")
        )
        assert sent.status_code == 201, sent.text

    send("Which drawing revision?")
    first = client.get("/conversations", params=params, headers=operator).text
    assert first.count('class="badge new-message"') == 1
    assert f'hx-post="/conversations/{thread}/read?through=1"' in first
    assert _sides(client, shop, "supplier_operator", order["id"])["shared"]["unread"] == 1, "a GET marks nothing read"
    # The block posts that its person has read what it showed.
    read = client.post(f"/conversations/{thread}/read", headers=operator)
    assert read.status_code == 204, read.text
    assert _sides(client, shop, "supplier_operator", order["id"])["shared"]["unread"] == 0
    again = client.get("/conversations", params=params, headers=operator).text
    assert "new-message" not in again
    assert "/read" not in again, "nothing new: nothing to mark"
    other = _page(client, shop, "other_supplier_admin")
    assert client.post(f"/conversations/{thread}/read", headers=other).status_code == 404

    # A long thread shows its newest messages, the oldest left to the API.
    for index in range(50):
        send(f"Update {index:02d}")
    block = client.get("/conversations", params=params, headers=operator).text
    assert "Which drawing revision?" not in block
    assert "Update 49" in block
    assert "Only the latest 50 messages are shown." in block
    assert block.count('class="badge new-message"') == 50
