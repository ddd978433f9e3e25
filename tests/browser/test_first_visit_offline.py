"""A supplier's first visit: the page open when the service worker takes
control is kept, so reloading it without a connection shows that page, not
the offline page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tenants.demo import DEMO_PASSWORD
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

KEPT_JS = "() => { caches.match('/').then((hit) => { window.homeKept = hit !== undefined; }); return window.homeKept === true; }"


def test_the_home_seen_on_a_first_visit_opens_again_offline(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        # Signed in without opening a page, so that the home is the first
        # page this phone ever loads and no worker could see it load.
        context.request.get("/login")
        csrf = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "csrftoken")
        form = {"email": "operator@precision.example", "password": DEMO_PASSWORD, "next": "/", "_csrf_token": csrf}
        assert context.request.post("/login", form=form, max_redirects=0).status == 303
        page = context.new_page()
        page.goto("/")
        heading = page.locator("main h1")
        expect(heading).to_contain_text("孙涛")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
        # The worker keeps the open page while it activates; wait for the copy
        # itself (each poll starts a look into the cache and reads the last one).
        page.wait_for_function(KEPT_JS, timeout=15_000)
        context.set_offline(True)
        page.reload()
        expect(heading).to_contain_text("孙涛")
        expect(page.locator("body")).not_to_contain_text("无网络连接")
    finally:
        context.close()
