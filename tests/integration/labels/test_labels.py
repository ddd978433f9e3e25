"""Scan to open: every order, order line and dispatch carries a QR code of
its own address (the line's: its report screen), on its page and on an A6
label sheet; a label of another supplier's record opens the same 404 as
any id that is not the reader's."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from portal.labels.codes import qr_svg
from tests.integration.materials.conftest import sent_dispatch
from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.support.factories import api_token, page_headers


def _page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    return page_headers(client, api_token(client, shop.world.accounts[who], shop.world.slug))


def _get(client: Any, path: str, headers: dict[str, str]) -> Any:
    return client.get(path, headers=headers, follow_redirects=False)


def test_the_order_page_and_its_label_sheet_carry_the_codes_of_the_order_and_each_line(client: Any, shop: OrderWorld) -> None:
    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    line = order["lines"][0]
    operator = _page(client, shop, "supplier_operator")
    page = _get(client, f"/orders/{order['id']}", operator)
    assert str(qr_svg(f"/orders/{order['id']}")) in page.text
    assert str(qr_svg(f"/progress/lines/{line['id']}")) in page.text
    assert f'href="/orders/{order["id"]}/labels"' in page.text
    sheet = _get(client, f"/orders/{order['id']}/labels", operator)
    assert sheet.status_code == 200
    assert sheet.text.count('class="label"') == 1 + len(order["lines"])
    assert str(qr_svg(f"/progress/lines/{line['id']}", 6)) in sheet.text
    # The line's code opens its report screen on the supplier's phone.
    assert _get(client, f"/progress/lines/{line['id']}", operator).status_code == 200


def test_a_dispatch_has_its_code_and_label(client: Any, shop: OrderWorld) -> None:
    dispatch = sent_dispatch(client, shop, ("10", "H-7"))
    operator = _page(client, shop, "supplier_operator")
    assert str(qr_svg(f"/materials/dispatches/{dispatch['id']}")) in _get(client, f"/materials/dispatches/{dispatch['id']}", operator).text
    sheet = _get(client, f"/materials/dispatches/{dispatch['id']}/labels", operator)
    assert sheet.status_code == 200
    assert "H-7" in sheet.text


def test_a_label_of_another_supplier_opens_the_same_404_as_any_unknown_id(client: Any, shop: OrderWorld) -> None:
    order = fire(client, shop, draft(client, shop)["id"], "planner", "issue").json()
    dispatch = sent_dispatch(client, shop, ("5", "H-8"))
    other = _page(client, shop, "other_supplier_admin")
    for template, record_id in (
        ("/orders/{}", order["id"]),
        ("/orders/{}/labels", order["id"]),
        ("/progress/lines/{}", order["lines"][0]["id"]),
        ("/materials/dispatches/{}", dispatch["id"]),
        ("/materials/dispatches/{}/labels", dispatch["id"]),
    ):
        foreign = _get(client, template.format(record_id), other)
        unknown = _get(client, template.format(uuid4()), other)
        assert foreign.status_code == unknown.status_code == 404, template
