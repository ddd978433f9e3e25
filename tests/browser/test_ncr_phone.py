"""An NCR from the supplier's phone: QA opens and sends it on the desktop;
the supplier's operator answers containment at 360 px with a photo from the
camera input of the step's evidence panel and a few words; QA accepts it
and the NCR moves on to the root cause."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, screenshot_path
from tests.browser.test_documents_upload import MIN_TARGET
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in
from tests.support.documents import samples

pytestmark = pytest.mark.browser


def _open_ncr(qa: Page, title: str) -> str:
    sign_in(qa, "qa@acme.example")
    qa.goto("/ncrs")
    qa.click("a[href='/ncrs/new']")
    supplier = qa.locator("#f-supplier_id option", has_text="S-PM").get_attribute("value")
    assert supplier
    qa.select_option("#f-supplier_id", value=supplier)
    qa.fill("#f-title", title)
    qa.select_option("#f-severity", value="major")
    qa.fill("#f-description", "孔径 Ø12H7 有毛刺 Burrs in bore Ø12H7")
    qa.fill("#f-lots", "LOT-2041")
    qa.fill("#f-quantity", "12")
    qa.click("form.ncr-new button[type=submit]")
    expect(qa).to_have_url(re.compile(r"/ncrs/[0-9a-f-]{36}$"))
    qa.click("#ncr-issue button[type=submit]")
    expect(qa.locator(".badge.status-containment")).to_be_visible()
    return qa.url


def test_supplier_answers_containment_with_a_photo_from_a_phone_and_qa_accepts(
    desktop: Page, browser: Browser, live_server: str, tmp_path: Path
) -> None:
    title = f"毛刺 Burrs {uuid4().hex[:6]}"
    url = _open_ncr(desktop, title).replace(live_server, "")
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        phone = context.new_page()
        sign_in(phone, "operator@precision.example")
        phone.goto("/")
        home = phone.locator("#home-ncrs .ncr-row", has_text=title)
        expect(home).to_be_visible()
        home.locator("a").click()
        expect(phone).to_have_url(re.compile(re.escape(url) + "$"))
        step = phone.locator("#step-containment")
        panel = step.locator(".documents-panel")
        expect(panel).to_be_visible()  # loaded by htmx
        step.locator(".upload-card > summary").click()
        form = step.locator("form[data-upload]")
        expect(form).to_be_visible()
        assert_fits_phone(phone)
        camera = form.locator("input[capture]")
        assert camera.get_attribute("capture") == "environment"
        for target in (form.locator("label.photo-button"), step.locator(".ncr-answer-form button[type=submit]")):
            box = target.bounding_box()
            assert box is not None
            assert box["height"] >= MIN_TARGET
        # "Take a photo" opens the camera input of its own panel (the page
        # may hold the NCR's panel too: ids are per panel).
        with phone.expect_file_chooser() as chooser:
            form.locator("label.photo-button").click()
        assert chooser.value.element.evaluate("(input, form) => form.contains(input)", form.element_handle())
        chooser.value.set_files({"name": "IMG_0412.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg(1200, 900)})
        form.locator("button[type=submit]").click()
        expect(step.locator(".document-row")).to_have_count(1, timeout=15_000)
        step.locator("textarea[name=text]").fill("已隔离 120 件并全检，3 件不合格 Sorted 120 pcs, 3 bad")
        phone.screenshot(path=screenshot_path(tmp_path, "ncr-answer-phone.png"), full_page=True)
        step.locator(".ncr-answer-form button[type=submit]").click()
        expect(phone.locator(".badge.status-containment")).to_contain_text("等待质检")
        expect(phone.locator("#step-containment .ncr-entry")).to_contain_text("Sorted 120 pcs")
        expect(phone.locator("#step-containment .ncr-entry a")).to_have_count(1)
        assert_fits_phone(phone)
    finally:
        context.close()

    desktop.goto(url)
    expect(desktop.locator("#step-containment .ncr-entry")).to_contain_text("Sorted 120 pcs")
    desktop.locator("#step-containment .ncr-accept-form button[type=submit]").click()
    expect(desktop.locator(".badge.status-root_cause")).to_be_visible()
    expect(desktop.locator("#step-containment .badge.step-state-accepted")).to_be_visible()
