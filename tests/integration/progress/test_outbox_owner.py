"""What the phone is told about who is acting (tenants/offline.py): each page
names its session for the service worker's kept pages, and a queued item of
one person never lands under another person's session."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from tests.integration.orders.conftest import OrderWorld
from tests.integration.progress.conftest import accepted_order
from tests.integration.progress.test_progress_pages import _page


def _identity(page: Any) -> tuple[str, str]:
    owner = re.search(r'data-owner="([^"]+)"', page.text)
    session = re.search(r'data-session="([^"]+)"', page.text)
    assert owner is not None
    assert session is not None
    return owner.group(1), session.group(1)


def test_every_page_names_its_session_and_nobody_is_said_so(client: Any, shop: OrderWorld) -> None:
    operator = client.get("/progress", headers=_page(client, shop, "supplier_operator"))
    owner, session = _identity(operator)
    assert re.fullmatch(r"[0-9a-f]{32}", session)
    assert operator.headers["x-portal-session"] == session
    # A page session lasts a shift (12 h): the kept pages never outlive it.
    assert 0 < int(operator.headers["x-portal-session-expires-in"]) <= 12 * 3600

    admin = client.get("/progress", headers=_page(client, shop, "supplier_admin"))
    assert _identity(admin)[0] != owner
    assert admin.headers["x-portal-session"] not in {session, "none"}
    # Another session of the same person: another key, the same owner.
    again = client.get("/progress", headers=_page(client, shop, "supplier_operator"))
    assert _identity(again) == (owner, again.headers["x-portal-session"])
    assert again.headers["x-portal-session"] != session

    client.cookies.clear()
    nobody = client.get("/login")
    assert nobody.headers["x-portal-session"] == "none"
    assert "data-session" not in nobody.text
    assert "data-owner" not in nobody.text


def test_a_queued_report_of_another_person_is_refused_and_stores_nothing(client: Any, shop: OrderWorld) -> None:
    order = accepted_order(client, shop, "100")
    line_id = order["lines"][0]["id"]
    operator = {**_page(client, shop, "supplier_operator"), "accept": "application/json"}
    owner, _ = _identity(client.get("/progress", headers=operator))
    # The supplier's admin may report on this line: only the owner check
    # stands between the operator's queued report and the admin's session.
    admin = {**_page(client, shop, "supplier_admin"), "accept": "application/json"}
    form = {"client_id": str(uuid4()), "stage": "machining", "good_quantity": "7", "made_at": "2026-11-20T01:00:00Z"}

    refused = client.post(f"/progress/lines/{line_id}", data=form, headers={**admin, "x-outbox-owner": owner})
    assert refused.status_code == 409, refused.text
    assert refused.headers["x-portal-outbox"] == "not-yours"
    assert refused.json()["error"]["code"] == "outbox_not_yours"
    stored = client.get(f"/api/v1/progress-reports?order_line_id={line_id}", headers=shop.as_("supplier_admin")).json()["items"]
    assert [report for report in stored if report["client_id"] == form["client_id"]] == []

    sent = client.post(f"/progress/lines/{line_id}", data=form, headers={**operator, "x-outbox-owner": owner})
    assert sent.status_code == 201, sent.text
    stored = client.get(f"/api/v1/progress-reports?order_line_id={line_id}", headers=shop.as_("supplier_admin")).json()["items"]
    assert len([report for report in stored if report["client_id"] == form["client_id"]]) == 1
