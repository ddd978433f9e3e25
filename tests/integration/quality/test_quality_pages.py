"""The QC checklist on the order page, review from the page, and what the
supplier's home says it owes."""

from __future__ import annotations

from typing import Any

from tests.integration.orders.conftest import OrderWorld
from tests.integration.quality.conftest import accepted_order, checklist, require, review, send
from tests.support.factories import page_headers


def _page(client: Any, shop: OrderWorld, who: str) -> dict[str, str]:
    token = shop.as_(who)["authorization"].removeprefix("Bearer ")
    return {**page_headers(client, token), "accept-language": "en"}


def test_the_planner_builds_the_checklist_on_the_order_page(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    headers = _page(client, shop, "planner")
    page = client.get(f"/orders/{order['id']}", headers=headers)
    assert 'id="qc"' in page.text
    assert "No QC documents required yet." in page.text

    added = client.post(
        f"/orders/{order['id']}/qc-requirements",
        data={"category": "inspection_report", "note": "CMM report, all dimensions"},
        headers=headers,
        follow_redirects=False,
    )
    assert (added.status_code, added.headers["location"]) == (303, f"/orders/{order['id']}#qc")
    page = client.get(f"/orders/{order['id']}", headers=headers).text
    assert "CMM report, all dimensions" in page
    assert "Missing" in page

    # A mistake comes back on the form with what was typed, and nothing is added.
    wrong = client.post(f"/orders/{order['id']}/qc-requirements", data={"category": "x", "note": "keep me"}, headers=headers)
    assert wrong.status_code == 400
    assert "Choose a category." in wrong.text
    assert 'value="keep me"' in wrong.text
    assert [item["category"] for item in checklist(client, shop, order["id"])] == ["inspection_report"]


def test_qa_approves_and_rejects_from_the_order_page(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    assert require(client, shop, order["id"]).status_code == 201
    document = send(client, shop, order["id"])
    headers = _page(client, shop, "qa")
    page = client.get(f"/orders/{order['id']}", headers=headers).text
    assert f'action="/documents/{document["id"]}/review"' in page
    # The planner sees the state, not the buttons.
    assert (
        f'action="/documents/{document["id"]}/review"'
        not in client.get(f"/orders/{order['id']}", headers=_page(client, shop, "planner")).text
    )

    back = f"/orders/{order['id']}#qc"
    no_reason = client.post(
        f"/documents/{document['id']}/review", data={"decision": "rejected", "version": "1", "back": back}, headers=headers
    )
    assert no_reason.status_code == 400
    assert "Give a reason of 3 to 1000 characters." in no_reason.text
    assert checklist(client, shop, order["id"])[0]["state"] == "pending"

    rejected = client.post(
        f"/documents/{document['id']}/review",
        data={"decision": "rejected", "reason": "Heat number missing", "version": "1", "back": back},
        headers=headers,
        follow_redirects=False,
    )
    assert (rejected.status_code, rejected.headers["location"]) == (303, back)
    assert checklist(client, shop, order["id"])[0]["state"] == "rejected"
    # A redirect never leaves the site (the corrected version is approved).
    send(client, shop, order["id"], document_id=document["id"])
    elsewhere = client.post(
        f"/documents/{document['id']}/review",
        data={"decision": "approved", "version": "2", "back": "//evil.example/"},
        headers=headers,
        follow_redirects=False,
    )
    assert (elsewhere.status_code, elsewhere.headers["location"]) == (303, "/")


def test_the_suppliers_home_lists_what_it_owes_and_what_was_rejected(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop)
    assert require(client, shop, order["id"], "material_certificate", note="3.1 certificate").status_code == 201
    assert require(client, shop, order["id"], "inspection_report").status_code == 201
    report = send(client, shop, order["id"], "inspection_report")
    assert review(client, shop, report["id"], "rejected", "Wrong drawing revision").status_code == 201

    home = client.get("/", headers=_page(client, shop, "supplier_operator")).text
    assert "QC documents requested or rejected" in home
    section = home[home.index("QC documents requested or rejected") :]
    assert order["number"] in section
    assert "3.1 certificate" in section
    assert "Wrong drawing revision" in section
    # The rejected report is one row: its requirement's, with QA's reason.
    assert section.count("Wrong drawing revision") == 1
    assert section.count(f'href="/documents/{report["id"]}"') == 0
    # The order page tells the supplier where to send each one.
    page = client.get(f"/orders/{order['id']}", headers=_page(client, shop, "supplier_operator")).text
    wanted = "category=material_certificate&amp;upload_category=material_certificate"
    assert f'href="/documents?attached_type=order&amp;attached_id={order["id"]}&amp;{wanted}"' in page
    upload = client.get(
        "/documents",
        params={"attached_type": "order", "attached_id": order["id"], "upload_category": "material_certificate"},
        headers=_page(client, shop, "supplier_operator"),
    ).text
    assert '<option value="material_certificate" selected>' in upload

    # QA's home lists what waits for review once the supplier sends it.
    send(client, shop, order["id"], "material_certificate")
    qa_inbox = client.get("/inbox", headers=_page(client, shop, "qa")).text
    assert "QC documents to review" in qa_inbox
    assert order["number"] in qa_inbox[qa_inbox.index("QC documents to review") :]
