"""The navigation on a 360 px phone and on a desktop, in both languages, for
every role of the demo: each place of the navigation can be reached with a
tap (on the bar, or behind "Menu"), lies inside the screen and shows its
whole label. Which places a role has is the HTML test's business
(tests/tenancy/test_navigation.py); this one proves they can be used."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot_path
from tests.browser.test_home_layout import OVERFLOW_JS, too_small_targets
from tests.browser.test_sign_in_and_invite import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ACCOUNTS = [
    "admin@acme.example",
    "planner@acme.example",
    "qa@acme.example",
    "finance@acme.example",
    "boss@precision.example",
    "operator@precision.example",
]

# Each link of the navigation: inside the viewport, its label not cut.
PLACE_JS = """(link) => {
  const r = link.getBoundingClientRect();
  const label = link.querySelector('span');
  return {
    href: link.getAttribute('href'),
    inside: r.left >= -0.5 && r.right <= window.innerWidth + 0.5 && r.top >= -0.5 && r.bottom <= window.innerHeight + 0.5,
    clipped: label.scrollWidth > label.clientWidth + 0.5,
  };
}"""


def _login_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/login")


def sign_in(page: Page, email: str) -> None:
    """Sign in through the form; a refused or failed post is named with the
    server's answer, not left to a time-out that says only "still at /login"."""
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", DEMO_PASSWORD)
    with page.expect_response(_login_post, timeout=60_000) as posted:
        page.click("button[type=submit]")
    answer = posted.value
    assert answer.status == 303, f"signing in {email}: POST /login answered {answer.status}: {answer.text()[:600]}"
    expect(page.locator("nav.appnav a[href='/account']")).to_have_count(1)


def _check_places(page: Page) -> list[str]:
    """Every place of the navigation, checked where a person finds it; the
    'Menu' sheet is opened for the places that are not on the bar."""
    problems = []
    links = page.locator("nav.appnav a.appnav-item")
    hrefs = [link.get_attribute("href") for link in links.all()]
    assert len(hrefs) >= 2
    more = page.locator("nav.appnav .appnav-more")
    for index, href in enumerate(hrefs):
        link = links.nth(index)
        if not link.is_visible():
            assert more.is_visible(), f"{href} is hidden and there is no 'Menu'"
            more.click()
            expect(link).to_be_visible()
        # The desktop side bar scrolls when a role has more places than its height holds.
        link.scroll_into_view_if_needed()
        place = link.evaluate(PLACE_JS)
        if not place["inside"]:
            problems.append(f"{href} lies outside the screen")
        if place["clipped"]:
            problems.append(f"{href}: its label is cut off")
        if more.is_visible() and more.get_attribute("aria-expanded") == "true":
            page.keyboard.press("Escape")
            expect(more).to_have_attribute("aria-expanded", "false")
    return problems


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_every_place_of_every_role_can_be_reached(browser: Browser, live_server: str, screen: str, locale: str, tmp_path: Path) -> None:
    options: dict[str, Any] = {**(PHONE if screen == "phone" else DESKTOP), "locale": locale}
    problems = []
    for email in ACCOUNTS:
        # A browser of its own per account: clearing one context's cookies
        # between accounts raced the previous page's requests still on the
        # way (the badge's poll, the service worker), whose answers brought
        # back a CSRF cookie that no longer matched the next sign-in form
        # (a 403 "form expired", seen again in CI).
        context = browser.new_context(base_url=live_server, **options)
        try:
            page = context.new_page()
            sign_in(page, email)
            problems += [f"{email}: {problem}" for problem in _check_places(page)]
            if screen == "phone":
                assert page.evaluate(OVERFLOW_JS)["outside"] == []
                assert too_small_targets(page) == []
        finally:
            context.close()
    assert problems == []


def test_the_menu_sheet_on_a_phone_opens_a_place_and_marks_it(phone: Page, tmp_path: Path) -> None:
    """English labels are the longest: the admin's bar holds five places,
    'Account' is behind 'Menu', and the page opened from there is marked."""
    phone.goto("/locale/en")
    sign_in(phone, "admin@acme.example")
    more = phone.locator("nav.appnav .appnav-more")
    expect(more).to_have_text("Menu")
    more.click()
    sheet = phone.locator("#appnav-sheet")
    expect(sheet).to_be_visible()
    phone.screenshot(path=screenshot_path(tmp_path, "phone-navigation-more-en.png"))
    sheet.get_by_role("link", name="Account").click()
    expect(phone).to_have_url(re.compile(r"/account$"))
    expect(sheet).to_be_hidden()
    expect(phone.locator("nav.appnav .appnav-more")).to_have_class(re.compile(r"\bactive\b"))
    expect(phone.locator("nav.appnav a[aria-current=page]")).to_have_attribute("href", "/account")
