"""One phone, two people: what the service worker keeps and what the outbox
queues belong to the person (and session) who kept or queued them.

The operator (A) browses the open work, then signs out, or has the session
ended elsewhere; the supplier's admin (B) signs in on the same browser
profile and goes offline: none of A's kept pages or queued items show, A's
queued report is never sent with B's session (even when the phone's own
check is fooled, as a background sync racing a sign-in would), and it is
still on the phone for A, who sends it on signing in again."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import PHONE, screenshot_path
from tests.browser.test_home_layout import OVERFLOW_JS
from tests.browser.test_navigation import sign_in
from tests.browser.test_supplier_phone import OPERATOR, _open_report_screen, _stored, _wait_for_worker

pytestmark = pytest.mark.browser

ADMIN = "boss@precision.example"
A_NAME = "孙涛"

# Every page any cache of the service worker holds: [cache, path, text].
KEPT_JS = """async () => {
  const kept = [];
  for (const name of await caches.keys()) {
    if (!name.startsWith('pages')) continue;
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      kept.push([name, new URL(request.url).pathname, await response.text()]);
    }
  }
  return kept;
}"""
KEPT_UNDER_JS = """([key, path]) => caches.match(path, { cacheName: 'pages-' + key }).then(hit => hit !== undefined)"""
NO_PAGES_KEPT_JS = """() => caches.keys().then(names => names.every(name => !name.startsWith('pages')))"""


def _identity(page: Page) -> tuple[str, str]:
    """The signed-in person's outbox owner and the session's kept-pages key."""
    owner, session = page.evaluate("[document.body.dataset.owner, document.body.dataset.session]")
    assert owner, owner
    assert re.fullmatch(r"[0-9a-f]{32}", session), session
    return owner, session


def _kept_line_screen(page: Page) -> tuple[str, str, str]:
    """Open work and a report screen, kept for offline; returns the line id,
    owner and session key."""
    page.goto("/progress")
    _wait_for_worker(page)
    line_id = _open_report_screen(page)
    owner, session = _identity(page)
    page.wait_for_function(KEPT_UNDER_JS, arg=[session, f"/progress/lines/{line_id}"], timeout=15_000)
    return line_id, owner, session


def _assert_nothing_of(page: Page, owner: str, session: str) -> None:
    """No page kept under A's session, none drawn for A (B's own pages may
    well name A: the same supplier's work)."""
    for name, path, text in page.evaluate(KEPT_JS):
        assert name != f"pages-{session}", (name, path)
        assert owner not in text, (name, path)
        assert session not in text, (name, path)


