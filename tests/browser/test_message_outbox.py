"""A message written offline is sent once: the supplier's operator answers
the planner's question with a photo from a 360 px phone while the network
is cut; the message waits on the phone, goes when the connection returns,
and the planner sees it exactly once."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_home_layout import OVERFLOW_JS
from tests.browser.test_navigation import sign_in
from tests.support.documents.samples import png

pytestmark = pytest.mark.browser


def test_an_answer_written_offline_with_a_photo_reaches_the_planner_once(phone: Page, desktop: Page, tmp_path: Path) -> None:
    sign_in(phone, "operator@precision.example")
    phone.goto("/orders?status=in_production")
    phone.locator("a[href^='/orders/']").filter(has_text=re.compile(r"WO-")).first.click()
    expect(phone).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}$"))
    order_path = re.sub(r"^https?://[^/]+", "", phone.url)
    thread = phone.locator("#conversation .thread-shared")
    # Other browser tests move demo orders between statuses on the shared
    # server, so which order comes first varies: any order's thread will do.
    expect(thread.locator("textarea[name=body]")).to_be_visible()
    before = thread.locator(".message").count()

    words = f"离线回复 answered offline {uuid4().hex[:8]}"
    phone.context.set_offline(True)
    thread.locator("textarea[name=body]").fill(words)
    thread.locator("input[type=file]").set_input_files({"name": "IMG_2.png", "mimeType": "image/png", "buffer": png()})
    thread.locator("button[type=submit]").click()
    waiting = phone.locator("#conversation .thread-shared .message.waiting")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text(words)
    assert phone.evaluate("PortalOutbox.all().then(items => items.filter(item => item.kind === 'message').length)") == 1
    waiting.scroll_into_view_if_needed()
    phone.screenshot(path=screenshot_path(tmp_path, "phone-message-offline.png"))
    assert phone.evaluate(OVERFLOW_JS)["outside"] == []

    phone.context.set_offline(False)
    sent = phone.locator("#conversation .thread-shared .message.mine").filter(has_text=words)
    expect(sent).to_have_count(1, timeout=30_000)
    expect(phone.locator("#conversation .message.waiting")).to_have_count(0)
    expect(sent.locator("img.thumb")).to_have_count(1)
    assert phone.evaluate("PortalOutbox.all().then(items => items.filter(item => item.kind === 'message').length)") == 0
    # Coming back again sends nothing twice.
    phone.reload()
    expect(phone.locator("#conversation .thread-shared .message")).to_have_count(before + 1)

    sign_in(desktop, "planner@acme.example")
    desktop.goto(order_path)
    seen = desktop.locator("#conversation .thread-shared .message").filter(has_text=words)
    expect(seen).to_have_count(1)
    expect(seen.locator("img.thumb")).to_have_count(1)
