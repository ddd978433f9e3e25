"""Material dispatch in the browser: the planner drafts a dispatch with two
lots (the second line added by htmx) and sends it; the supplier confirms the
receipt on a 360 px phone, reporting a shortage with a reason, and both
sides see the balance."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, open_place
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in

pytestmark = pytest.mark.browser


def test_supplier_confirms_a_receipt_with_a_discrepancy_on_a_phone(desktop: Page, browser: Browser, live_server: str) -> None:
    lot = f"H-{uuid4().hex[:6]}"
    planner = desktop
    sign_in(planner, "planner@acme.example")
    planner.goto("/materials/dispatches/new")
    supplier_value = planner.locator("#f-supplier_id option", has_text="S-PM").get_attribute("value")
    planner.select_option("#f-supplier_id", value=supplier_value)
    material = planner.locator("#dispatch-lines select[name=item_id] >> nth=0").locator("option", has_text="M-").first
    material_value = material.get_attribute("value")
    assert material_value
    planner.locator("#dispatch-lines select[name=item_id]").nth(0).select_option(value=material_value)
    planner.locator("#dispatch-lines input[name=lot]").nth(0).fill(lot)
    planner.locator("#dispatch-lines input[name=quantity]").nth(0).fill("100")
    planner.click("button[name=add_line]")
    expect(planner.locator("#dispatch-lines .line-row")).to_have_count(2)
    planner.locator("#dispatch-lines select[name=item_id]").nth(1).select_option(value=material_value)
    planner.locator("#dispatch-lines input[name=lot]").nth(1).fill(f"{lot}-B")
    planner.locator("#dispatch-lines input[name=quantity]").nth(1).fill("50")
    planner.click("form[action='/materials/dispatches'] button.primary")
    expect(planner).to_have_url(re.compile(r"/materials/dispatches/[0-9a-f-]{36}$"))
    dispatch_url = planner.url
    planner.click("form[action$='/send'] button")
    expect(planner.locator(".badge.status-sent")).to_be_visible()

    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        supplier = context.new_page()
        sign_in(supplier, "boss@precision.example")
        open_place(supplier, "/materials/dispatches")
        assert_fits_phone(supplier)
        supplier.goto(dispatch_url.replace(live_server, ""))
        assert_fits_phone(supplier)
        received = supplier.locator("form.receipt input[inputmode=decimal]")
        expect(received).to_have_count(2)
        # The first lot arrived complete (the form proposes what was sent);
        # the second is 5 kg short.
        expect(received.nth(0)).to_have_value("100")
        received.nth(1).fill("45")
        supplier.click("form.receipt button[type=submit]")
        expect(supplier.locator(".receipt .field-error")).to_be_visible()
        assert_fits_phone(supplier)
        expect(supplier.locator("form.receipt input[inputmode=decimal]").nth(1)).to_have_value("45")
        supplier.locator("form.receipt input[name^=reason-]").nth(1).fill("5 kg 受潮生锈")
        supplier.click("form.receipt button[type=submit]")
        expect(supplier.locator(".badge.status-received_with_discrepancy")).to_be_visible()
        expect(supplier.locator(".dispatch-line.flagged")).to_contain_text("5 kg 受潮生锈")
        assert_fits_phone(supplier)
        supplier.goto("/materials/balances")
        assert_fits_phone(supplier)
        expect(supplier.locator(".balance").first).to_be_visible()
    finally:
        context.close()

    planner.reload()
    expect(planner.locator(".badge.status-received_with_discrepancy")).to_be_visible()
    planner.goto("/materials/balances")
    expect(planner.locator("body")).to_contain_text("S-PM")
