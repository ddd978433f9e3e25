"""Uploading a document from a phone, as a buyer admin does it: open a
supplier, add a photo through the widget, see it listed with its thumbnail.
Once through the app (local storage, the embedded default) and once the
direct way, straight from the browser to an S3 server (rclone)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, ROOT, _stop, _wait_until_healthy
from tests.support.documents import samples
from tests.support.documents.rclone import cors_front, rclone_s3
from tests.support.ports import free_port

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "demo-password-2026"
MIN_TARGET = 44


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("nav.appnav")).to_be_visible()


def assert_fits_phone(page: Page) -> None:
    overflow = page.evaluate("() => document.body.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def upload_photo_on_supplier_page(page: Page) -> str:
    """Open the first supplier, add a photo through the widget; returns its title."""
    page.goto("/admin/suppliers")
    page.locator("a.row-link", has_text="S-PM").click()
    expect(page).to_have_url(re.compile(r"/admin/suppliers/[0-9a-f-]+$"))
    panel = page.locator(".documents-panel")
    expect(panel).to_be_visible()  # loaded by htmx into the supplier page
    page.locator(".upload-card > summary").click()
    form = page.locator("form[data-upload]")
    expect(form).to_be_visible()
    assert_fits_phone(page)
    camera = form.locator("input[capture]")
    assert camera.get_attribute("capture") == "environment"
    assert camera.get_attribute("accept") == "image/*"
    # Its label names this panel's input (ids are per panel).
    assert form.locator("label.photo-button").get_attribute("for") == camera.get_attribute("id")
    button = form.locator("button[type=submit]").bounding_box()
    assert button is not None
    assert button["height"] >= MIN_TARGET
    title = f"Weld seam {uuid4().hex[:6]}"
    form.locator("select[name=category]").select_option("photo")
    assert ".heic" in (form.locator("input[data-upload-typed]").get_attribute("accept") or "")
    form.locator("input[name=title]").fill(title)
    form.locator("input[data-upload-typed]").set_input_files(
        {"name": "weld.png", "mimeType": "image/png", "buffer": samples.png(1200, 900, (180, 60, 40))}
    )
    expect(form.locator("[data-upload-chosen]")).to_have_text("weld.png")
    form.locator("button[type=submit]").click()
    row = page.locator(".document-row", has_text=title)
    expect(row).to_be_visible(timeout=15_000)
    # The preview is rendered off the request path; the panel looks again
    # until it is there. It is the server's first CPU-heavy job: its child
    # process starts now, at a lower priority than requests
    # (portal/jobs/children.py), and with the suite's other phases holding
    # both cores that start took longer than 20 s in a CI run.
    thumb_link = row.locator("a.thumb-link")
    expect(thumb_link).to_be_visible(timeout=120_000)
    assert re.search(r"/documents/[0-9a-f-]+/versions/[0-9a-f-]+/thumbnail\?size=preview$", thumb_link.get_attribute("href") or "")
    expect(row.locator("img.thumb")).to_have_js_property("complete", True)
    assert row.locator("img.thumb").evaluate("img => img.naturalWidth") > 0
    assert_fits_phone(page)
    return title


def test_buyer_admin_uploads_a_photo_from_the_supplier_page(phone: Page) -> None:
    sign_in(phone, "admin@acme.example")
    title = upload_photo_on_supplier_page(phone)
    phone.locator(".document-row", has_text=title).locator("a.document-link").click()
    expect(phone.locator("h1")).to_contain_text(title)
    expect(phone.locator("img.preview")).to_be_visible()
    expect(phone.locator(".versions li")).to_have_count(1)
    assert_fits_phone(phone)
    with phone.expect_download() as download:
        phone.locator("a.button.primary", has_text="下载").click()
    assert download.value.suggested_filename == "weld.png"


def test_a_refused_file_shows_a_clear_message_and_nothing_is_listed(phone: Page) -> None:
    sign_in(phone, "admin@acme.example")
    phone.goto("/admin/suppliers")
    phone.locator("a.row-link", has_text="S-PM").click()
    phone.locator(".upload-card > summary").click()
    form = phone.locator("form[data-upload]")
    form.locator("select[name=category]").select_option("drawing")
    form.locator("input[data-upload-typed]").set_input_files(
        {"name": "drawing.svg", "mimeType": "image/svg+xml", "buffer": samples.svg_with_script()}
    )
    phone.locator("form[data-upload] button[type=submit]").click()
    error = phone.locator("[data-upload-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("脚本")  # "contains scripts or active content", in Chinese
    expect(phone.locator(".document-row", has_text="drawing.svg")).to_have_count(0)


@pytest.fixture(scope="module")
def s3_server_app(fresh_installation: Callable[[str], dict[str, str]]) -> Iterator[str]:
    """A second portal process, on an installation of its own with the demo
    data and on S3 storage whose CORS answers follow the
    rule ``portal storage cors`` prints for it: the browser's direct upload
    passes its preflight only if that rule allows what it sends."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    printed = subprocess.run(
        [sys.executable, "-m", "portal", "storage", "cors"],
        cwd=ROOT,
        env={**os.environ, "PORTAL_BASE_URL": base_url},
        check=True,
        capture_output=True,
        text=True,
    )
    [rule] = json.loads(printed.stdout)["CORSRules"]
    with rclone_s3() as server, cors_front(server.endpoint, rule) as endpoint:
        bucket = server.create_bucket("portal-browser")
        env = {
            **fresh_installation("s3"),
            "PORTAL_STORAGE_URL": f"s3://{bucket}",
            "PORTAL_S3_ENDPOINT": endpoint,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_REGION": server.region,
            "PORTAL_BASE_URL": base_url,
        }
        subprocess.run([sys.executable, "-m", "portal", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "portal", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                _wait_until_healthy(base_url, process, log)
                yield base_url
            finally:
                _stop(process)


def test_the_widget_uploads_straight_to_s3(browser: Browser, s3_server_app: str) -> None:
    context = browser.new_context(base_url=s3_server_app, **PHONE)
    try:
        page = context.new_page()
        portal_requests: list[str] = []
        problems: list[str] = []
        page.on("request", lambda request: portal_requests.append(f"{request.method} {request.url}"))
        page.on("requestfailed", lambda request: problems.append(f"failed {request.method} {request.url}: {request.failure}"))
        page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}"))
        sign_in(page, "admin@acme.example")
        assert page.locator("body").count() == 1
        try:
            upload_photo_on_supplier_page(page)
        except AssertionError as error:
            raise AssertionError(f"{error}\n" + "\n".join(problems)) from None
        # The bytes went to storage, not through the portal.
        puts = [line for line in portal_requests if line.startswith("PUT ")]
        assert len(puts) == 1
        assert not puts[0].startswith(f"PUT {s3_server_app}")
        assert any(line.startswith(f"POST {s3_server_app}/documents/uploads/confirm") for line in portal_requests)
        assert not any(
            line.startswith(f"POST {s3_server_app}/documents/ ") or line == f"POST {s3_server_app}/documents/" for line in portal_requests
        )
    finally:
        context.close()
