"""The delivery pages as people use them: the supplier's ship form on a
phone, the buyer's list and receiving form; mistakes keep what was typed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.integration.deliveries.conftest import accepted_order, create, order_of
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.support.factories import api_token, csrf_token, page_get, page_post


def _session(client: Any, shop: OrderWorld, who: str) -> str:
    return api_token(client, shop.world.accounts[who], shop.world.slug)


def test_supplier_ships_from_the_form_and_the_planner_receives_with_a_reject(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    operator = _session(client, shop, "supplier_operator")
    index = page_get(client, "/deliveries", session=operator)
    assert index.status_code == 200
    assert f"/deliveries/ship/{order['id']}" in index.text

    form = page_get(client, f"/deliveries/ship/{order['id']}", session=operator)
    assert form.status_code == 200
    assert 'inputmode="decimal"' in form.text
    assert 'name="lines.0.quantity"' in form.text
    assert 'value="100"' in form.text  # prefilled with the open quantity
    assert "<script>" not in form.text

    csrf = csrf_token(client)
    line = order["lines"][0]["id"]
    sent = page_post(
        client,
        f"/deliveries/ship/{order['id']}",
        {"lines.0.order_line_id": line, "lines.0.quantity": "60", "lines.0.lot": "A-17", "action": "ship"},
        csrf=csrf,
        session=operator,
    )
    assert sent.status_code == 303, sent.text
    detail_path = sent.headers["location"]
    assert detail_path.startswith("/deliveries/")
    assert detail_path.endswith("?done=shipped")
    delivery_id = detail_path.split("/")[2].split("?")[0]

    planner = _session(client, shop, "planner")
    board = page_get(client, "/deliveries", session=planner)
    assert f"/deliveries/{delivery_id}/receive" in board.text
    receiving = page_get(client, f"/deliveries/{delivery_id}/receive", session=planner)
    assert receiving.status_code == 200
    assert 'name="lines.0.accepted_quantity"' in receiving.text

    wrong = page_post(
        client,
        f"/deliveries/{delivery_id}/receive",
        {"lines.0.accepted_quantity": "55", "lines.0.rejected_quantity": "4", "lines.0.reject_reason": "Scratches", "note": "Dock 3"},
        csrf=csrf,
        session=planner,
    )
    assert wrong.status_code == 400
    assert 'value="Scratches"' in wrong.text  # what was typed survives the mistake
    assert "Dock 3" in wrong.text
    assert 'aria-invalid="true"' in wrong.text

    done = page_post(
        client,
        f"/deliveries/{delivery_id}/receive",
        {"lines.0.accepted_quantity": "55", "lines.0.rejected_quantity": "5", "lines.0.reject_reason": "Scratches"},
        csrf=csrf,
        session=planner,
    )
    assert done.status_code == 303, done.text
    after = order_of(client, shop, order)
    assert after["status"] == "partially_delivered"
    assert Decimal(after["lines"][0]["open_quantity"]) == 45
    shown = page_get(client, done.headers["location"], session=operator)
    assert shown.status_code == 200
    assert "Scratches" in shown.text
    # Received: the form is gone.
    assert page_get(client, f"/deliveries/{delivery_id}/receive", session=planner).status_code == 303


def test_over_delivery_on_the_form_names_the_line_and_keeps_the_input(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    operator = _session(client, shop, "supplier_operator")
    response = page_post(
        client,
        f"/deliveries/ship/{order['id']}",
        {"lines.0.order_line_id": order["lines"][0]["id"], "lines.0.quantity": "200", "lines.0.lot": "B-2", "action": "ship"},
        csrf=csrf_token(client),
        session=operator,
    )
    assert response.status_code == 400
    assert 'aria-describedby="e-q-0"' in response.text
    assert 'value="200"' in response.text
    assert 'value="B-2"' in response.text
    nothing = page_post(
        client,
        f"/deliveries/ship/{order['id']}",
        {"lines.0.order_line_id": order["lines"][0]["id"], "lines.0.quantity": "0", "action": "ship"},
        csrf=csrf_token(client),
        session=operator,
    )
    assert nothing.status_code == 400
    assert client.get("/api/v1/deliveries", headers=shop.as_("supplier_operator")).json()["items"] == []


def test_a_draft_saved_from_the_form_ships_later_or_is_cancelled(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    operator = _session(client, shop, "supplier_operator")
    csrf = csrf_token(client)
    saved = page_post(
        client,
        f"/deliveries/ship/{order['id']}",
        {"lines.0.order_line_id": order["lines"][0]["id"], "lines.0.quantity": "10", "action": "draft"},
        csrf=csrf,
        session=operator,
    )
    assert saved.status_code == 303
    delivery_id = saved.headers["location"].split("/")[2].split("?")[0]
    no_reason = page_post(client, f"/deliveries/{delivery_id}/cancel", {"reason": ""}, csrf=csrf, session=operator)
    assert no_reason.status_code == 400
    shipped = page_post(client, f"/deliveries/{delivery_id}/ship", {}, csrf=csrf, session=operator)
    assert shipped.status_code == 303
    cancelled = page_post(client, f"/deliveries/{delivery_id}/cancel", {"reason": "Truck broke down"}, csrf=csrf, session=operator)
    assert cancelled.status_code == 303
    assert client.get(f"/api/v1/deliveries/{delivery_id}", headers=shop.as_("planner")).json()["status"] == "cancelled"


def test_the_ship_form_of_an_order_that_takes_no_deliveries_says_so(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    fire(client, shop, order["id"], "planner", "issue")
    operator = _session(client, shop, "supplier_operator")
    page = page_get(client, f"/deliveries/ship/{order['id']}", session=operator)
    assert page.status_code == 200
    assert 'role="alert"' in page.text
    assert "<form" not in page.text.split("<main", 1)[1]
    assert page_get(client, f"/deliveries/ship/{order['id']}", session=_session(client, shop, "other_supplier_admin")).status_code == 404
    assert page_get(client, f"/deliveries/ship/{order['id']}", session=_session(client, shop, "planner")).status_code == 403


def test_a_draft_page_is_not_found_for_the_buyer(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    notice = create(client, shop, order, "5", ship=False).json()
    assert page_get(client, f"/deliveries/{notice['id']}", session=_session(client, shop, "planner")).status_code == 404
    assert page_get(client, f"/deliveries/{notice['id']}", session=_session(client, shop, "supplier_admin")).status_code == 200
