"""The documents list on a phone, as a supplier's operator reaches it: from
the bottom bar, filtered by category without leaving the page, thumbnails of
the demo's progress photos, every target big enough for a gloved thumb."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_documents_upload import assert_fits_phone, sign_in
from tests.browser.test_home_layout import OVERFLOW_JS, too_small_targets, watch_errors

pytestmark = pytest.mark.browser


def test_an_operator_opens_documents_from_the_bar_and_filters_them(phone: Page, tmp_path: Path) -> None:
    errors = watch_errors(phone)
    sign_in(phone, "operator@precision.example")
    phone.locator("nav.appnav a[href='/documents']").click()
    expect(phone).to_have_url(re.compile(r"/documents$"))
    expect(phone.locator("h1")).to_have_text("文件")
    expect(phone.locator("nav.appnav a[aria-current=page]")).to_have_attribute("href", "/documents")
    rows = phone.locator("#documents-panel .document-row")
    expect(rows.first).to_be_visible()
    # The newest rows may be photos other tests of this server uploaded a
    # moment ago, their previews still being made: the demo's are ready.
    thumb = rows.locator("img.thumb").first
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") > 0
    assert rows.first.locator("a.download").get_attribute("href", timeout=1000) is not None
    phone.evaluate("document.fonts.ready.then(() => true)")
    phone.screenshot(path=screenshot_path(tmp_path, "phone-documents.png"))

    assert_fits_phone(phone)
    layout = phone.evaluate(OVERFLOW_JS)
    assert layout["outside"] == []
    assert too_small_targets(phone) == []

    # The demo shows the operator photos and QC reports; no invoices.
    photos = rows.filter(has_text="照片").count()
    assert 0 < photos < rows.count()
    phone.select_option("#documents-category", "invoice")
    # The panel is swapped in place and the address follows the filter.
    expect(phone).to_have_url(re.compile(r"/documents\?q=&category=invoice&attached_type=$"))
    expect(phone.locator("#documents-panel .document-row")).to_have_count(0)
    expect(phone.locator("#documents-panel")).to_contain_text("没有符合条件的文件。")
    phone.select_option("#documents-category", "photo")
    expect(phone).to_have_url(re.compile(r"/documents\?q=&category=photo&attached_type=$"))
    # A page of photos: at least those of the first page of everything (the
    # server's other tests add photos beyond it), and nothing else.
    photo_rows = phone.locator("#documents-panel .document-row")
    expect(photo_rows.first).to_be_visible()
    expect(photo_rows.filter(has_not_text="照片")).to_have_count(0)
    assert photo_rows.count() >= photos
    assert errors == []
