"""A form refused for a reason other than a bad field: the record changed
underneath (a stale ``version``: 409) or its state moved on (another user
answered, accepted, cancelled it), or the form's CSRF token expired. The
answer is a refusal with a message in the request's language, what was typed
is still on the page (in the form, or kept beside the message when the form
is no longer offered: templates/_partials/forms.html), and nothing is saved
over the other user's change.

The forms come from tests/integration/test_form_input.py's discovery (the
app's route table, each form found on the pages a role opens in the seeded
world). Every form carrying a ``version`` is driven, and so is every form
listed in STATE_FORMS; every other form route is listed with the reason it
has no such precondition, so a new form cannot escape. Driving one: open
its page twice (two people on the same page), send the first copy as it is
(the other user's change), then the second copy, with values typed into
every visible field, once in zh-CN and once in English.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pytest

from tests.integration.test_form_input import (
    CJK,
    FORM_ROUTES,
    NOT_PROBED,
    Found,
    filled,
    forms,
    submit,
    worlds,
)
from tests.support.documents import samples
from tests.support.forms import Form, error_texts, forms_of
from tests.tenancy.matrix import Worlds, changed_tables
from tests.tenancy.test_isolation_matrix import database

__all__ = ["forms", "worlds"]  # the discovery's fixtures, shared

# Forms without a version whose service refuses them once the record's state
# moved on (the second of two copies of the page is refused).
STATE_FORMS = {
    ("POST", "/deliveries/{delivery_id:uuid}/receive"),
    ("POST", "/materials/dispatches/{dispatch_id:uuid}/receipt"),
    ("POST", "/documents/{document_id:uuid}/withdraw"),
    ("POST", "/approvals/{approval_id:uuid}/decision"),
    ("POST", "/qc-requirements/{requirement_id:uuid}/waive"),
    ("POST", "/handovers/{handover_id:uuid}/cancel"),
    ("POST", "/handovers/{handover_id:uuid}/items/{handover_item_id:uuid}/sign-off"),
}

# Form routes with a version or state precondition that this module cannot
# drive in the seeded world, with the reason.
NOT_DRIVEN = {
    ("POST", "/deliveries/{delivery_id:uuid}/cancel"): "the seed's one shipped delivery is received by the receive form's "
    "run; a refusal re-renders the delivery page the same way (portal/deliveries/pages.py)",
    ("POST", "/handovers/{handover_id:uuid}/complete"): "the seeded handover keeps blocking items open (its first copy is "
    "refused); start and sign-off drive the handover page's re-render",
    ("POST", "/ncrs/{ncr_id:uuid}/close"): "needs a verified NCR, which the seed does not reach; the other NCR forms drive the "
    "same re-render (_again)",
}

_CREATES = "creates a new record each time: nothing underneath to go stale"
_SETTINGS = "replaces a setting as a whole (last save wins, as on the API): no version to go stale"
_PUBLIC = "a public sign-in form: no record"
# Form routes without a version or a state precondition, with the reason.
WITHOUT_PRECONDITION = {
    ("POST", "/login"): _PUBLIC,
    ("POST", "/password-reset"): _PUBLIC,
    ("POST", "/admin/chat-robots"): _CREATES,
    ("POST", "/admin/webhooks"): _CREATES,
    ("POST", "/admin/suppliers"): _CREATES,
    ("POST", "/admin/users/invitations"): _CREATES,
    ("POST", "/team/invitations"): _CREATES,
    ("POST", "/admin/settings/document-categories"): _CREATES,
    ("POST", "/items"): _CREATES,
    ("POST", "/handovers"): _CREATES,
    ("POST", "/materials/dispatches"): _CREATES,
    ("POST", "/materials/dispatches/import"): "an upload read into a preview: nothing saved",
    ("POST", "/orders/import"): "an upload read into a preview: nothing saved",
    ("POST", "/materials/reports"): _CREATES,
    ("POST", "/ncrs"): _CREATES,
    ("POST", "/orders/new"): _CREATES,
    ("POST", "/documents"): _CREATES,
    ("POST", "/conversations/{thread_id:uuid}/messages"): "adds a message to the thread: each post is a new one",
    ("POST", "/statements/adjustments"): _CREATES,
    ("POST", "/statements/compute"): "computes the period's draft again from the records: nothing typed to go stale",
    ("POST", "/progress/lines/{line_id:uuid}"): "adds a progress report (stored once by its client id): a new record each time",
    ("POST", "/deliveries/ship/{order_id:uuid}"): _CREATES,
    ("POST", "/account/language"): "the person's own language: a choice of two, the last one wins",
    ("POST", "/admin/handover-template"): _SETTINGS,
    ("POST", "/admin/ncr-steps"): _SETTINGS,
    ("POST", "/admin/progress-stages"): _SETTINGS,
    ("POST", "/admin/reject-reasons"): _SETTINGS,
    ("POST", "/admin/response-times"): _SETTINGS,
    ("POST", "/admin/settings/approvals"): _SETTINGS,
    ("POST", "/admin/settings/item-tolerances"): _SETTINGS,
    ("POST", "/admin/settings/tolerance"): _SETTINGS,
    ("POST", "/notifications/settings"): _SETTINGS,
    ("POST", "/admin/settings/document-categories/{category_id:uuid}"): _SETTINGS,
    ("POST", "/admin/suppliers/{supplier_id:uuid}"): _SETTINGS,
    ("POST", "/admin/users/{membership_id:uuid}"): _SETTINGS,
    ("POST", "/items/{item_id:uuid}/bom"): _SETTINGS,
    ("POST", "/items/{item_id:uuid}/qc-templates"): _CREATES,
    ("POST", "/orders/{order_id:uuid}/qc-requirements"): _CREATES,
    ("POST", "/ncrs/{ncr_id:uuid}/dispositions"): "adds a disposition while the NCR is open; its refusal once closed is the "
    "NCR page's re-render (the same _again as the driven NCR forms)",
    ("POST", "/ncrs/{ncr_id:uuid}/owner"): "hands the NCR to a chosen owner (a choice, nothing typed); "
    "the same re-render as the driven NCR forms",
    ("POST", "/statements/{statement_id:uuid}/lines/{statement_line_id:uuid}/dispute"): "a dispute on a sent statement; "
    "the seeded statement is a draft",
}

# The order in which driven forms run: a form that ends its record (cancel,
# complete) last, and a step sent back before it is answered and accepted.
ORDER = [
    "/qc-requirements/{requirement_id:uuid}/waive",
    "/ncrs/{ncr_id:uuid}/issue",
    "/ncrs/{ncr_id:uuid}/steps/{step_id:uuid}/return",
    "/ncrs/{ncr_id:uuid}/steps/{step_id:uuid}/answer",
    "/ncrs/{ncr_id:uuid}/steps/{step_id:uuid}/accept",
]

LOCALES = ("zh_CN", "en")


def _has_version(form: Form) -> bool:
    return any(item.name == "version" for item in form.fields)


def _rank(route: tuple[str, str]) -> tuple[int, str]:
    ends = any(route[1].endswith(word) for word in ("/cancel", "/complete", "/close"))
    return (ORDER.index(route[1]) if route[1] in ORDER else len(ORDER) + ends, route[1])


CANDIDATES = sorted((route for route in FORM_ROUTES if route not in WITHOUT_PRECONDITION and route not in NOT_DRIVEN), key=_rank)


def _typed(form: Form, data: dict[str, str], who: str = "mine") -> dict[str, str]:
    """Values a person typed into every visible text field: a long text,
    in two scripts and on two lines, cut to the field's length."""
    typed = {}
    for item in form.fields:
        if not item.typed or item.numeric or item.kind in ("date", "email", "url", "number"):
            continue
        text = f"{who} {item.name}: 另一位用户已改动，这段话不能丢 - typed while someone else changed the record\nsecond line"
        limit = int(item.attrs.get("maxlength") or 0)
        typed[item.name] = text[:limit] if limit else text
    return {**data, **typed}


