"""Documents on the supplier's phone screens: the supplier reports a
shortage on a material receipt at 360 px and attaches a photo from the
camera input of the dispatch's documents panel (photo preselected); the
planner sees the photo on the dispatch."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE
from tests.browser.test_documents_upload import MIN_TARGET
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in
from tests.support.documents import samples

pytestmark = pytest.mark.browser


def _send_dispatch(planner: Page, lot: str) -> str:
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
    planner.click("form[action='/materials/dispatches'] button.primary")
    expect(planner).to_have_url(re.compile(r"/materials/dispatches/[0-9a-f-]{36}$"))
    planner.click("form[action$='/send'] button")
    expect(planner.locator(".badge.status-sent")).to_be_visible()
    return planner.url


def test_supplier_attaches_a_damage_photo_to_a_dispatch_from_a_phone(desktop: Page, browser: Browser, live_server: str) -> None:
    dispatch_url = _send_dispatch(desktop, f"D-{uuid4().hex[:6]}")
    title = f"Rusty bars {uuid4().hex[:6]}"
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        supplier = context.new_page()
        sign_in(supplier, "boss@precision.example")
        supplier.goto(dispatch_url.replace(live_server, ""))
        supplier.locator("form.receipt input[inputmode=decimal]").nth(0).fill("92")
        supplier.locator("form.receipt input[name^=reason-]").nth(0).fill("8 kg 生锈 rusty")

        section = supplier.locator("#dispatch-documents")
        expect(section.locator(".documents-panel")).to_be_visible()  # loaded by htmx
        section.locator(".upload-card > summary").click()
        form = section.locator("form[data-upload]")
        expect(form).to_be_visible()
        assert_fits_phone(supplier)
        # The camera is one tap away and the category is already "photo".
        camera = form.locator("input[capture]")
        assert camera.get_attribute("capture") == "environment"
        assert camera.get_attribute("accept") == "image/*"
        expect(form.locator("select[name=category]")).to_have_value("photo")
        for target in (form.locator("label.photo-button"), form.locator("button[type=submit]")):
            box = target.bounding_box()
            assert box is not None
            assert box["height"] >= MIN_TARGET
        form.locator("input[name=title]").fill(title)
        camera.set_input_files({"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg(1200, 900)})
        form.locator("button[type=submit]").click()
        row = section.locator(".document-row", has_text=title)
        expect(row).to_be_visible(timeout=15_000)
        expect(row).to_contain_text("v1")
        # What was typed on the receipt is still there after the upload.
        expect(supplier.locator("form.receipt input[inputmode=decimal]").nth(0)).to_have_value("92")
        assert_fits_phone(supplier)

        supplier.click("form.receipt button[type=submit]")
        expect(supplier.locator(".badge.status-received_with_discrepancy")).to_be_visible()
        expect(supplier.locator("#dispatch-documents .document-row", has_text=title)).to_be_visible()
        assert_fits_phone(supplier)
    finally:
        context.close()

    desktop.goto(dispatch_url.replace(live_server, ""))
    expect(desktop.locator(".dispatch-line.flagged")).to_contain_text("8 kg 生锈 rusty")
    expect(desktop.locator("#dispatch-documents .document-row", has_text=title)).to_be_visible()
