"""The conversation on an order, on a 360 px phone: the operator reads the
planner's question from the demo, answers with a photo, and the answer
shows once, inside the screen, with targets big enough for gloves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_home_layout import OVERFLOW_JS, watch_errors
from tests.browser.test_navigation import sign_in
from tests.support.documents.samples import png

pytestmark = pytest.mark.browser


def test_an_operator_answers_the_planner_with_a_photo_on_a_phone(phone: Page, tmp_path: Path) -> None:
    errors = watch_errors(phone)
    sign_in(phone, "operator@precision.example")
    phone.goto("/orders?status=in_production")
    links = phone.locator("a[href^='/orders/']").filter(has_text=re.compile(r"WO-"))
    expect(links.first).to_be_visible()
    # The demo asks its question on one order in production; the board's sort decides where it lists.
    pages = [links.nth(index).get_attribute("href") for index in range(links.count())]
    thread = phone.locator("#conversation .thread-shared")
    for page in pages:
        phone.goto(str(page))
        expect(phone).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}$"))
        expect(thread).to_be_visible()
        expect(phone.locator("#conversation .thread-internal")).to_have_count(0)
        if "热处理" in (thread.locator(".message").first.text_content() or ""):
            break
    expect(thread.locator(".message").first).to_contain_text("热处理")
    thread.scroll_into_view_if_needed()
    phone.screenshot(path=screenshot_path(tmp_path, "phone-conversation.png"), full_page=True)

    before = thread.locator(".message").count()
    thread.locator("textarea[name=body]").fill("今天装炉 Loaded into the furnace today")
    thread.locator("input[type=file]").set_input_files({"name": "IMG_1.png", "mimeType": "image/png", "buffer": png()})
    thread.locator("button[type=submit]").click()
    answer = phone.locator("#conversation .thread-shared .message.mine").filter(has_text="Loaded into the furnace today")
    expect(answer).to_have_count(1)
    expect(phone.locator("#conversation .thread-shared .message")).to_have_count(before + 1)
    # The outbox draws the message at once, text only; the photo comes with
    # the server's answer, which an upload on a busy machine can delay.
    expect(answer.locator("img.thumb")).to_have_count(1, timeout=30_000)
    answer.scroll_into_view_if_needed()
    phone.screenshot(path=screenshot_path(tmp_path, "phone-conversation-answered.png"))
    assert phone.evaluate(OVERFLOW_JS)["outside"] == []
    # The file input is drawn by its label, which is the target.
    targets = phone.locator("#conversation").locator("a, button, textarea, summary, label.button, label.checkbox-row")
    small = [
        box
        for box in (target.bounding_box() for target in targets.all() if target.is_visible())
        if box and min(box["width"], box["height"]) < 44
    ]
    assert small == []
    assert errors == []
