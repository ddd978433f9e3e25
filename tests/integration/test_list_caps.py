"""Lists never cut silently (docs/architecture.md): a list longer than its
page offers the rest (a link on the page, ``next`` on the API), and a list
that shows only its first rows says so. Each test seeds one row more than
the page or cap, through the app, and reaches the last row."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from portal.deliveries.services import MAX_TO_RECEIVE
from portal.items.services import ITEM_PAGE
from portal.orders.services import PAGE_SIZE as ORDER_PAGE
from portal.progress.services import API_PAGE, WORK_PAGE
from portal.quality.lot_use import CHOICES
from portal.quality.trace import LIMIT as TRACE_LIMIT
from tests.integration.conversations.test_read_order import _context, _scope
from tests.integration.conversations.test_threads import _issued, _send, _sides
from tests.integration.deliveries.conftest import accepted_order, create, receive, sent_dispatch
from tests.integration.orders.conftest import OrderWorld, due, fire, shop
from tests.integration.progress.conftest import report
from tests.support.factories import api_token, bearer, make_world, page_headers

__all__ = ["shop"]

LINE_LINK = re.compile(r'href="/progress/lines/([0-9a-f-]{36})"')
MORE = re.compile(r'href="/progress\?cursor=([^"]+)"')


def _page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    token = shop.as_(who)["authorization"].removeprefix("Bearer ")
    return {**page_headers(client, token), "accept-language": "en"}


def _order(client: Any, shop: OrderWorld, lines: int, days: int, supplier: int = 0, accept: bool = True) -> dict[str, Any]:
    """An order of ``lines`` lines of 10 pieces, issued and (for the first
    supplier, unless ``accept`` is False) accepted."""
    body = {
        "supplier_id": str(shop.world.supplier_ids[supplier]),
        "lines": [{"item_id": shop.part_id, "quantity": "10", "unit_price": "1.00", "due_date": due(days)} for _ in range(lines)],
    }
    order = client.post("/api/v1/orders", json=body, headers=shop.as_("planner"))
    assert order.status_code == 201, order.text
    assert fire(client, shop, order.json()["id"], "planner", "issue").status_code == 200
    if supplier or not accept:
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


def test_threads_waiting_behind_answered_ones_are_found_and_counted(client: Any, run: Any, shop: OrderWorld) -> None:
    # Two threads wait for the planner; five newer ones the planner answered
    # last. The home read the newest limit * 5 threads and filtered after.
    threads = []
    for index in range(7):
        order = _issued(client, shop)
        thread = _sides(client, shop, "planner", order["id"])["shared"]["id"]
        assert _send(client, shop, "supplier_operator", thread, f"Question {index}").status_code == 201
        if index >= 2:
            assert _send(client, shop, "planner", thread, f"Answer {index}").status_code == 201
        threads.append(thread)

    async def waiting(limit: int) -> tuple[list[str], int]:
        from portal.conversations import services

        async with _scope(await _context(shop, "planner")):
            found = await services.unanswered(limit=limit)
        return [str(item.thread_id) for item in found], found.total

    assert run(waiting, 1) == ([threads[1]], 2)
    assert run(waiting, 20) == ([threads[1], threads[0]], 2)


def test_the_item_list_pages_to_its_last_item_on_the_page_and_the_api(client: Any, shop: OrderWorld) -> None:
    # The shop holds two items (P-100, M-STEEL); ITEM_PAGE - 1 more make one over a page.
    for index in range(ITEM_PAGE - 1):
        body = {"code": f"C-{index:03d}", "name": f"Clip {index}", "unit": "pcs"}
        assert client.post("/api/v1/items", json=body, headers=shop.as_("planner")).status_code == 201
    first = client.get("/api/v1/items", headers=shop.as_("planner")).json()
    assert len(first["items"]) == ITEM_PAGE
    assert first["next"]
    rest = client.get("/api/v1/items", params={"cursor": first["next"]}, headers=shop.as_("planner")).json()
    assert [item["code"] for item in rest["items"]] == ["P-100"]
    assert rest["next"] is None

    headers = _page(client, shop, "planner")
    page = client.get("/items", headers=headers)
    more = re.search(r'href="/items\?q=&amp;cursor=([0-9a-f-]{36})"', page.text)
    assert more is not None
    assert "P-100" not in page.text
    following = client.get(f"/items?q=&cursor={more.group(1)}", headers=headers)
    assert following.status_code == 200
    assert "P-100" in following.text
    assert "cursor=" not in following.text


def test_an_item_cursor_of_another_tenant_is_refused_as_an_unknown_one(client: Any, run: Any, shop: OrderWorld) -> None:
    other = run(make_world, "oth")
    theirs = client.post(
        "/api/v1/items",
        json={"code": "THEIRS-1", "name": "Theirs", "unit": "pcs"},
        headers=bearer(api_token(client, other.accounts["planner"], other.slug)),
    )
    assert theirs.status_code == 201, theirs.text
    foreign = client.get("/api/v1/items", params={"cursor": theirs.json()["id"]}, headers=shop.as_("planner"))
    unknown = client.get("/api/v1/items", params={"cursor": str(uuid4())}, headers=shop.as_("planner"))
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json() == unknown.json()


def test_the_lot_form_offers_the_orders_lots_first_says_when_it_is_cut_and_takes_any_sent_lot(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    sent_dispatch(client, shop, ["FOR-THE-ORDER"], order["id"])
    # Sent later, for no order: CHOICES of them, so one over the form's cap.
    others = sent_dispatch(client, shop, [f"OTHER-{index:03d}" for index in range(CHOICES)])
    delivery = create(client, shop, order, "10").json()
    offered = client.get(f"/api/v1/deliveries/{delivery['id']}/material-lots/choices", headers=shop.as_("supplier_operator")).json()
    assert len(offered) == CHOICES
    assert offered[0]["lot"] == "FOR-THE-ORDER"
    (left_out,) = {line["id"] for line in others["lines"]} - {choice["dispatch_line_id"] for choice in offered}

    headers = _page(client, shop, "supplier_operator")
    form = client.get(f"/deliveries/{delivery['id']}/material-lots", headers=headers)
    assert f"Showing the first {CHOICES} of {CHOICES + 1}." in form.text
    # A lot the form did not offer is still the supplier's to name, and
    # once recorded it is offered (a later save keeps it).
    body = {"lots": [{"dispatch_line_id": left_out}]}
    saved = client.put(f"/api/v1/deliveries/{delivery['id']}/material-lots", json=body, headers=shop.as_("supplier_operator"))
    assert saved.status_code == 200, saved.text
    again = client.get(f"/deliveries/{delivery['id']}/material-lots", headers=headers)
    assert f'value="{left_out}" checked' in again.text


def test_a_lot_trace_past_its_limit_says_which_sections_are_cut(client: Any, shop: OrderWorld) -> None:
    sent_dispatch(client, shop, ["HEAT-BIG"] * 200)
    sent_dispatch(client, shop, ["HEAT-BIG"] * (TRACE_LIMIT + 1 - 200))
    trace = client.get("/api/v1/lot-trace", params={"lot": "HEAT-BIG"}, headers=shop.as_("qa")).json()
    assert len(trace["material"]) == TRACE_LIMIT
    assert trace["cut"] == ["material"]
    page = client.get("/lots", params={"lot": "HEAT-BIG"}, headers=_page(client, shop, "qa"))
    assert f"Only the first {TRACE_LIMIT} are shown" in page.text
    small = client.get("/api/v1/lot-trace", params={"lot": "HEAT-NONE"}, headers=shop.as_("qa")).json()
    assert small["cut"] == []


def test_the_inbox_says_when_orders_to_accept_are_more_than_it_shows_and_links_to_all(client: Any, shop: OrderWorld) -> None:
    numbers = [_order(client, shop, 1, days=20, supplier=0, accept=False)["number"] for _ in range(ORDER_PAGE + 1)]
    home = client.get("/", headers=_page(client, shop, "supplier_admin"))
    assert home.status_code == 200
    assert f'New orders to accept <span class="count">{ORDER_PAGE}+</span>' in home.text
    assert f"The first {ORDER_PAGE} are shown." in home.text
    assert 'href="/orders?status=issued">All on the order board' in home.text
    # The board it links to goes on to the last of them.
    board = client.get("/api/v1/orders", params={"status": "issued"}, headers=shop.as_("supplier_admin")).json()
    seen = [item["number"] for item in board["items"]]
    while board["next"]:
        board = client.get(
            "/api/v1/orders", params={"status": "issued", "cursor": board["next"]}, headers=shop.as_("supplier_admin")
        ).json()
        seen += [item["number"] for item in board["items"]]
    assert sorted(seen) == sorted(numbers)


def test_deliveries_to_receive_say_how_many_are_on_the_way(client: Any, shop: OrderWorld) -> None:
    order = _order(client, shop, 1, days=20)
    for _ in range(MAX_TO_RECEIVE + 1):
        assert create(client, shop, order, "0.01").status_code == 201
    page = client.get("/deliveries", headers=_page(client, shop, "qa"))
    assert page.status_code == 200
    assert f"Showing the first {MAX_TO_RECEIVE} of {MAX_TO_RECEIVE + 1}." in page.text
    home = client.get("/", headers=_page(client, shop, "qa"))
    assert f'Deliveries to inspect <span class="count">{MAX_TO_RECEIVE + 1}</span>' in home.text


def test_the_dispatch_form_says_when_it_offers_fewer_items_than_can_be_sent(client: Any, run: Any, shop: OrderWorld) -> None:
    from portal.materials.services import CHOICES as ITEM_CHOICES

    async def seed() -> None:
        from portal.items.services import ItemIn, create_item

        # Through the service the API calls, in one request's scope: the
        # shop holds two dispatchable items, this makes one over the cap.
        async with _scope(await _context(shop, "planner")):
            for index in range(ITEM_CHOICES - 1):
                await create_item(ItemIn(code=f"R-{index:03d}", name=f"Rod {index}", unit="kg", kind="material"))

    run(seed)
    form = client.get("/materials/dispatches/new", headers=_page(client, shop, "planner"))
    assert form.status_code == 200
    assert f"Showing the first {ITEM_CHOICES} of {ITEM_CHOICES + 1}." in form.text
    assert "Materials come first, by code." in form.text
