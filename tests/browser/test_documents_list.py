"""The documents list on a phone, as a supplier's operator reaches it: from
the bottom bar, filtered by category without leaving the page, thumbnails of
the demo's progress photos, every target big enough for a gloved thumb."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ROOT
from tests.browser.test_documents_upload import assert_fits_phone, sign_in
from tests.browser.test_home_layout import OVERFLOW_JS, too_small_targets, watch_errors

pytestmark = pytest.mark.browser

SCREENSHOT = "docs/screenshots/phone-documents.png"


def test_an_operator_opens_documents_from_the_bar_and_filters_them(phone: Page) -> None:
    # The demo's progress photos get their previews from the sweep (the
    # demo loader renders none itself).
    rendered = subprocess.run([sys.executable, "-m", "portal", "storage", "thumbnails"], cwd=ROOT, capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    errors = watch_errors(phone)
    sign_in(phone, "operator@precision.example")
    phone.locator("nav.appnav a[href='/documents']").click()
    expect(phone).to_have_url(re.compile(r"/documents$"))
    expect(phone.locator("h1")).to_have_text("文件")
    expect(phone.locator("nav.appnav a[aria-current=page]")).to_have_attribute("href", "/documents")
    rows = phone.locator("#documents-panel .document-row")
    expect(rows.first).to_be_visible()
    expect(rows.first.locator("img.thumb")).to_have_js_property("complete", True)
    assert rows.first.locator("img.thumb").evaluate("img => img.naturalWidth") > 0
    assert rows.first.locator("a.download").get_attribute("href", timeout=1000) is not None
    phone.evaluate("document.fonts.ready.then(() => true)")
    phone.screenshot(path=SCREENSHOT)

    assert_fits_phone(phone)
    layout = phone.evaluate(OVERFLOW_JS)
    assert layout["outside"] == []
    assert too_small_targets(phone) == []

    count = rows.count()
    phone.select_option("#documents-category", "drawing")
    # The panel is swapped in place and the address follows the filter.
    expect(phone).to_have_url(re.compile(r"/documents\?q=&category=drawing&attached_type=$"))
    expect(phone.locator("#documents-panel .document-row")).to_have_count(0)
    expect(phone.locator("#documents-panel")).to_contain_text("没有符合条件的文件。")
    phone.select_option("#documents-category", "photo")
    expect(phone.locator("#documents-panel .document-row")).to_have_count(count)
    assert errors == []
