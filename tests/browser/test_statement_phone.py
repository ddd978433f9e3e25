"""The supplier admin answers a statement on a 360 px phone: the demo's
statement of last period waits with a disputed line; a line is confirmed
in one tap, disputed in two (open, send), and finance sees the dispute."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, open_place, screenshot_path
from tests.browser.test_deliveries import assert_big_enough
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in

pytestmark = pytest.mark.browser


def test_the_supplier_answers_line_by_line_on_a_phone(phone: Page, browser: Browser, live_server: str, tmp_path: Path) -> None:
    boss = phone
    sign_in(boss, "boss@precision.example")
    open_place(boss, "/statements")
    expect(boss).to_have_url(re.compile(r"/statements$"))
    assert_fits_phone(boss)
    # Drafts are finance's own: the supplier sees the finalized and the disputed one.
    expect(boss.locator("#statements .badge")).to_have_count(2)
    boss.locator("#statements a:has(.status-finalized)").first.click()
    expect(boss.locator("h1")).to_contain_text("精密机加工厂")
    expect(boss.locator(".statement-line")).not_to_have_count(0)
    expect(boss.locator(".line-actions")).to_have_count(0)
    boss.goto("/statements")
    boss.locator("#statements a:has(.status-disputed)").first.click()
    expect(boss).to_have_url(re.compile(r"/statements/[0-9a-f-]{36}$"))
    assert_fits_phone(boss)
    expect(boss.locator(".statement-line.state-disputed")).to_have_count(1)
    boss.screenshot(path=screenshot_path(tmp_path, "statement-phone-zh.png"), full_page=True)

    # Finance answers the dispute with a correction on a desktop.
    desk = browser.new_context(base_url=live_server, **DESKTOP)
    try:
        finance = desk.new_page()
        sign_in(finance, "finance@acme.example")
        finance.goto(boss.url)
        finance.fill("form.answer textarea", "按送货单 50 件更正 Corrected to the delivery note")
        finance.fill("form.answer input[name=correction]", "-10.00")
        finance.click("form.answer button[type=submit]")
        expect(finance.locator(".alert.ok")).to_be_visible()
    finally:
        desk.close()

    boss.reload()
    open_lines = boss.locator(".statement-line.state-open")
    expect(open_lines).to_have_count(2)
    assert_big_enough(boss, ".statement-line.state-open .line-actions button")
    assert_big_enough(boss, ".statement-line.state-open .line-actions summary")
    # Confirm: one tap.
    open_lines.first.locator(".line-actions button").first.click()
    expect(boss.locator(".alert.ok")).to_be_visible()
    expect(boss.locator(".statement-line.state-open")).to_have_count(1)
    # Dispute: open the form, write, send.
    line = boss.locator(".statement-line.state-open").first
    line.locator("summary").click()
    line.locator("textarea").fill("更正金额不对 The correction is wrong")
    assert_fits_phone(boss)
    line.locator("button.danger").click()
    expect(boss.locator(".statement-line.state-disputed")).to_have_count(1)
    expect(boss.locator(".badge.status-disputed")).to_be_visible()
    assert_fits_phone(boss)
    boss.screenshot(path=screenshot_path(tmp_path, "statement-phone-disputed-zh.png"), full_page=True)
