"""The phone's pages: open work, the report screen (form and outbox
answers), the supplier's home, the buyer's timeline, the stage settings."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from tests.integration.orders.conftest import OrderWorld, draft, fire
from tests.integration.progress.conftest import accepted_order, jpeg, report
from tests.support.factories import page_headers


def _page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    token = shop.as_(who)["authorization"].removeprefix("Bearer ")
    return {**page_headers(client, token), "accept-language": "en"}


def test_the_supplier_reports_from_the_open_work_list(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    line_id = order["lines"][0]["id"]
    headers = _page(client, shop, "supplier_operator")
    work = client.get("/progress", headers=headers)
    assert work.status_code == 200
    assert order["number"] in work.text
    assert f'href="/progress/lines/{line_id}" data-precache' in work.text

    screen = client.get(f"/progress/lines/{line_id}", headers=headers)
    assert screen.status_code == 200
    assert 'inputmode="decimal"' in screen.text
    assert 'capture="environment"' in screen.text
    client_id = re.search(r'name="client_id" value="([0-9a-f-]{36})"', screen.text)
    assert client_id is not None

    # Without JavaScript: a plain form post, then back to the list.
    form = {"client_id": client_id.group(1), "stage": "machining", "good_quantity": "30", "scrap_quantity": "0"}
    posted = client.post(f"/progress/lines/{line_id}", data=form, headers=headers, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"] == "/progress"
    # The next screen starts from the last report.
    again = client.get(f"/progress/lines/{line_id}", headers=headers).text
    assert 'value="machining" checked' in again
    assert 'name="good_quantity" type="text" inputmode="decimal" autocomplete="off" required value="30"' in again
    assert re.search(r'name="client_id" value="([0-9a-f-]{36})"', again).group(1) != client_id.group(1)  # type: ignore[union-attr]


def test_the_outbox_gets_json_answers_and_field_errors_come_back_on_the_form(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    line_id = order["lines"][0]["id"]
    headers = {**_page(client, shop, "supplier_operator"), "accept": "application/json"}
    form = {
        "client_id": str(uuid4()),
        "stage": "inspection",
        "good_quantity": "12",
        "photos_expected": "1",
        "made_at": "2026-11-20T01:00:00Z",
    }
    first = client.post(f"/progress/lines/{line_id}", data=form, headers=headers)
    assert first.status_code == 201, first.text
    second = client.post(f"/progress/lines/{line_id}", data=form, headers=headers)
    assert (second.status_code, second.json()["id"]) == (200, first.json()["id"])
    report_id = first.json()["id"]
    photo = client.post(f"/progress/reports/{report_id}/photos", files={"file": ("a.jpg", jpeg(7), "image/jpeg")}, headers=headers)
    assert photo.status_code == 201, photo.text

    bad = client.post(f"/progress/lines/{line_id}", data={**form, "client_id": str(uuid4()), "good_quantity": "abc"}, headers=headers)
    assert bad.status_code == 400
    assert "good_quantity" in bad.json()["error"]["fields"]
    html = client.post(
        f"/progress/lines/{line_id}",
        data={**form, "client_id": str(uuid4()), "good_quantity": "500"},
        headers={k: v for k, v in headers.items() if k != "accept"},
    )
    assert html.status_code == 400
    assert 'value="500"' in html.text  # what was typed is kept
    assert "open quantity" in html.text


def test_the_buyer_sees_the_timeline_with_photos_on_the_order(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    stored = report(client, shop, order["lines"][0]["id"], stage="surface_treatment", photos_expected=2, note="Zinc plated").json()
    client.post(
        f"/api/v1/progress-reports/{stored['id']}/photos",
        files={"file": ("a.jpg", jpeg(3), "image/jpeg")},
        headers=shop.as_("supplier_operator"),
    )
    page = client.get(f"/orders/{order['id']}", headers=_page(client, shop, "planner")).text
    assert "Surface treatment" in page
    assert "Zinc plated" in page
    assert "1 of 2 photos have arrived" in page
    feed = client.get("/progress", headers=_page(client, shop, "planner")).text
    assert order["number"] in feed
    assert "Surface treatment" in feed


def test_the_supplier_home_is_what_needs_them_now(client: Any, shop: OrderWorld) -> None:
    later = accepted_order(client, shop, "100")
    soon = draft(client, shop, days=3)
    assert fire(client, shop, soon["id"], "planner", "issue").status_code == 200
    assert fire(client, shop, soon["id"], "supplier_admin", "accept").status_code == 200
    home = client.get("/", headers=_page(client, shop, "supplier_operator"))
    assert home.status_code == 200
    assert "Lines due this week or late" in home.text
    assert "data-outbox-panel" in home.text
    assert f"/progress/lines/{soon['lines'][0]['id']}" in home.text
    assert f"/progress/lines/{later['lines'][0]['id']}" not in home.text
    buyer_home = client.get("/", headers=_page(client, shop, "planner")).text
    assert "data-outbox-panel" not in buyer_home


def test_the_admin_sets_the_stages_in_their_language(client: Any, shop: OrderWorld) -> None:
    headers = {**_page(client, shop, "admin"), "accept-language": "zh-CN"}
    shown = client.get("/admin/progress-stages", headers=headers)
    assert shown.status_code == 200
    assert "机加工" in shown.text
    saved = client.post("/admin/progress-stages", data={"stages": "来料已收\n机加工\n喷砂"}, headers=headers, follow_redirects=False)
    assert saved.status_code == 303
    stages = client.get("/api/v1/progress-stages", headers={**shop.as_("supplier_operator"), "accept-language": "en"}).json()["items"]
    # Built-in stages typed in Chinese stay built-in (English readers see English).
    assert [s["code"] for s in stages][:2] == ["material_received", "machining"]
    assert [s["label"] for s in stages] == ["Material received", "Machining", "喷砂"]
    assert client.get("/admin/progress-stages", headers=_page(client, shop, "planner")).status_code == 403
