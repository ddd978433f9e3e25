"""An NCR step answered offline is sent once: QA sends an NCR; the
supplier's operator opens it on a 360 px phone, loses the connection and
answers containment with a photo; the answer waits on the phone, goes when
the connection returns, and QA sees it (and its photo) exactly once."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_home_layout import OVERFLOW_JS
from tests.browser.test_navigation import sign_in
from tests.browser.test_ncr_phone import _open_ncr
from tests.support.documents import samples

pytestmark = pytest.mark.browser

QUEUED_ANSWERS = "PortalOutbox.all().then(items => items.filter(item => item.kind === 'answer').length)"


def test_an_answer_written_offline_with_a_photo_reaches_qa_once(phone: Page, desktop: Page, tmp_path: Path) -> None:
    title = f"离线 Offline {uuid4().hex[:6]}"
    url = re.sub(r"^https?://[^/]+", "", _open_ncr(desktop, title))

    sign_in(phone, "operator@precision.example")
    phone.goto(url)
    step = phone.locator("#step-containment")
    form = step.locator("form.ncr-answer-form")
    expect(form).to_be_visible()
    words = f"已隔离全部库存 sorted offline {uuid4().hex[:8]}"

    phone.context.set_offline(True)
    form.locator("textarea[name=text]").fill(words)
    form.locator("input[type=file]").set_input_files({"name": "IMG_0413.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg(800, 600)})
    expect(form.locator("[data-answer-photo]")).to_have_text("IMG_0413.jpg")
    form.locator("button[type=submit]").click()
    waiting = step.locator("[data-answer-waiting]")
    expect(waiting).to_be_visible()
    expect(waiting).to_contain_text(words)
    expect(form).to_be_hidden()
    assert phone.evaluate(QUEUED_ANSWERS) == 1
    waiting.scroll_into_view_if_needed()
    phone.screenshot(path=screenshot_path(tmp_path, "ncr-answer-offline.png"))
    assert phone.evaluate(OVERFLOW_JS)["outside"] == []

    phone.context.set_offline(False)
    # Sent when the connection returns; the page is drawn again from the server.
    entry = phone.locator("#step-containment .ncr-entry.entry-answer")
    expect(entry).to_have_count(1, timeout=30_000)
    expect(entry).to_contain_text(words)
    expect(entry.locator("a[href^='/documents/']")).to_have_count(1)
    expect(phone.locator(".badge.status-containment")).to_contain_text("等待质检")
    assert phone.evaluate(QUEUED_ANSWERS) == 0
    # Coming back again sends nothing twice.
    phone.reload()
    expect(phone.locator("#step-containment .ncr-entry.entry-answer")).to_have_count(1)

    desktop.goto(url)
    seen = desktop.locator("#step-containment .ncr-entry.entry-answer")
    expect(seen).to_have_count(1)
    expect(seen).to_contain_text(words)
    expect(desktop.locator("#step-containment .ncr-accept-form button[type=submit]")).to_be_enabled()
