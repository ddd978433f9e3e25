"""The supplier records on its phone which material lots a delivery used:
at 360 px, on the delivery page, it ticks a lot and saves (two taps); the
delivery then lists it, and the lot's trace leads to the delivery."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_documents_upload import MIN_TARGET
from tests.browser.test_home_layout import OVERFLOW_JS
from tests.browser.test_navigation import sign_in

pytestmark = pytest.mark.browser


def test_the_supplier_ticks_the_material_lot_a_delivery_used(phone: Page, tmp_path: Path) -> None:
    sign_in(phone, "operator@precision.example")
    phone.goto("/deliveries?status=received")
    phone.locator("a[href^='/deliveries/']").filter(has_text="DN-").first.click()
    expect(phone).to_have_url(re.compile(r"/deliveries/[0-9a-f-]{36}$"))
    number = phone.locator("h1").inner_text()
    block = phone.locator("#material-lots")
    choice = block.locator("label.material-lot-choice").first
    expect(choice).to_be_visible()  # loaded by htmx
    box = choice.bounding_box()
    assert box is not None
    assert box["height"] >= MIN_TARGET
    lot = choice.locator("strong").inner_text()
    if choice.locator("input").is_checked():
        choice.click()  # start from nothing: the demo may have recorded it
        block.locator("button[type=submit]").click()
        expect(phone.locator("#material-lots label.material-lot-choice").first).to_be_visible()
        block = phone.locator("#material-lots")
        choice = block.locator("label.material-lot-choice").first
    choice.click()
    block.locator("button[type=submit]").scroll_into_view_if_needed()
    phone.screenshot(path=screenshot_path(tmp_path, "material-lots-phone.png"))
    assert phone.evaluate(OVERFLOW_JS)["outside"] == []
    block.locator("button[type=submit]").click()
    expect(phone).to_have_url(re.compile(r"/deliveries/[0-9a-f-]{36}\?lots=1"))
    expect(phone.locator("#material-lots .material-lots-used")).to_contain_text(lot)

    phone.locator("#material-lots .material-lots-used a", has_text=re.compile(".")).first.click()
    expect(phone).to_have_url(re.compile(r"/lots\?lot="))
    expect(phone.locator("#lot-consumed")).to_contain_text(number)
