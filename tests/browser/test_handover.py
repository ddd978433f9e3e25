"""A full handover in the browser with the three parties, on a server of its
own (completing it moves demo work that other browser tests use): the demo's
running handover from Precision Machining to Nova Precision. The planner and
QA sign their entries on a desktop, each supplier its own on a 360 px phone
(the outgoing one with a photo as evidence), the planner completes; then the
outgoing supplier gets 404 on the handed-over order and Nova opens it."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, ROOT, _stop, _wait_until_healthy, screenshot_path
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in
from tests.support.documents import samples
from tests.support.ports import free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def handover_server(fresh_installation: Callable[[str], dict[str, str]]) -> Iterator[str]:
    env = fresh_installation("handover")
    subprocess.run([sys.executable, "-m", "portal", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_healthy(base_url, process, log)
            yield base_url
        finally:
            _stop(process)


def _open_running(page: Page) -> str:
    page.goto("/handovers?status=in_progress")
    page.locator("#handovers a.row-link").first.click()
    expect(page).to_have_url(re.compile(r"/handovers/[0-9a-f-]{36}"))
    return page.url.split("?")[0]


def _sign_all(page: Page, url: str, *, phone: bool = False) -> int:
    """Sign off every entry this person may sign, one form at a time."""
    signed = 0
    while True:
        page.goto(url)
        forms = page.locator("form.sign-off")
        if forms.count() == 0:
            return signed
        form = forms.first
        entry = page.locator("li.handover-item", has=form)
        if phone:
            assert_fits_phone(page)
        if entry.locator(".evidence").count():
            panel = entry.locator(".evidence")
            expect(panel.locator(".documents-panel")).to_be_visible()
            panel.locator(".upload-card > summary").click()
            panel.locator("form[data-upload] input[name=title]").fill("盘点照片 Count")
            panel.locator("form[data-upload] input[capture]").set_input_files(
                {"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg(800, 600)}
            )
            panel.locator("form[data-upload] button[type=submit]").click()
            expect(panel.locator(".document-row", has_text="盘点照片")).to_be_visible(timeout=15_000)
        select = form.locator("select[name=decision]")
        if select.count():
            select.select_option("transfer")
        form.locator("button[type=submit]").click()
        expect(page.locator(".alert.ok")).to_be_visible()
        signed += 1


def test_three_parties_hand_work_over(browser: Browser, handover_server: str, tmp_path: Path) -> None:
    contexts = {
        "planner": browser.new_context(base_url=handover_server, **DESKTOP),
        "qa": browser.new_context(base_url=handover_server, **DESKTOP),
        "outgoing": browser.new_context(base_url=handover_server, **PHONE),
        "incoming": browser.new_context(base_url=handover_server, **PHONE),
    }
    try:
        pages = {name: context.new_page() for name, context in contexts.items()}
        for name, email in (
            ("planner", "planner@acme.example"),
            ("qa", "qa@acme.example"),
            ("outgoing", "boss@precision.example"),
            ("incoming", "boss@nova.example"),
        ):
            sign_in(pages[name], email)
        url = _open_running(pages["planner"])
        path = url.replace(handover_server, "")
        order_links = pages["planner"].locator("li.handover-item strong", has_text=re.compile(r"WO-\d{4}-\d{5}"))
        numbers = sorted(set(re.findall(r"WO-\d{4}-\d{5}", " ".join(order_links.all_inner_texts()))))
        assert numbers, "the checklist names the open orders"

        # The outgoing supplier on its phone: its own entries, never the new supplier's name.
        outgoing = pages["outgoing"]
        outgoing.goto(path)
        expect(outgoing.locator("h1")).to_be_visible()
        assert "Nova" not in outgoing.content()
        assert_fits_phone(outgoing)
        outgoing.screenshot(path=screenshot_path(tmp_path, "handover-outgoing-phone-zh.png"), full_page=True)
        assert _sign_all(outgoing, path, phone=True) >= 1
        incoming = pages["incoming"]
        assert _sign_all(incoming, path, phone=True) >= 1
        incoming.screenshot(path=screenshot_path(tmp_path, "handover-incoming-phone-zh.png"), full_page=True)
        _sign_all(pages["qa"], path)
        _sign_all(pages["planner"], path)

        planner = pages["planner"]
        planner.goto(path)
        expect(planner.locator("#blocking-open")).to_have_text("0")
        planner.locator(f"form[action='{path}/complete'] button").click()
        expect(planner.locator(".badge.status-completed")).to_be_visible()
        expect(planner.locator("#transferred a")).not_to_have_count(0)
        new_order = planner.locator("#transferred a").first.get_attribute("href")
        assert new_order

        # The outgoing supplier lost the handed-over orders; Nova holds the new ones.
        outgoing.goto("/orders")
        board = outgoing.content()
        for number in numbers:
            assert number not in board
        incoming.goto(new_order)
        expect(incoming.locator("h1")).to_be_visible()
        assert_fits_phone(incoming)
        response = outgoing.goto(new_order)
        assert response is not None
        assert response.status == 404
    finally:
        for context in contexts.values():
            context.close()