def _fresh(client: Any, worlds: Worlds, found: Found) -> Found | None:
    """The form as the page shows it now (its current version)."""
    headers = worlds.headers[found.identity] if found.identity != "anonymous" else {}
    client.cookies.clear()
    response = client.get(found.page, headers=headers, follow_redirects=False)
    page = forms_of(response.text, found.page)
    form = next((form for form in page.forms if form.action == found.form.action), None)
    return None if form is None else Found(found.identity, form, found.page)


def kept_problems(form: Form, data: dict[str, str], html: str) -> list[str]:
    """Each visible value typed into ``form`` must be in the re-rendered form
    of the same action or kept beside the message."""
    page = forms_of(html, form.action)
    again = next((other for other in page.forms if other.action == form.action), None)
    shown = {item.name: item.value for item in again.fields} if again else {}
    lost = []
    for item in form.fields:
        typed = data.get(item.name, "").replace("\r\n", "\n")
        if not item.typed or not typed.strip():
            continue
        if shown.get(item.name, "").replace("\r\n", "\n") != typed and page.kept.get(item.name, "").replace("\r\n", "\n") != typed:
            lost.append(item.name)
    return [f"typed values lost: {lost}"] if lost else []


def language_problems(texts: list[str], locale: str) -> list[str]:
    if not texts:
        return ["no error message"]
    if locale == "zh_CN" and not all(CJK.search(text) for text in texts):
        return [f"not in Chinese: {texts}"]
    if locale == "en" and any(CJK.search(text) for text in texts):
        return [f"not in English: {texts}"]
    return []


