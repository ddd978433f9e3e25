"""Lists never cut silently (docs/architecture.md): a list longer than its
page offers the rest (a link on the page, ``next`` on the API), and a list
that shows only its first rows says so. Each test seeds one row more than
the page or cap, through the app, and reaches the last row."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from portal.progress.services import API_PAGE, WORK_PAGE
from tests.integration.deliveries.conftest import create, receive
from tests.integration.orders.conftest import OrderWorld, due, fire, shop
from tests.integration.progress.conftest import report
from tests.support.factories import page_headers

__all__ = ["shop"]

LINE_LINK = re.compile(r'href="/progress/lines/([0-9a-f-]{36})"')
MORE = re.compile(r'href="/progress\?cursor=([^"]+)"')


def _page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    token = shop.as_(who)["authorization"].removeprefix("Bearer ")
    return {**page_headers(client, token), "accept-language": "en"}


def _order(client: Any, shop: OrderWorld, lines: int, days: int, supplier: int = 0) -> dict[str, Any]:
    """An order of ``lines`` lines of 10 pieces, issued and (for the first
    supplier) accepted."""
    body = {
        "supplier_id": str(shop.world.supplier_ids[supplier]),
        "lines": [{"item_id": shop.part_id, "quantity": "10", "unit_price": "1.00", "due_date": due(days)} for _ in range(lines)],
    }
    order = client.post("/api/v1/orders", json=body, headers=shop.as_("planner"))
    assert order.status_code == 201, order.text
    assert fire(client, shop, order.json()["id"], "planner", "issue").status_code == 200
    if supplier:
        return dict(order.json())
    accepted = fire(client, shop, order.json()["id"], "supplier_admin", "accept")
    assert accepted.status_code == 200, accepted.text
    return dict(accepted.json())


def test_open_work_pages_past_closed_lines_to_the_last_open_line(client: Any, shop: OrderWorld) -> None:
    # The soonest order: its first line fully delivered (closed), its second
    # open. Then one order holding the rest: WORK_PAGE + 1 open lines in all.
    first = _order(client, shop, 2, days=1)
    notice = create(client, shop, first, "10")
    assert notice.status_code == 201, notice.text
    assert receive(client, shop, notice.json(), ("10", "0", "")).status_code == 200
    rest = _order(client, shop, WORK_PAGE, days=2)
    closed, still_open = (line["id"] for line in first["lines"])
    last = rest["lines"][-1]["id"]

    headers = _page(client, shop, "supplier_operator")
    page = client.get("/progress", headers=headers)
    assert page.status_code == 200
    shown = LINE_LINK.findall(page.text)
    # The closed line takes no place: the page is full of open lines.
    assert len(shown) == WORK_PAGE
    assert closed not in shown
    assert shown[0] == still_open
    assert last not in shown
    more = MORE.search(page.text)
    assert more is not None, "a cut list offers the rest"

    following = client.get(f"/progress?cursor={more.group(1)}", headers=headers)
    assert following.status_code == 200
    assert LINE_LINK.findall(following.text) == [last]
    assert MORE.search(following.text) is None
    assert "These are the last open lines." in following.text

    # The home page lists the first WORK_PAGE lines due this week and says
    # how many there are.
    home = client.get("/", headers=headers)
    assert home.status_code == 200
    assert f"Showing the first {WORK_PAGE} of {WORK_PAGE + 1}." in home.text
    assert 'href="/progress">All open work' in home.text


def test_a_cursor_naming_another_suppliers_line_reveals_nothing(client: Any, shop: OrderWorld) -> None:
    mine = _order(client, shop, 1, days=3)
    theirs = _order(client, shop, 1, days=3, supplier=1)
    headers = _page(client, shop, "supplier_operator")
    foreign = client.get(f"/progress?cursor={theirs['lines'][0]['id']}", headers=headers)
    unknown = client.get(f"/progress?cursor={uuid4()}", headers=headers)
    assert foreign.status_code == unknown.status_code == 400
    assert theirs["number"] not in foreign.text
    assert foreign.text.replace(theirs["lines"][0]["id"], "X") == unknown.text.replace(unknown.url.query.decode().split("=")[1], "X")
    # Its own line is a cursor like any other: the page after it is empty here.
    after_mine = client.get(f"/progress?cursor={mine['lines'][0]['id']}", headers=headers)
    assert after_mine.status_code == 200
    assert LINE_LINK.findall(after_mine.text) == []


def test_the_buyers_progress_feed_reaches_the_oldest_report(client: Any, shop: OrderWorld) -> None:
    order = _order(client, shop, 1, days=5)
    line_id = order["lines"][0]["id"]
    made = []
    for minute in range(API_PAGE + 1):
        sent = report(client, shop, line_id, good_quantity="0", made_at=f"2026-11-20T01:{minute // 60:02d}:{minute % 60:02d}Z")
        assert sent.status_code == 201, sent.text
        made.append(sent.json()["id"])
    oldest = made[0]

    headers = _page(client, shop, "planner")
    page = client.get("/progress", headers=headers)
    assert page.status_code == 200
    assert page.text.count('class="card report"') == API_PAGE
    older = MORE.search(page.text)
    assert older is not None
    rest = client.get(f"/progress?cursor={older.group(1)}", headers=headers)
    assert rest.status_code == 200
    assert rest.text.count('class="card report"') == 1
    assert MORE.search(rest.text) is None

    api = client.get("/api/v1/progress-reports", headers=shop.as_("planner")).json()
    assert len(api["items"]) == API_PAGE
    assert api["next"]
    tail = client.get("/api/v1/progress-reports", params={"cursor": api["next"]}, headers=shop.as_("planner")).json()
    assert [item["id"] for item in tail["items"]] == [oldest]
    assert tail["next"] is None
