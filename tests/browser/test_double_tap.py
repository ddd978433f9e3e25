"""A gloved double tap on a phone, on a slow shop-floor network: the form
is posted once and the server saves one record (static/js/forms.js).
Without the guard both taps post, and a create with no natural key (here an
invitation, which also emails) is saved twice."""

from __future__ import annotations

from uuid import uuid4

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import open_place
from tests.browser.test_sign_in_and_invite import sign_in

pytestmark = pytest.mark.browser

ACTION = "/admin/users/invitations"


def test_a_double_tap_on_a_form_posts_it_once(phone: Page) -> None:
    sign_in(phone, "admin@acme.example")
    open_place(phone, "/admin/users")
    email = f"twice-{uuid4().hex[:8]}@precision.example"
    phone.fill("#f-email", email)
    phone.fill("#f-name", "双击测试")
    phone.select_option("#f-role", "qa")
    # The first post is held on its way, as a weak network holds it, while
    # the second tap lands; then it goes on to the server.
    held: list[Route] = []
    phone.route(f"**{ACTION}", lambda route: held.append(route))
    form = phone.locator(f"form[action='{ACTION}']")
    form.locator("button[type=submit]").scroll_into_view_if_needed()
    # Taps at the button's place: a locator's action would wait for the
    # held navigation to finish.
    x, y = phone.evaluate(
        """(selector) => {
             const box = document.querySelector(selector).getBoundingClientRect();
             return [box.x + box.width / 2, box.y + box.height / 2];
           }""",
        f"form[action='{ACTION}'] button[type=submit]",
    )
    phone.touchscreen.tap(x, y)
    for _ in range(100):
        if held:
            break
        phone.wait_for_timeout(100)
    assert len(held) == 1
    phone.touchscreen.tap(x, y)
    # Time for a second post to reach the route, had the tap sent one (it
    # does without static/js/forms.js: two posts, two invitations).
    phone.wait_for_timeout(500)
    assert len(held) == 1, [route.request.url for route in held]
    held[0].continue_()
    expect(phone.locator(".alert.ok")).to_be_visible()
    # What the server kept.
    phone.unroute(f"**{ACTION}")
    phone.reload()
    expect(phone.locator("li.row-split", has_text=email)).to_have_count(1)
    # The new page's form is free.
    expect(form).not_to_have_attribute("aria-busy", "true")