def _end_session_elsewhere(context: BrowserContext, base_url: str) -> None:
    """Sign the phone's session out from another machine: the phone keeps
    its cookie, the server no longer honours it."""
    cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
    request = urllib.request.Request(
        f"{base_url}/logout",
        data=urllib.parse.urlencode({"_csrf_token": cookies["csrftoken"]}).encode(),
        headers={
            "cookie": f"portal_session={cookies['portal_session']}; csrftoken={cookies['csrftoken']}",
            "x-csrftoken": cookies["csrftoken"],
            "content-type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    assert answer.value.code == 303, answer.value.code


def _sign_out(page: Page) -> None:
    page.goto("/account")
    page.locator("form[action='/logout'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login"))


def test_after_sign_out_the_next_person_sees_none_of_the_first_ones_pages_offline(
    browser: Browser, live_server: str, tmp_path: Path
) -> None:
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        page = context.new_page()
        sign_in(page, OPERATOR)
        line_id, owner_a, session_a = _kept_line_screen(page)

        _sign_out(page)
        # The sign-in page's own answer says nobody is signed in: A's pages go.
        page.wait_for_function(NO_PAGES_KEPT_JS, timeout=15_000)

        sign_in(page, ADMIN)
        _, owner_b, session_b = _kept_line_screen(page)
        assert (owner_b, session_b) != (owner_a, session_a)

        context.set_offline(True)
        page.goto(f"/progress/lines/{line_id}")
        expect(page.locator("form[data-outbox-form]")).to_be_visible()
        assert page.evaluate("document.body.dataset.owner") == owner_b
        page.goto("/")
        assert page.evaluate("document.body.dataset.owner") == owner_b
        _assert_nothing_of(page, owner_a, session_a)

        # A background sync started while A was signed in, running after B
        # signed in, would send A's report with B's cookie: the server says
        # it is not B's, and the report stays on the phone for A.
        context.set_offline(False)
        page.goto(f"/progress/lines/{line_id}")
        page.locator("label.stage").nth(1).click()
        page.fill("#f-good", "3")
        outcome = page.evaluate(
            """(owner) => {
                 const form = document.querySelector('form[data-outbox-form]');
                 const fields = {};
                 new FormData(form).forEach((value, name) => { if (name !== '_csrf_token') fields[name] = value; });
                 fields.made_at = new Date().toISOString();
                 const item = { id: fields.client_id, owner: owner, url: form.getAttribute('action'), label: 'A',
                                fields: fields, photos: [], reportId: null, state: 'waiting', error: '',
                                csrf: '', created: Date.now(), attempts: 0 };
                 const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken'];
                 return PortalOutbox.put(item)
                   .then(() => PortalOutbox.setMeta('owner', owner))
                   .then(() => PortalOutbox.flush(csrf))
                   .then(results => PortalOutbox.get(item.id).then(kept => [results.map(r => r.outcome), kept && kept.owner, item.id]));
               }""",
            owner_a,
        )
        results, still_owned_by, client_id = outcome
        assert results == ["not-mine"], results
        assert still_owned_by == owner_a
        assert _stored(live_server, line_id, client_id) == []

        # Shown again to B: A's report is neither listed nor sent, and B is
        # told that another account's items wait here.
        page.goto("/progress")
        others = page.locator("[data-outbox-others]")
        expect(others).to_be_visible()
        expect(others).to_contain_text("1")
        expect(page.locator("[data-outbox-item]")).to_have_count(0)
        others.scroll_into_view_if_needed()
        page.screenshot(path=screenshot_path(tmp_path, "phone-outbox-other-account.png"))
        assert page.evaluate(OVERFLOW_JS)["outside"] == []
        assert _stored(live_server, line_id, client_id) == []
        assert page.evaluate("(id) => PortalOutbox.get(id).then(item => item && item.owner)", client_id) == owner_a
    finally:
        context.close()


def test_a_session_ended_elsewhere_keeps_its_report_for_its_owner_and_its_pages_from_the_next_person(
    browser: Browser, live_server: str, tmp_path: Path
) -> None:
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        page = context.new_page()
        sign_in(page, OPERATOR)
        line_id, owner_a, session_a = _kept_line_screen(page)

        # A reports offline; the report waits on the phone.
        context.set_offline(True)
        page.reload()
        page.locator("label.stage").nth(1).click()
        page.fill("#f-good", "4")
        page.fill("#f-note", "A 离线报工 reported offline")
        client_id = page.locator("input[name=client_id]").input_value()
        page.click("button.send-report")
        expect(page).to_have_url(re.compile(r"/progress$"))
        expect(page.locator("[data-outbox-item]")).to_have_count(1)

        # A's session is signed out from elsewhere while the phone is offline.
        _end_session_elsewhere(context, live_server)
        context.set_offline(False)
        # The phone tries: the server no longer knows A's session, so the
        # report waits for A to sign in again.
        expect(page.locator("[data-outbox-item].state-signed-out")).to_have_count(1, timeout=30_000)
        page.goto("/progress")
        expect(page).to_have_url(re.compile(r"/login"))
        page.wait_for_function(NO_PAGES_KEPT_JS, timeout=15_000)

        sign_in(page, ADMIN)
        _, owner_b, _ = _kept_line_screen(page)
        expect(page.locator("[data-outbox-others]")).to_contain_text("1")
        context.set_offline(True)
        page.goto(f"/progress/lines/{line_id}")
        expect(page.locator("form[data-outbox-form]")).to_be_visible()
        assert page.evaluate("document.body.dataset.owner") == owner_b
        page.goto("/")
        assert page.evaluate("document.body.dataset.owner") == owner_b
        _assert_nothing_of(page, owner_a, session_a)
        kept = page.evaluate("(id) => PortalOutbox.get(id).then(item => item && [item.owner, item.fields.note])", client_id)
        assert kept == [owner_a, "A 离线报工 reported offline"]

        context.set_offline(False)
        page.goto("/progress")
        expect(page.locator("[data-outbox-item]")).to_have_count(0)
        assert _stored(live_server, line_id, client_id) == []

        # A signs in again on the same phone: the report goes, as A's, once.
        _sign_out(page)
        sign_in(page, OPERATOR)
        page.goto("/progress")
        page.wait_for_function("(id) => PortalOutbox.get(id).then(item => item === undefined)", arg=client_id, timeout=30_000)
        expect(page.locator("[data-outbox-others]")).to_be_hidden()
        stored = _stored(live_server, line_id, client_id)
        assert len(stored) == 1
        assert A_NAME in stored[0]["reported_by"]
    finally:
        context.close()


def test_the_kept_pages_of_a_session_are_not_read_once_it_has_expired(browser: Browser, live_server: str) -> None:
    """A phone offline when its session runs out: the worker stops reading
    that session's pages at the end the server gave it, with no server to
    say so."""
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        page = context.new_page()
        sign_in(page, OPERATOR)
        line_id, _, session = _kept_line_screen(page)
        context.set_offline(True)
        page.reload()
        expect(page.locator("form[data-outbox-form]")).to_be_visible()
        # The session's end as the worker holds it, moved to now: what the
        # phone's clock says once the shift's session has run out.
        page.evaluate(
            """() => PortalOutbox.getMeta('kept-pages-session').then(session =>
                 PortalOutbox.setMeta('kept-pages-session', Object.assign({}, session, { expires: Date.now() })))"""
        )
        page.goto(f"/progress/lines/{line_id}")
        expect(page.locator("body")).to_contain_text("无网络连接")
        expect(page.locator("form[data-outbox-form]")).to_have_count(0)
        assert json.dumps(page.evaluate(KEPT_JS)).find(session) == -1
    finally:
        context.close()


def test_a_page_drawn_from_a_kept_copy_goes_when_a_late_answer_says_its_session_ended(browser: Browser, live_server: str) -> None:
    """A weak network: the kept copy answered first, the server's answer
    comes later and says the session ended elsewhere; the page drawn from
    the copy goes (it is loaded again: the sign-in page) with every kept page."""
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        page = context.new_page()
        sign_in(page, OPERATOR)
        _, _, session = _kept_line_screen(page)
        context.set_offline(True)
        page.reload()  # drawn from the kept copy
        expect(page.locator("form[data-outbox-form]")).to_be_visible()
        assert page.evaluate("document.body.dataset.session") == session

        _end_session_elsewhere(context, live_server)
        context.set_offline(False)
        # The late answer: the worker's next request that reaches the server.
        page.evaluate("navigator.serviceWorker.controller.postMessage({ type: 'precache', urls: ['/progress'] })")
        expect(page).to_have_url(re.compile(r"/login"), timeout=30_000)
        page.wait_for_function(NO_PAGES_KEPT_JS, timeout=15_000)
    finally:
        context.close()


# The session the worker holds, once it has learnt from a request sent at or after t0.
SESSION_LEARNT_SINCE_JS = """(t0) => PortalOutbox.getMeta('kept-pages-session')
  .then(session => session && session.since >= t0 ? session.key : null)"""


def test_a_page_refused_to_a_signed_in_person_is_shown_and_ends_nothing(browser: Browser, live_server: str) -> None:
    """A 403 says "not allowed here", not "signed out": the navigation lands
    on the refusal page, the session's kept pages stay. A navigation whose
    own answer does end the session lands too (on the sign-in page), never
    aborted by the page it leaves reloading."""
    context = browser.new_context(base_url=live_server, **PHONE)
    try:
        page = context.new_page()
        sign_in(page, OPERATOR)
        line_id, _, session = _kept_line_screen(page)

        t0 = page.evaluate("Date.now()")
        answer = page.goto("/admin/users")
        assert answer is not None
        assert answer.status == 403, answer.status
        expect(page.locator("h1")).to_contain_text("无权")
        # The worker has read the refusal: it names the same session.
        page.wait_for_function(SESSION_LEARNT_SINCE_JS, arg=t0, timeout=15_000)
        assert page.evaluate(SESSION_LEARNT_SINCE_JS, t0) == session
        assert page.evaluate(KEPT_UNDER_JS, [session, f"/progress/lines/{line_id}"])
        expect(page).to_have_url(re.compile(r"/admin/users$"))

        _end_session_elsewhere(context, live_server)
        page.goto(f"/progress/lines/{line_id}")  # raises on net::ERR_ABORTED
        expect(page).to_have_url(re.compile(r"/login"))
        page.wait_for_function(NO_PAGES_KEPT_JS, timeout=15_000)
        expect(page.locator("input[type=password]")).to_be_visible()
    finally:
        context.close()
