"""Browser tests: the real app served by uvicorn in a subprocess, driven by
Debian's Chromium through Playwright.

The server runs on an installation of its own (var dir, database) with the
demo data, made once per test process: the demo never lands in the database
the other tests use.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Playwright cannot download its own browsers here; as root and without
# background networking turned off, Chromium's start-up calls hang on the
# closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
STARTUP_SECONDS = 90.0
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}


def screenshot_path(tmp_path: Path, name: str) -> str:
    """Where a screenshot goes: the test's own folder, or the README's
    pictures when PORTAL_SCREENSHOT_DIR=docs/screenshots asks to refresh them."""
    return str(Path(os.environ.get("PORTAL_SCREENSHOT_DIR") or tmp_path) / name)


def open_place(page: Page, href: str) -> None:
    """Follow the navigation to ``href`` the way a person does: on a phone a
    place that is not on the bottom bar sits behind "Menu"."""
    link = page.locator(f"nav.appnav a[href='{href}']")
    link.wait_for(state="attached")
    if not link.is_visible():
        page.locator("nav.appnav .appnav-more").click()
    link.click()


_SERVER_LOG: dict[str, Path] = {}
SERVER_LOG_LINES = 60


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    # What the server said while a test failed (a 503, a traceback) is gone
    # with the run otherwise.
    path = _SERVER_LOG.get("path")
    if report.failed and path is not None and path.exists() and "live_server" in getattr(item, "fixturenames", ()):
        tail = path.read_bytes().decode(errors="replace").splitlines()[-SERVER_LOG_LINES:]
        report.sections.append(("live server log (last lines)", "\n".join(tail)))


def _answers_health(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:
            status: int = response.status
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
    return status == 200


def _output(log: IO[bytes]) -> str:
    # pread leaves the file offset alone: the server shares it and may
    # still be writing.
    size = os.fstat(log.fileno()).st_size
    return os.pread(log.fileno(), size, 0).decode(errors="replace")


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"portal serve exited with {process.returncode}:\n{_output(log)}")
        if _answers_health(base_url):
            return
        time.sleep(0.2)
    pytest.fail(f"portal serve did not answer GET /health with 200 within {STARTUP_SECONDS:.0f} s:\n{_output(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def live_installation(fresh_installation: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """The environment of the live server's installation, demo data loaded:
    the demo accounts are what a person trying the portal signs in with."""
    env = fresh_installation("live")
    subprocess.run([sys.executable, "-m", "portal", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


@pytest.fixture(scope="session")
def live_outbox(live_installation: dict[str, str]) -> Path:
    """Where the live server writes its emails."""
    return Path(live_installation["PORTAL_VAR_DIR"]) / "outbox"


@pytest.fixture(scope="session")
def live_server(live_installation: dict[str, str]) -> Iterator[str]:
    """Base URL of the app served over real HTTP, with the demo data loaded."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # A file, not a pipe: nobody reads the server's log while tests run, and a
    # full pipe would block the server. A failed test's report ends with it.
    _SERVER_LOG["path"] = Path(live_installation["PORTAL_VAR_DIR"]) / "serve.log"
    with _SERVER_LOG["path"].open("w+b") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal", "serve", "--port", str(port)],
            cwd=ROOT,
            # Links in emails point at this server.
            env={**live_installation, "PORTAL_BASE_URL": base_url},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_healthy(base_url, process, log)
            yield base_url
        finally:
            _stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _page(browser: Browser, base_url: str, options: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    """A cheap Android phone: 360 x 740 CSS px, touch, Simplified Chinese."""
    yield from _page(browser, live_server, PHONE)


@pytest.fixture
def desktop(browser: Browser, live_server: str) -> Iterator[Page]:
    """An office screen: 1280 x 800 CSS px, mouse, Simplified Chinese."""
    yield from _page(browser, live_server, DESKTOP)