def test_every_form_route_is_driven_or_listed(forms: dict[tuple[str, str], Found]) -> None:
    """A form route carrying a version, or listed in STATE_FORMS, is driven;
    any other is listed with the reason it has no such precondition (or is
    not found in the seed: test_form_input's NOT_PROBED)."""
    versioned = {route for route, found in forms.items() if _has_version(found.form)}
    assert sorted(versioned & set(WITHOUT_PRECONDITION)) == [], "these forms carry a version now: drive them"
    unlisted = set(FORM_ROUTES) - versioned - STATE_FORMS - set(NOT_DRIVEN) - set(WITHOUT_PRECONDITION)
    assert sorted(unlisted) == [], "a form route with neither a version nor a listed reason"
    assert sorted((set(WITHOUT_PRECONDITION) | STATE_FORMS | set(NOT_DRIVEN)) - set(FORM_ROUTES) - set(NOT_PROBED)) == []


def test_a_new_version_refused_without_javascript_answers_with_its_form(client: Any, worlds: Worlds) -> None:
    """A new version posted as a plain form with a file its content checks
    refuse: the document's page again, the widget showing why (before the
    driven forms below, one of which withdraws the seeded document)."""
    page = f"/documents/{worlds.own['document_id']}"
    action = f"{page}/versions"
    client.cookies.clear()
    assert any(form.action == action for form in forms_of(client.get(page, headers=worlds.headers["admin"]).text, page).forms)
    before = database(client, worlds)
    for locale in LOCALES:
        headers = {name: value for name, value in worlds.headers["admin"].items() if name != "x-csrftoken"}
        headers["cookie"] += f"; portal_locale={locale}"
        client.cookies.clear()
        response = client.post(
            action,
            data={"_csrf_token": worlds.headers["admin"]["x-csrftoken"]},
            files={"file": ("report.pdf", samples.html_page(), "application/pdf")},
            headers=headers,
            follow_redirects=False,
        )
        assert 400 <= response.status_code < 500, response.status_code
        assert language_problems(error_texts(response.text), locale) == []
        assert any(form.action == action for form in forms_of(response.text, page).forms)
    assert changed_tables(before, database(client, worlds)) == []


@pytest.mark.parametrize("route", CANDIDATES, ids=lambda route: f"{route[0]} {route[1]}")
def test_a_stale_form_is_refused_in_the_users_language_and_keeps_what_was_typed(
    route: tuple[str, str], client: Any, worlds: Worlds, forms: dict[tuple[str, str], Found]
) -> None:
    assert route in forms, f"no page shows a form for {route}"
    found = forms[route]
    if route not in STATE_FORMS and not _has_version(found.form):
        pytest.fail(f"{route}: no version and not in STATE_FORMS: list it in WITHOUT_PRECONDITION with the reason")
    mine, theirs = _fresh(client, worlds, found), _fresh(client, worlds, found)
    assert mine is not None, f"{found.page} no longer shows the form of {route} (an earlier form ended the record?)"
    assert theirs is not None
    first = submit(client, worlds, theirs, _typed(theirs.form, filled(theirs.form, route), "theirs"), "en")
    refused = f"the other user's copy of {route} was refused ({first.status_code}): {error_texts(first.text)}"
    assert first.status_code in (200, 302, 303), refused
    before = database(client, worlds)
    data = _typed(mine.form, filled(mine.form, route))
    problems = []
    for locale in LOCALES:
        response = submit(client, worlds, mine, data, locale)
        where = f"{locale}: {response.status_code}"
        if not 400 <= response.status_code < 500:
            problems.append(f"{where}: the stale copy was not refused")
            continue
        problems += [f"{where}: {problem}" for problem in language_problems(error_texts(response.text), locale)]
        problems += [f"{where}: {problem}" for problem in kept_problems(mine.form, data, response.text)]
    assert problems == [], f"{found.identity} {route[1]}:\n" + "\n".join(problems)
    changed = changed_tables(before, database(client, worlds))
    assert changed == [], f"the refused stale copy changed these tables: {changed}"


EXPIRED = ("POST", "/conversations/{thread_id:uuid}/messages")


