"""The order loop in the browser: the planner drafts and issues an order,
the supplier accepts it on a 360 px phone, the planner changes it, and the
supplier acknowledges the change."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in

pytestmark = pytest.mark.browser


def phone_for(browser: Browser, base_url: str) -> Page:
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN")
    return context.new_page()


def test_issue_accept_revise_acknowledge(phone: Page, browser: Browser, live_server: str) -> None:
    planner = phone
    sign_in(planner, "planner@acme.example")
    planner.goto("/orders/new")
    assert_fits_phone(planner)
    supplier_value = planner.locator("#f-supplier_id option", has_text="S-PM").get_attribute("value")
    planner.select_option("#f-supplier_id", value=supplier_value)
    item_value = planner.locator("#l0-item option", has_text="P-FL-100").get_attribute("value")
    planner.select_option("#l0-item", value=item_value)
    planner.fill("#l0-quantity", "40")
    planner.fill("#l0-price", "21.50")
    planner.fill("#l0-due", (date.today() + timedelta(days=12)).isoformat())
    planner.click("#add-line")
    expect(planner.locator("#line-1")).to_be_visible()
    planner.click("form button[type=submit]:not(#add-line)")
    expect(planner).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}$"))
    number = planner.locator("h1").inner_text()
    planner.click("form.action button[type=submit][class*=primary]")
    expect(planner.locator(".badge.status-issued")).to_be_visible()

    supplier = phone_for(browser, live_server)
    try:
        sign_in(supplier, "boss@precision.example")
        supplier.goto("/inbox")
        assert_fits_phone(supplier)
        supplier.click(f"text={number}")
        assert_fits_phone(supplier)
        supplier.click("form.action:has(input[value=accept]) button")
        expect(supplier.locator(".badge.status-accepted").first).to_be_visible()

        planner.reload()
        planner.click("a[href$='/edit']")
        planner.fill("#l0-quantity", "55")
        planner.fill("#f-reason", "客户追加 15 件")
        planner.click("form button[type=submit]:not(#add-line)")
        expect(planner.locator(".alert.warn")).to_be_visible()

        supplier.goto("/inbox")
        expect(supplier.locator("body")).to_contain_text("客户追加 15 件")
        supplier.click(f"text={number} >> nth=0")
        supplier.click("form[action*='/acknowledge'] button")
        expect(supplier.locator("form[action*='/acknowledge']")).to_have_count(0)
    finally:
        supplier.context.close()
