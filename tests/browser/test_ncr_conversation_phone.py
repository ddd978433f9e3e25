"""The conversation on an NCR, between QA on a desktop and the supplier's
operator on a 360 px phone: QA asks on the NCR's page, the operator sees the
question marked new, answers with a photo inside the screen, and QA reads the
answer once."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, screenshot_path
from tests.browser.test_home_layout import OVERFLOW_JS
from tests.browser.test_ncr_phone import _open_ncr
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in
from tests.support.documents.samples import png

pytestmark = pytest.mark.browser


def test_qa_and_the_operator_talk_on_an_ncr(desktop: Page, browser: Browser, live_server: str, tmp_path: Path) -> None:
    title = f"划伤 Scratches {uuid4().hex[:6]}"
    url = _open_ncr(desktop, title).replace(live_server, "")
    shared = desktop.locator("#conversation .thread-shared")
    expect(shared).to_be_visible()
    expect(desktop.locator("#conversation .thread-internal")).to_have_count(1)
    shared.locator("textarea[name=body]").fill("隔离了多少件？ How many pieces are on hold?")
    shared.locator("button[type=submit]").click()
    expect(desktop.locator("#conversation .thread-shared .message.mine")).to_have_count(1)

    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        phone = context.new_page()
        sign_in(phone, "operator@precision.example")
        phone.goto(url)
        thread = phone.locator("#conversation .thread-shared")
        expect(thread.locator(".message.new")).to_contain_text("How many pieces are on hold?")
        expect(phone.locator("#conversation .thread-internal")).to_have_count(0)
        thread.locator("textarea[name=body]").fill("120 件已隔离 120 pcs on hold")
        thread.locator("input[type=file]").set_input_files({"name": "IMG_7.png", "mimeType": "image/png", "buffer": png()})
        thread.locator("button[type=submit]").click()
        answer = phone.locator("#conversation .thread-shared .message.mine").filter(has_text="120 pcs on hold")
        expect(answer).to_have_count(1)
        expect(answer.locator("img.thumb")).to_have_count(1)
        expect(phone.locator("#conversation .thread-shared .message.new")).to_have_count(0)
        answer.scroll_into_view_if_needed()
        phone.screenshot(path=screenshot_path(tmp_path, "ncr-conversation-phone.png"))
        assert_fits_phone(phone)
        assert phone.evaluate(OVERFLOW_JS)["outside"] == []
    finally:
        context.close()

    desktop.goto(url)
    answer = desktop.locator("#conversation .thread-shared .message.new").filter(has_text="120 pcs on hold")
    expect(answer).to_have_count(1)
    expect(desktop).to_have_url(re.compile(r"/ncrs/[0-9a-f-]{36}$"))
