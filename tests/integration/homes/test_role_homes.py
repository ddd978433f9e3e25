"""Each role's home lists what waits for it: the planner's unacknowledged
changes, late work and unanswered messages; QA's review queue and deliveries
to inspect; finance's statements; the admin's pending invitations; and a
supplier operator is not asked to accept orders, which only its admin may."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.integration.conversations.test_threads import _issued, _sides
from tests.integration.orders.conftest import OrderWorld, due
from tests.support.factories import page_headers


def _home(client: Any, shop: OrderWorld, who: str) -> str:
    token = shop.as_(who)["authorization"].removeprefix("Bearer ")
    return str(client.get("/", headers={**page_headers(client, token), "accept-language": "en"}).text)


def _section(page: str, heading: str) -> str:
    assert heading in page, f"no section {heading!r}"
    rest = page[page.index(heading) :]
    return rest[: rest.index("</section>")]


def test_the_planner_starts_with_changes_late_work_and_unanswered_messages(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    changed = client.patch(
        f"/api/v1/orders/{order['id']}",
        json={"version": 2, "reason": "earlier date", "lines": [{**_line(order), "due_date": due(5)}]},
        headers=shop.as_("planner"),
    )
    assert changed.status_code == 200, changed.text
    thread = _sides(client, shop, "supplier_operator", order["id"])["shared"]["id"]
    asked = {"body": "Which drawing revision?", "client_id": str(uuid4())}
    assert client.post(f"/api/v1/threads/{thread}/messages", json=asked, headers=shop.as_("supplier_operator")).status_code == 201

    home = _home(client, shop, "planner")
    assert order["number"] in _section(home, "Changes the supplier has not acknowledged")
    assert "Which drawing revision?" in _section(home, "Unanswered messages")
    assert "Discrepancies on receipt" in home
    assert "Due this week" in home
    # Once the planner answers, nothing waits any more.
    answer = {"body": "Rev C", "client_id": str(uuid4())}
    assert client.post(f"/api/v1/threads/{thread}/messages", json=answer, headers=shop.as_("planner")).status_code == 201
    assert "Which drawing revision?" not in _section(_home(client, shop, "planner"), "Unanswered messages")
    # Now the supplier owes the answer: it waits on its home.
    assert "Rev C" in _section(_home(client, shop, "supplier_operator"), "Unanswered messages")


def _line(order: dict[str, Any]) -> dict[str, Any]:
    line = order["lines"][0]
    return {key: line[key] for key in ("id", "item_id", "quantity", "unit_price", "due_date")}


def test_qa_finance_and_admin_each_see_their_own_queue(client: Any, shop: OrderWorld) -> None:
    qa = _home(client, shop, "qa")
    assert "QC documents to review" in qa
    assert "Deliveries to inspect" in qa
    assert "Changes the supplier has not acknowledged" not in qa
    finance = _home(client, shop, "finance")
    assert "Disputed statements" in finance
    assert "QC documents to review" not in finance
    invited = client.post(
        "/api/v1/invitations", json={"email": f"new.{uuid4().hex[:6]}@test.example", "role": "qa"}, headers=shop.as_("admin")
    )
    assert invited.status_code == 201, invited.text
    admin = _home(client, shop, "admin")
    assert invited.json()["email"] in _section(admin, "Invitations pending")
    assert 'href="/admin/progress-stages"' in admin


def test_a_supplier_operator_is_not_asked_to_accept_orders(client: Any, shop: OrderWorld) -> None:
    order = _issued(client, shop)
    operator = _home(client, shop, "supplier_operator")
    assert "New orders to accept" not in operator
    assert "Changes to acknowledge" not in operator
    boss = _home(client, shop, "supplier_admin")
    assert order["number"] in _section(boss, "New orders to accept")
