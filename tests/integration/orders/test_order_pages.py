"""Order pages through HTML, as the planner and the supplier use them."""

from __future__ import annotations

from typing import Any

from tests.integration.documents.conftest import uploaded
from tests.integration.orders.conftest import OrderWorld, draft, due, fire
from tests.support.documents import samples
from tests.support.factories import api_token, page_headers


def _page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    return page_headers(client, api_token(client, shop.world.accounts[who], shop.world.slug))


def test_board_shows_the_planners_orders_and_hides_drafts_from_suppliers(client: Any, shop: OrderWorld) -> None:
    issued, hidden = draft(client, shop), draft(client, shop)
    fire(client, shop, issued["id"], "planner", "issue")
    planner = client.get("/orders", headers=_page(client, shop, "planner"))
    assert planner.status_code == 200
    assert issued["number"] in planner.text
    assert hidden["number"] in planner.text
    supplier = client.get("/orders", headers=_page(client, shop, "supplier_admin"))
    assert issued["number"] in supplier.text
    assert hidden["number"] not in supplier.text
    assert "target cost" not in client.get(f"/orders/{issued['id']}", headers=_page(client, shop, "supplier_admin")).text


def test_htmx_filter_returns_only_the_list(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    headers = {**_page(client, shop, "planner"), "hx-request": "true", "hx-target": "order-list"}
    response = client.get("/orders", params={"status": "draft"}, headers=headers)
    assert response.status_code == 200
    assert order["number"] in response.text
    assert "<html" not in response.text


def test_new_order_form_keeps_what_was_typed_on_error(client: Any, shop: OrderWorld) -> None:
    headers = _page(client, shop, "planner")
    form = {
        "_csrf_token": headers["x-csrftoken"],
        "supplier_id": str(shop.world.supplier_ids[0]),
        "notes_shared": "keep me",
        "lines-0-item_id": shop.part_id,
        "lines-0-quantity": "-5",
        "lines-0-unit_price": "9.99",
        "lines-0-due_date": due(10),
        "lines-0-operation": "milling",
    }
    response = client.post("/orders/new", data=form, headers=headers, follow_redirects=False)
    assert response.status_code == 400
    for typed in ("keep me", "milling", 'value="-5"'):
        assert typed in response.text
    form["lines-0-quantity"] = "5"
    created = client.post("/orders/new", data=form, headers=headers, follow_redirects=False)
    assert created.status_code == 303
    assert created.headers["location"].startswith("/orders/")


def test_supplier_accepts_and_acknowledges_through_the_pages(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    issued = fire(client, shop, order["id"], "planner", "issue").json()
    supplier = _page(client, shop, "supplier_admin")
    # A supplier's inbox is its home: /inbox sends it there.
    assert client.get("/inbox", headers=supplier, follow_redirects=False).headers["location"] == "/"
    inbox = client.get("/", headers=supplier)
    assert order["number"] in inbox.text
    accept = {"_csrf_token": supplier["x-csrftoken"], "event": "accept", "version": str(issued["version"])}
    assert client.post(f"/orders/{order['id']}/transitions", data=accept, headers=supplier, follow_redirects=False).status_code == 303
    stale = client.post(
        f"/orders/{order['id']}/transitions", data={**accept, "event": "start"}, headers=_page(client, shop, "supplier_operator")
    )
    assert stale.status_code == 409
    line = issued["lines"][0]
    planner = _page(client, shop, "planner")
    current = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner")).json()
    change = {
        "_csrf_token": planner["x-csrftoken"],
        "version": str(current["version"]),
        "reason": "earlier date",
        "lines-0-id": line["id"],
        "lines-0-item_id": line["item_id"],
        "lines-0-quantity": "100",
        "lines-0-unit_price": "12.50",
        "lines-0-due_date": due(9),
    }
    assert client.post(f"/orders/{order['id']}/edit", data=change, headers=planner, follow_redirects=False).status_code == 303
    revision = client.get(f"/api/v1/orders/{order['id']}/revisions", headers=shop.as_("supplier_admin")).json()["items"][0]
    assert "earlier date" in client.get("/", headers=supplier).text
    ack = client.post(
        f"/orders/{order['id']}/revisions/{revision['id']}/acknowledge",
        data={"_csrf_token": supplier["x-csrftoken"]},
        headers=supplier,
        follow_redirects=False,
    )
    assert ack.status_code == 303
    assert "earlier date" not in client.get("/", headers=supplier).text


def test_order_page_shows_the_items_drawings_to_its_supplier_once_issued(client: Any, shop: OrderWorld) -> None:
    planner = api_token(client, shop.world.accounts["planner"], shop.world.slug)
    drawing = uploaded(
        client, planner, samples.pdf(), category="drawing", title="Flange drawing rev B", attached_type="item", attached_id=shop.part_id
    )
    order = draft(client, shop)
    assert client.get(f"/orders/{order['id']}", headers=_page(client, shop, "supplier_admin")).status_code == 404
    fire(client, shop, order["id"], "planner", "issue")
    page = client.get(f"/orders/{order['id']}", headers=_page(client, shop, "supplier_operator"))
    assert page.status_code == 200
    assert "Flange drawing rev B" in page.text
    assert f"/documents/{drawing['id']}" in page.text
    detail = client.get(f"/documents/{drawing['id']}", headers=_page(client, shop, "supplier_operator"))
    assert detail.status_code == 200
    assert "Flange drawing rev B" in detail.text
    assert "data-upload" not in detail.text  # read only: no new version from the supplier
    assert "/documents?attached_type=order&amp;attached_id=" + order["id"] + "&amp;upload_category=drawing" in page.text
    # The panel the page loads: the order's own documents with the widget, drawing preselected.
    panel = client.get(
        f"/documents?attached_type=order&attached_id={order['id']}&upload_category=drawing",
        headers={**_page(client, shop, "planner"), "hx-request": "true"},
    )
    assert panel.status_code == 200
    assert '<option value="drawing" selected>' in panel.text
    assert "<html" not in panel.text


def test_item_page_offers_drawing_uploads_to_admins_and_planners_only(client: Any, shop: OrderWorld) -> None:
    url = f"/documents?attached_type=item&attached_id={shop.part_id}&upload_category=drawing"
    item_page = client.get(f"/items/{shop.part_id}", headers=_page(client, shop, "planner"))
    assert item_page.status_code == 200
    assert url.replace("&", "&amp;") in item_page.text
    assert "data-upload" in client.get(url, headers={**_page(client, shop, "planner"), "hx-request": "true"}).text
    qa = client.get(url, headers={**_page(client, shop, "qa"), "hx-request": "true"})
    assert qa.status_code == 200
    assert "data-upload" not in qa.text
    assert client.get(url, headers=_page(client, shop, "supplier_admin")).status_code == 404


def test_the_order_page_speaks_the_readers_language_for_revisions_and_deliveries(client: Any, shop: OrderWorld) -> None:
    from tests.integration.deliveries.conftest import create, receive

    issued = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    line = issued["lines"][0]
    change = {
        "version": issued["version"],
        "reason": "Forecast up",
        "lines": [{"id": line["id"], "item_id": line["item_id"], "quantity": "120", "unit_price": line["unit_price"], "due_date": due(20)}],
    }
    assert client.patch(f"/api/v1/orders/{issued['id']}", json=change, headers=shop.as_("planner")).status_code == 200
    order = fire(client, shop, issued["id"], "supplier_admin", "accept").json()
    notice = create(client, shop, order, "10").json()
    assert receive(client, shop, notice, ("10", "0", "")).status_code == 200

    chinese = client.get(f"/orders/{issued['id']}", headers={**_page(client, shop, "planner"), "accept-language": "zh-CN"}).text
    assert "修改 · 数量 100 → 120" in chinese
    assert ">已收货</span>" in chinese
    english = client.get(f"/orders/{issued['id']}", headers={**_page(client, shop, "planner"), "accept-language": "en"}).text
    assert "changed · Quantity 100 → 120" in english
    assert ">Received</span>" in english
