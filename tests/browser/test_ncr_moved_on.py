"""A long answer typed on the phone while QA moves the NCR on: the supplier's
operator has answered containment and writes a better answer; QA accepts the
first one meanwhile, so the NCR moves on to the root cause. Sending the long
text is refused with the reason in Chinese, and the text is still there:

- with JavaScript (the phone's outbox posts the answer): in the step's
  textarea, under the refusal;
- without JavaScript (a plain form post): on the re-rendered NCR page, kept
  beside the message (templates/_partials/forms.html), and not put into the
  root cause's answer form, which is another step's."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, screenshot_path
from tests.browser.test_ncr_phone import _open_ncr
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in

pytestmark = pytest.mark.browser

LONG = (
    "围堵措施：已隔离仓库内全部 120 件，并对在途 40 件通知物流暂停；全检后 3 件孔径超差，已标识并单独存放。\n"
    "Containment: all 120 pcs in stock quarantined, the 40 in transit held; 100 % inspection found 3 bores out of "
    "tolerance, tagged and kept apart. 复检记录见附件。"
)


def _write_answer(page: Page, url: str) -> None:
    page.goto(url)
    step = page.locator("#step-containment")
    expect(step.locator(".ncr-answer-form button[type=submit]")).to_be_visible()
    step.locator("textarea[name=text]").fill(LONG)


def test_a_long_answer_survives_qa_moving_the_ncr_on(desktop: Page, browser: Browser, live_server: str, tmp_path: Path) -> None:
    url = _open_ncr(desktop, f"移位 Moved on {uuid4().hex[:6]}").replace(live_server, "")
    with_js = browser.new_context(base_url=live_server, **PHONE)
    without_js = browser.new_context(base_url=live_server, java_script_enabled=False, **PHONE)
    try:
        phone, plain = with_js.new_page(), without_js.new_page()
        sign_in(phone, "operator@precision.example")
        expect(phone).not_to_have_url(re.compile("/login"))
        phone.goto(url)
        step = phone.locator("#step-containment")
        step.locator("textarea[name=text]").fill("已隔离 Quarantined")
        step.locator(".ncr-answer-form button[type=submit]").click()
        expect(phone.locator("#step-containment .ncr-entry")).to_contain_text("Quarantined")

        # Both phones write the better answer; QA accepts the first meanwhile.
        sign_in(plain, "operator@precision.example")
        expect(plain).not_to_have_url(re.compile("/login"))
        _write_answer(phone, url)
        _write_answer(plain, url)
        desktop.goto(url)
        desktop.locator("#step-containment .ncr-accept-form button[type=submit]").click()
        expect(desktop.locator(".badge.status-root_cause")).to_be_visible()

        # With JavaScript: the outbox's refusal, the text still in its textarea.
        step = phone.locator("#step-containment")
        step.locator(".ncr-answer-form button[type=submit]").click()
        refusal = step.locator("[data-answer-error]")
        expect(refusal).to_be_visible()
        expect(refusal).to_contain_text(re.compile(r"[\u4e00-\u9fff]"))
        expect(step.locator("textarea[name=text]")).to_have_value(LONG)
        assert_fits_phone(phone)
        phone.screenshot(path=screenshot_path(tmp_path, "ncr-moved-on-phone.png"), full_page=True)

        # Without JavaScript: the NCR page again, the message and the kept text.
        plain.locator("#step-containment .ncr-answer-form button[type=submit]").click()
        expect(plain).to_have_url(re.compile(re.escape(url) + "/steps/"))
        expect(plain.locator(".alert.error").first).to_contain_text(re.compile(r"[\u4e00-\u9fff]"))
        kept = plain.locator("#kept-input textarea[data-kept=text]")
        expect(kept).to_have_value(LONG)
        expect(plain.locator(".badge.status-root_cause")).to_be_visible()
        expect(plain.locator("#step-root_cause textarea[name=text]")).to_have_value("")
        assert_fits_phone(plain)
        plain.screenshot(path=screenshot_path(tmp_path, "ncr-moved-on-no-script.png"), full_page=True)
    finally:
        with_js.close()
        without_js.close()

    # Nothing was saved over QA's decision: containment stays accepted, with
    # the first answer only.
    desktop.goto(url)
    expect(desktop.locator("#step-containment .badge.step-state-accepted")).to_be_visible()
    expect(desktop.locator("#step-containment .ncr-entry.entry-answer")).to_have_count(1)


def test_an_answer_queued_offline_and_refused_later_keeps_its_words(phone: Page, desktop: Page, tmp_path: Path) -> None:
    """The phone queues a better answer offline; QA accepts the first meanwhile;
    the phone opens the NCR again once it is online: containment has no form
    any more, the queued answer is refused, and the page shows the reason and
    the words (the inbox's outbox panel shows them too) until the operator
    discards them."""
    url = re.sub(r"^https?://[^/]+", "", _open_ncr(desktop, f"离线移位 Queued {uuid4().hex[:6]}"))
    sign_in(phone, "operator@precision.example")
    expect(phone).not_to_have_url(re.compile("/login"))
    phone.goto(url)
    step = phone.locator("#step-containment")
    step.locator("textarea[name=text]").fill("已隔离 Quarantined")
    step.locator(".ncr-answer-form button[type=submit]").click()
    expect(phone.locator("#step-containment .ncr-entry")).to_contain_text("Quarantined")

    phone.context.set_offline(True)
    step = phone.locator("#step-containment")
    step.locator("textarea[name=text]").fill(LONG)
    step.locator(".ncr-answer-form button[type=submit]").click()
    expect(step.locator("[data-answer-waiting]")).to_be_visible()
    desktop.goto(url)
    desktop.locator("#step-containment .ncr-accept-form button[type=submit]").click()
    expect(desktop.locator(".badge.status-root_cause")).to_be_visible()

    # A fresh page once the connection is back: the step's form is gone.
    context = phone.context
    phone.close()
    context.set_offline(False)
    page = context.new_page()
    page.goto(url)
    expect(page.locator(".badge.status-root_cause")).to_be_visible()
    orphan = page.locator("[data-answer-orphans] .orphan-answer")
    expect(orphan).to_have_count(1, timeout=30_000)
    expect(orphan.locator(".field-error")).to_contain_text(re.compile(r"[\u4e00-\u9fff]"))
    expect(orphan.locator("textarea")).to_have_value(LONG)
    expect(page.locator("#step-root_cause textarea[name=text]")).to_have_value("")
    assert_fits_phone(page)
    page.screenshot(path=screenshot_path(tmp_path, "ncr-queued-answer-refused.png"), full_page=True)

    # Still on the phone: the inbox's panel names it with its words.
    page.goto("/inbox")
    kept = page.locator("[data-outbox-panel] .kept-text")
    expect(kept).to_have_text(LONG)
    assert_fits_phone(page)

    # Discarded on purpose: gone from the page and from the phone.
    page.goto(url)
    orphan = page.locator("[data-answer-orphans] .orphan-answer")
    expect(orphan).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    orphan.locator("button").click()
    expect(orphan).to_have_count(0)
    assert page.evaluate("PortalOutbox.all().then(items => items.length)") == 0
    page.reload()
    expect(page.locator("[data-answer-orphans] .orphan-answer")).to_have_count(0)
    page.close()
