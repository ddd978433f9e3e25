"""The identity loop at phone size, as people do it: a buyer admin signs in,
invites a supplier operator, the operator opens the emailed link, sets a
password and lands signed in, seeing only what a supplier may see."""

from __future__ import annotations

import re
import time
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.notifications.mail import read_outbox
from tests.browser.conftest import open_place

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "demo-password-2026"


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.click("button[type=submit]")


def assert_fits_phone(page: Page) -> None:
    overflow = page.evaluate("() => document.body.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def invitation_link(outbox: Path, email: str) -> str:
    """The link of the invitation email, which a job of the server sends
    just after the page answered."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in reversed(read_outbox(outbox)):
            if message["To"] == email:
                body = message.get_body(("plain",))
                assert body is not None
                match = re.search(r"https?://\S+/invitations/\S+", body.get_content())
                assert match, "the invitation email carries a link"
                return match.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no invitation email to {email}")


def test_admin_invites_an_operator_who_accepts_on_a_phone(phone: Page, browser: Browser, live_outbox: Path) -> None:
    sign_in(phone, "admin@acme.example")
    expect(phone.locator("h1")).to_contain_text("周敏")
    assert_fits_phone(phone)

    open_place(phone, "/admin/users")
    expect(phone).to_have_url(re.compile(r"/admin/users"))
    assert_fits_phone(phone)
    email = f"op-{uuid4().hex[:8]}@precision.example"
    phone.fill("#f-email", email)
    phone.fill("#f-name", "新操作员")
    phone.select_option("#f-role", "supplier_operator")
    supplier = phone.locator("#f-supplier_id option", has_text="S-PM").get_attribute("value")
    phone.select_option("#f-supplier_id", value=supplier)
    phone.click("form[action='/admin/users/invitations'] button[type=submit]")
    expect(phone.locator(".alert.ok")).to_be_visible()
    expect(phone.locator("body")).to_contain_text(email)

    link = invitation_link(live_outbox, email)
    base_url = link.split("/invitations/")[0]
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, is_mobile=True, locale="zh-CN")
    try:
        invitee = context.new_page()
        invitee.goto(link)
        assert_fits_phone(invitee)
        invitee.fill("#f-password", "operator-password-1")
        invitee.click("button[type=submit]")
        expect(invitee.locator("h1")).to_contain_text("新操作员")
        expect(invitee.locator("nav.appnav")).not_to_contain_text("人员")
        invitee.goto("/admin/users")
        expect(invitee.locator("h1")).to_contain_text("无权")
        invitee.goto(link)
        expect(invitee.locator("h1")).to_contain_text("邀请链接")
    finally:
        context.close()


def test_wrong_password_keeps_the_email_and_explains(phone: Page) -> None:
    sign_in(phone, "planner@acme.example", "not-the-password")
    expect(phone.locator(".alert.error")).to_be_visible()
    assert phone.input_value("#f-email") == "planner@acme.example"
    assert phone.input_value("#f-password") == ""
    assert_fits_phone(phone)


def test_supplier_serving_two_buyers_chooses_and_switches_tenant(phone: Page) -> None:
    sign_in(phone, "sales@eastsurface.example")
    expect(phone.locator("h1")).to_contain_text("选择")
    phone.click("button:has-text('Globex')")
    expect(phone.locator(".hint").first).to_contain_text("Globex")
    phone.goto("/account")
    phone.click("form[action='/account/switch'] button")
    expect(phone.locator(".hint").first).to_contain_text("艾克米")