def _post_expired(client: Any, worlds: Worlds, found: Found, data: dict[str, str], locale: str, **sent: str | None) -> Any:
    """``sent``: the browser's headers saying where the post came from
    (``origin``, ``referer``, ``sec_fetch_site``; None leaves one out)."""
    headers = {name: value for name, value in worlds.headers[found.identity].items() if name != "x-csrftoken"}
    headers["cookie"] += f"; portal_locale={locale}"
    headers["accept-language"] = locale.replace("_", "-")
    headers["referer"] = f"http://testserver.local{found.page}"
    for name, value in sent.items():
        headers.pop(name.replace("_", "-"), None)
        if value is not None:
            headers[name.replace("_", "-")] = value
    client.cookies.clear()
    return client.post(found.form.action, data={**data, "_csrf_token": "expired-token"}, headers=headers, follow_redirects=False)


def test_an_expired_form_keeps_its_text_and_does_nothing(client: Any, worlds: Worlds, forms: dict[tuple[str, str], Found]) -> None:
    """A page form whose CSRF token no longer matches (the session's token
    changed: a new sign-in, another tab) is refused as before, in the
    request's language; the page keeps the long text typed into it, to copy,
    with a link back to the form's page, and offers no form that would send
    it (the refusal stays a refusal). A post another site made (its
    ``Origin``) gets no text shown back."""
    found = forms[EXPIRED]
    data = _typed(found.form, filled(found.form, EXPIRED))
    assert any(item.typed and data.get(item.name) for item in found.form.fields)
    before = database(client, worlds)
    for locale in LOCALES:
        response = _post_expired(client, worlds, found, data, locale)
        assert response.status_code == 403
        assert language_problems(error_texts(response.text), locale) == []
        assert kept_problems(found.form, data, response.text) == []
        page = forms_of(response.text, found.form.action)
        assert [form.action for form in page.forms if form.action == found.form.action] == []
        assert f'href="{escape(found.page)}"' in response.text
    forgeries = [
        {"origin": "https://elsewhere.example"},
        # A browser that names no Origin says where the post came from otherwise.
        {"sec_fetch_site": "cross-site", "referer": None},
        {"sec_fetch_site": "cross-site"},
        {"referer": "https://elsewhere.example/form"},
        {"referer": None},
    ]
    for forgery in forgeries:
        forged = _post_expired(client, worlds, found, data, "en", **forgery)
        assert forged.status_code == 403
        assert forms_of(forged.text, found.form.action).kept == {}, forgery
    # This site's own page, said by the browser in any of those ways.
    for own in ({"origin": "http://testserver.local", "referer": None}, {"sec_fetch_site": "same-origin", "referer": None}):
        response = _post_expired(client, worlds, found, data, "en", **own)
        assert kept_problems(found.form, data, response.text) == [], own
    assert changed_tables(before, database(client, worlds)) == []


UPLOAD = ("POST", "/documents")


def test_an_upload_refused_without_javascript_answers_with_its_form(
    client: Any, worlds: Worlds, forms: dict[tuple[str, str], Found]
) -> None:
    """The upload widget posted as a plain form (JavaScript off: no JSON
    asked for) with a file its content checks refuse (a page pretending to
    be a PDF) answers with the record's documents again: the widget open,
    its error in the request's language, the typed title still in it, and
    nothing stored (the script's JSON answer: tests/integration/documents)."""
    found = forms[UPLOAD]
    assert found.form.script
    data = {**filled(found.form, UPLOAD), "title": "来料检验报告 Incoming inspection, lot 2041"}
    before = database(client, worlds)
    for locale in LOCALES:
        headers = {name: value for name, value in worlds.headers[found.identity].items() if name != "x-csrftoken"}
        headers["cookie"] += f"; portal_locale={locale}"
        headers["accept-language"] = locale.replace("_", "-")
        client.cookies.clear()
        response = client.post(
            found.form.action,
            data={**data, "_csrf_token": worlds.headers[found.identity]["x-csrftoken"]},
            files={"file": ("report.pdf", samples.html_page(), "application/pdf")},
            headers=headers,
            follow_redirects=False,
        )
        assert 400 <= response.status_code < 500, response.status_code
        assert response.headers["content-type"].startswith("text/html")
        assert language_problems(error_texts(response.text), locale) == []
        again = next((form for form in forms_of(response.text, "/documents").forms if form.action == found.form.action), None)
        assert again is not None, "the upload form is not on the page that answers"
        assert {item.name: item.value for item in again.fields}["title"] == data["title"]
        assert 'class="card upload-card" open' in response.text
    assert changed_tables(before, database(client, worlds)) == []
