"""The unread badge on a 360 px phone: the buyer changes an order, the
supplier's bell shows one more unread notification within seconds (the
server's own job runner delivers it), and the notification opens the order."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tenants.demo import DEMO_PASSWORD
from tests.browser.conftest import screenshot_path
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in

pytestmark = pytest.mark.browser


def api(base: str, email: str) -> httpx.Client:
    token = httpx.post(f"{base}/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD, "tenant": "acme"}, timeout=30)
    assert token.status_code == 200, token.text
    return httpx.Client(base_url=base, headers={"authorization": f"Bearer {token.json()['access_token']}"}, timeout=30)


def badge_count(page: Page) -> int:
    # The page's bell is a placeholder until its count has loaded.
    expect(page.locator("#bell[data-loaded]")).to_be_visible()
    count = page.locator("#bell .bell-count")
    return int(count.get_attribute("data-count") or 0) if count.count() else 0


def revise_an_order_of(base: str, supplier_email: str) -> dict[str, Any]:
    with api(base, supplier_email) as supplier:
        orders = supplier.get("/api/v1/orders").json()["items"]
    target = next(order for order in orders if order["status"] in ("accepted", "in_production"))
    with api(base, "planner@acme.example") as planner:
        order = planner.get(f"/api/v1/orders/{target['id']}").json()
        line = next(line for line in order["lines"] if not line.get("removed"))
        body = {
            "version": order["version"],
            "reason": "交期提前三天",
            "lines": [
                {
                    "id": line["id"],
                    "item_id": line["item_id"],
                    "quantity": line["quantity"],
                    "unit_price": line["unit_price"],
                    "due_date": (date.today() + timedelta(days=9)).isoformat(),
                }
            ],
        }
        changed = planner.patch(f"/api/v1/orders/{order['id']}", json=body)
    assert changed.status_code == 200, changed.text
    return dict(order)


def test_the_suppliers_badge_shows_a_revision_and_the_notification_opens_the_order(phone: Page, live_server: str, tmp_path: Path) -> None:
    sign_in(phone, "operator@precision.example")
    expect(phone.locator("#bell")).to_be_visible()
    before = badge_count(phone)

    order = revise_an_order_of(live_server, "operator@precision.example")

    deadline = time.monotonic() + 30
    # The demo's own events were delivered when it loaded: only this one is new.
    while badge_count(phone) != before + 1:
        assert time.monotonic() < deadline, f"the badge never showed the new notification: {before} -> {badge_count(phone)}"
        phone.reload()
    # On the phone's bar, inside the 360 px screen, tappable.
    box = phone.locator("#bell").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 360
    assert box["width"] >= 44
    assert box["height"] >= 44
    assert_fits_phone(phone)
    phone.screenshot(path=screenshot_path(tmp_path, "phone-notification-badge.png"))

    phone.locator("#bell").click()
    expect(phone).to_have_url(re.compile(r"/notifications$"))
    assert_fits_phone(phone)
    first = phone.locator("li.notification").first
    expect(first).to_contain_text(order["number"])
    expect(first).to_contain_text("交期提前三天")
    phone.screenshot(path=screenshot_path(tmp_path, "phone-notifications.png"))
    first.locator("button").click()
    expect(phone).to_have_url(re.compile(rf"/orders/{order['id']}$"))
    phone.goto("/notifications")
    assert badge_count(phone) == before
