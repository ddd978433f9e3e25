"""The delivery loop in the browser: the supplier's operator ships part of
an order from a 360 px phone, with gloves (48 px targets, a numeric
keypad), and the planner receives it with a reject."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import open_place
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in

pytestmark = pytest.mark.browser

TAP = 48


def assert_big_enough(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["height"] >= TAP, f"{selector} is {box['height']}px high"


def test_operator_ships_on_a_phone_and_the_planner_receives_with_a_reject(phone: Page, browser: Browser, live_server: str) -> None:
    operator = phone
    sign_in(operator, "operator@precision.example")
    open_place(operator, "/deliveries")
    expect(operator).to_have_url(re.compile(r"/deliveries$"))
    assert_fits_phone(operator)
    operator.locator("a[href^='/deliveries/ship/']").first.click()
    expect(operator).to_have_url(re.compile(r"/deliveries/ship/[0-9a-f-]{36}$"))
    assert_fits_phone(operator)
    quantity = operator.locator("#q-0")
    assert quantity.get_attribute("inputmode") == "decimal"
    assert_big_enough(operator, "#q-0")
    assert_big_enough(operator, "button[value=ship]")
    quantity.fill("3")
    operator.fill("#lot-0", "B-2611-07")
    for other in range(1, operator.locator("input[id^='q-']").count()):
        operator.fill(f"#q-{other}", "0")
    operator.click("button[value=ship]")
    expect(operator).to_have_url(re.compile(r"/deliveries/[0-9a-f-]{36}\?done=shipped$"))
    expect(operator.locator(".alert.ok")).to_be_visible()
    assert_fits_phone(operator)
    number = operator.locator("h1").inner_text().strip()
    assert number.startswith("DN-")

    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        planner = context.new_page()
        sign_in(planner, "planner@acme.example")
        planner.goto("/deliveries")
        planner.click(f"a[href$='/receive']:has-text('{number}')")
        expect(planner.locator("h1")).to_contain_text(number)
        planner.fill("#a-0", "2")
        planner.fill("#r-0", "1")
        planner.click("form.receive-form button[type=submit]")
        # A reject needs a reason: the form comes back with what was typed.
        expect(planner.locator("#e-why-0")).to_be_visible()
        expect(planner.locator("#a-0")).to_have_value("2")
        planner.fill("#why-0", "尺寸超差 Out of tolerance")
        planner.click("form.receive-form button[type=submit]")
        expect(planner.locator(".alert.ok")).to_be_visible()
        expect(planner.locator(".reject-reason")).to_contain_text("尺寸超差")
    finally:
        context.close()

    operator.reload()
    expect(operator.locator(".reject-reason")).to_contain_text("尺寸超差")
    assert_fits_phone(operator)
