"""A supplier admin on a 360 px phone: the notification settings with the
push section for this device, and the work chat robots page where the
supplier's own group robot is connected; neither scrolls sideways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in

pytestmark = pytest.mark.browser


def test_a_supplier_admin_sets_push_and_connects_a_group_robot_on_a_phone(phone: Page, tmp_path: Path) -> None:
    sign_in(phone, "boss@precision.example")
    expect(phone.locator("#bell")).to_be_visible()
    phone.goto("/notifications/settings")
    # The device's state is said in words (push.js fills it in).
    expect(phone.locator("#push-device [data-push-status]")).not_to_be_empty()
    expect(phone.locator("input[name='order.issued.push']")).to_be_checked()
    # Each kind named as a kind, with no hole where an order's values would go.
    expect(phone.locator("legend", has_text="新订单").first).to_be_visible()
    assert "来自 的" not in phone.content()
    assert_fits_phone(phone)
    phone.screenshot(path=screenshot_path(tmp_path, "push-settings-phone.png"), full_page=True)

    phone.goto("/account")
    phone.click("a[href='/admin/chat-robots']")
    phone.select_option("#f-service", "wecom")
    phone.fill("#f-url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=phone-test-0001")
    phone.fill("#f-description", "车间群")
    phone.click("form[action='/admin/chat-robots'] button[type=submit]")
    expect(phone.get_by_text("车间群")).to_be_visible()
    # The robot's key never comes back in full.
    assert "phone-test-0001" not in phone.content()
    assert_fits_phone(phone)
    phone.screenshot(path=screenshot_path(tmp_path, "chat-robots-phone.png"), full_page=True)

    # Signing out goes through push.js (which drops this device's push
    # subscription first) and still lands on the sign-in page.
    phone.goto("/account")
    phone.click("form[action='/logout'] button[type=submit]")
    expect(phone).to_have_url(re.compile(r"/login"))
