"""The supplier's phone: installable, a report with two photos online, the
same with the network cut and the page reloaded offline, and a retry storm
of one queued report. Each ends by asking the server what it stored."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tenants.demo import DEMO_PASSWORD
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, screenshot_path
from tests.browser.test_sign_in_and_invite import assert_fits_phone, sign_in

pytestmark = pytest.mark.browser

OPERATOR = "operator@precision.example"
TAP = 48


@pytest.fixture(scope="module")
def camera_photos() -> list[dict[str, Any]]:
    """Two 12-megapixel JPEGs (4000 x 3000) with texture and text, as a phone
    camera would hand them over."""
    from PIL import Image, ImageDraw

    photos = []
    for index in range(2):
        noise = Image.effect_noise((800, 600), 40 + index * 10).resize((4000, 3000), Image.Resampling.BICUBIC)
        image = Image.merge("RGB", (noise, noise.rotate(180), noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
        draw = ImageDraw.Draw(image)
        for x in range(0, 4000, 400):
            draw.text((x, 1500), f"LOT-2611-{index} #{x}", fill=(255, 255, 255))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        photos.append({"name": f"IMG_2026112{index}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()})
    return photos


def _api(live_server: str, path: str) -> Any:
    """What the server stored, asked as the supplier's admin through the API."""
    body = json.dumps({"email": "boss@precision.example", "password": DEMO_PASSWORD, "tenant": "acme"}).encode()
    login = urllib.request.Request(f"{live_server}/api/v1/auth/token", data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(login, timeout=10) as response:
        token = json.load(response)["access_token"]
    request = urllib.request.Request(f"{live_server}{path}", headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _stored(live_server: str, line_id: str, client_id: str) -> list[dict[str, Any]]:
    reports = _api(live_server, f"/api/v1/progress-reports?order_line_id={line_id}")["items"]
    return [report for report in reports if report["client_id"] == client_id]


def _open_report_screen(page: Page) -> str:
    """From the open-work list to the first line's report screen; returns the line id."""
    page.goto("/progress")
    link = page.locator("a[href^='/progress/lines/']").first
    href = link.get_attribute("href")
    assert href is not None
    link.click()
    expect(page).to_have_url(re.compile(r"/progress/lines/[0-9a-f-]{36}$"))
    return href.rsplit("/", 1)[1]


def _fill_report(page: Page, photos: list[dict[str, Any]], good: str) -> str:
    """Stage, quantity and two photos; returns the report's client id."""
    page.locator("label.stage").nth(1).click()
    page.fill("#f-good", good)
    page.fill("#f-note", "首件已检 first piece checked")
    page.locator("[data-photo-input]:not([capture])").set_input_files(photos)
    expect(page.locator("[data-photo-list] li")).to_have_count(2, timeout=30_000)
    client_id = page.locator("input[name=client_id]").input_value()
    assert re.fullmatch(r"[0-9a-f-]{36}", client_id)
    return client_id


def _wait_for_worker(page: Page) -> None:
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15_000)


def _phone(browser: Browser, live_server: str) -> BrowserContext:
    return browser.new_context(base_url=live_server, **PHONE)


def test_the_app_is_installable(browser: Browser, live_server: str, tmp_path: Path) -> None:
    # A profile on disk: Chromium never offers to install from an
    # incognito-like context, which every other test uses.
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, base_url=live_server, **PHONE
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        sign_in(page, OPERATOR)
        page.goto("/progress")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [], manifest["errors"]
        data = json.loads(manifest["data"])
        assert (data["display"], data["name"], data["lang"]) == ("standalone", "外协协同平台", "zh-CN")
        assert {icon["sizes"] for icon in data["icons"]} == {"192x192", "512x512"}
        assert any(icon["purpose"] == "maskable" for icon in data["icons"])
    finally:
        context.close()


def test_a_report_with_two_photos_sent_online(
    browser: Browser, live_server: str, camera_photos: list[dict[str, Any]], tmp_path: Path
) -> None:
    context = _phone(browser, live_server)
    try:
        page = context.new_page()
        sign_in(page, OPERATOR)
        line_id = _open_report_screen(page)
        assert_fits_phone(page)
        assert page.locator("#f-good").get_attribute("inputmode") == "decimal"
        for selector in ("label.stage", "#f-good", "button.send-report", "label.photo-button"):
            box = page.locator(selector).first.bounding_box()
            assert box is not None, selector
            assert box["height"] >= TAP, (selector, box)
        client_id = _fill_report(page, camera_photos, "1")
        # Made small on the phone: long edge 1600 px, well under 500 KB each.
        sizes = page.evaluate(
            """() => Promise.all(document.querySelector("form[data-outbox-form]").portalPhotos.map(p =>
                   createImageBitmap(p.blob).then(b => [p.blob.size, Math.max(b.width, b.height), p.blob.type])))"""
        )
        assert all(size < 500 * 1024 and edge == 1600 and kind == "image/jpeg" for size, edge, kind in sizes), sizes
        page.screenshot(path=screenshot_path(tmp_path, "phone-progress-report.png"), full_page=True)
        page.click("button.send-report")
        expect(page).to_have_url(re.compile(r"/progress\?sent=1$"), timeout=30_000)
        expect(page.locator("[data-outbox-sent]")).to_be_visible()
        stored = _stored(live_server, line_id, client_id)
        assert len(stored) == 1
        assert (stored[0]["photos_expected"], stored[0]["photos_received"]) == (2, 2)
        assert [photo["position"] for photo in stored[0]["photos"]] == [1, 2]
    finally:
        context.close()


def _queue_offline(page: Page, photos: list[dict[str, Any]]) -> tuple[str, str]:
    """Sign in, let the worker take over, cut the network, make a report."""
    sign_in(page, OPERATOR)
    page.goto("/progress")
    _wait_for_worker(page)
    line_id = _open_report_screen(page)
    page.context.set_offline(True)
    page.reload()  # the kept copy of the report screen, from the worker
    expect(page.locator("form[data-outbox-form]")).to_be_visible()
    client_id = _fill_report(page, photos, "2")
    page.click("button.send-report")
    expect(page).to_have_url(re.compile(r"/progress$"))
    expect(page.locator("[data-outbox-panel]")).to_be_visible()
    expect(page.locator("[data-outbox-item]")).to_have_count(1)
    return line_id, client_id


def test_a_report_made_offline_survives_a_reload_and_arrives_once(
    browser: Browser, live_server: str, camera_photos: list[dict[str, Any]], tmp_path: Path
) -> None:
    context = _phone(browser, live_server)
    try:
        page = context.new_page()
        line_id, client_id = _queue_offline(page, camera_photos)
        page.reload()  # still offline: the queue is on the phone
        expect(page.locator("[data-outbox-item]")).to_have_count(1)
        assert_fits_phone(page)
        page.screenshot(path=screenshot_path(tmp_path, "phone-outbox-offline.png"), full_page=True)
        assert _stored(live_server, line_id, client_id) == []

        context.set_offline(False)
        expect(page.locator("[data-outbox-panel]")).to_be_hidden(timeout=30_000)
        stored = _stored(live_server, line_id, client_id)
        assert len(stored) == 1
        assert stored[0]["photos_received"] == 2
    finally:
        context.close()


def test_a_retry_storm_of_one_queued_report_stores_it_once(browser: Browser, live_server: str, camera_photos: list[dict[str, Any]]) -> None:
    context = _phone(browser, live_server)
    try:
        page = context.new_page()
        line_id, client_id = _queue_offline(page, camera_photos)
        context.set_offline(False)
        outcomes = page.evaluate(
            """(id) => PortalOutbox.get(id).then(item => Promise.all([0, 1, 2, 3, 4].map(() =>
                   PortalOutbox.send(structuredClone(item), null).then(result => result.outcome))))""",
            client_id,
        )
        assert outcomes == ["ok"] * 5, outcomes
        page.wait_for_function("(id) => PortalOutbox.get(id).then(item => item === undefined)", arg=client_id, timeout=30_000)
        # The panel follows the store whichever sender emptied it: the
        # page's own flush, started when the network came back, once drew
        # it between one copy's put and another's remove, and kept it.
        expect(page.locator("[data-outbox-panel]")).to_be_hidden(timeout=10_000)
        stored = _stored(live_server, line_id, client_id)
        assert len(stored) == 1
        assert stored[0]["photos_received"] == 2
        assert len(stored[0]["photos"]) == 2
    finally:
        context.close()
