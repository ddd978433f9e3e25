"""Bad input on the page forms: a clear error in the user's language, what
was typed still in the form, nothing saved.

The form routes come from the app's own route table: every page POST route
whose handler reads a body (``request`` or ``data``). Each is found as a form
on the pages a role opens in the seeded world (tests/tenancy/matrix_seed.py)
and probed, or listed in NOT_PROBED with the reason; a new form route cannot
escape. The fields are read from the rendered HTML, and each field gets a
few bad values of its kind (not a cross product: the module stays short):

- a required field left empty; text one character longer than the field's
  ``maxlength``, or longer than any column holds where it declares none
  (portal/lengths.py: every text field, on both databases);
- quantities and money: not a number, negative, too many decimals, huge,
  NaN, past Decimal's range (1e9999999);
- dates: malformed and impossible; ids (hidden fields, selects): not a UUID
  (another tenant's and another supplier's ids: tests/tenancy/
  test_isolation_pages.py); a record version that is no number;
  choices: a value the form does not offer;
- a NUL in the first text field (with another field's bad value, so that
  the form comes back): a page form drops it (portal/forms.py), keeps the
  rest of the text, and no row ever holds one.

Each answer must be no 5xx, a refusal (4xx, the form re-rendered with its
error: portal/forms.py), its error text in the request's language (each
probe alternates zh-CN and en: the zh-CN text must be Chinese, not the
English msgid), the values typed into visible fields still in the
re-rendered form (not passwords, not files), and the two worlds' rows
unchanged (tests/tenancy/matrix.py's snapshot).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import pytest

from portal.lengths import TEXT_LENGTH, varchar_columns
from tests.support.documents.samples import png
from tests.support.forms import Field, Form, FormParser, error_texts
from tests.tenancy.matrix import Worlds, _rows_of, changed_tables, make_worlds, route_handlers
from tests.tenancy.test_isolation_matrix import ENDPOINTS, database
from tests.tenancy.test_isolation_pages import BROWSER_IDS, FORM_FILLS, LATER_ROW, TYPED, _fill_for, _pattern, _variants


def _reads_body(handler: Any) -> bool:
    parameters = handler.parsed_fn_signature.parameters
    return "request" in parameters or "data" in parameters


def form_routes(app: Any) -> list[tuple[str, str]]:
    """Every page route (not /api/) that takes a body: a form, or a script's post."""
    return sorted(
        route
        for route, handler in route_handlers(app).items()
        if route[0] in ("POST", "PUT", "PATCH", "DELETE") and not route[1].startswith("/api/") and _reads_body(handler)
    )


def _app_form_routes() -> list[tuple[str, str]]:
    from portal.asgi import create_app

    return form_routes(create_app())


# Form routes this module does not probe, with the reason. Everything else
# must be found as a form on a page a role opens with the seeded ids.
NOT_PROBED = {
    ("POST", "/notifications/push"): "JSON posted by push.js (a browser's subscription): no form, nothing typed",
    ("POST", "/notifications/push/remove"): "JSON posted by push.js: no form, nothing typed",
    ("POST", "/documents/uploads"): "JSON posted by upload.js on S3 storage only: no form",
    ("POST", "/documents/uploads/confirm"): "JSON posted by upload.js with a signed ticket, on S3 storage only",
    ("POST", "/login/tenant"): "carries a signed token from a verified password; no field is typed",
    ("POST", "/invitations/{token:str}"): "needs an emailed token; tests/integration/tenants cover its errors",
    ("POST", "/password-reset/{token:str}"): "needs an emailed token; tests/integration/tenants cover its errors",
    ("POST", "/account/switch"): "ends the caller's session; lists the caller's own memberships only",
    ("POST", "/progress/reports/{report_id:uuid}/photos"): "posted by the phone's outbox after a report: a file, nothing typed",
    ("POST", "/orders/import/confirm"): "carries a sealed preview, shown only after an upload",
    ("POST", "/materials/dispatches/import/confirm"): "carries a sealed preview, shown only after an upload",
    ("POST", "/documents/{document_id:uuid}/review"): "shown once a certificate awaits review, which the seed does not reach",
    ("POST", "/statements/close"): "shown when a period can be closed, which the seed does not reach",
    (
        "POST",
        "/statements/{statement_id:uuid}/lines/{statement_line_id:uuid}/answer",
    ): "a button on a disputed line, which the seed does not reach",
    ("POST", "/orders/{order_id:uuid}/answers"): "shown on issued orders of several lines; the seeded orders have one",
    ("POST", "/deliveries/{delivery_id:uuid}/material-lots"): "checkboxes of lots only: nothing typed (ids: tests/tenancy)",
    ("POST", "/documents/{document_id:uuid}/versions"): "a file only: nothing typed (uploads: tests/integration/documents)",
}

# Values that look bad but are right for the field, with the reason.
NOT_BAD = {
    ("/statements/adjustments", "amount", "negative"): "an adjustment may credit the supplier (only zero is refused)",
}


FORM_ROUTES = [route for route in _app_form_routes() if route not in NOT_PROBED]
LOCALES = ("zh_CN", "en")
CJK = re.compile(r"[\u3400-\u9fff]")


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return len(value) == 36


# ------------------------------------------------------------------ the world and its forms


@pytest.fixture(scope="module")
def worlds(client: Any, run: Any) -> Worlds:
    return make_worlds(client, run)


@dataclass
class Found:
    identity: str
    form: Form
    # The page the form was found on (to open again for a fresh copy).
    page: str = ""


SCANNED = ("admin", "planner", "qa", "finance", "supplier_admin")


@pytest.fixture(scope="module")
def forms(client: Any, worlds: Worlds) -> dict[tuple[str, str], Found]:
    """Every page a role may open with the seeded ids (and the panels htmx
    loads into it, and the public sign-in pages), scanned for forms: the
    first form found for each form route."""
    found: dict[tuple[str, str], Found] = {}
    patterns = {route: _pattern(route[1]) for route in FORM_ROUTES}
    seen: set[tuple[str, str]] = set()

    def scan(identity: str, url: str) -> None:
        if (identity, url) in seen:
            return
        seen.add((identity, url))
        client.cookies.clear()
        headers = worlds.headers[identity] if identity != "anonymous" else {}
        response = client.get(url, headers=headers, follow_redirects=False)
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            return
        parser = FormParser(urlsplit(url).path)
        parser.feed(response.text)
        for form in parser.forms:
            matching = [route for route, pattern in patterns.items() if pattern.match(form.action)]
            route = min(matching, key=lambda route: route[1].count("{"), default=None)
            if route is not None and route not in found:
                found[route] = Found(identity, form, url)
        for panel in parser.panels:
            scan(identity, panel)

    for url in ("/login", "/password-reset"):
        scan("anonymous", url)
    pages = [endpoint for endpoint in ENDPOINTS if endpoint.method == "GET" and not endpoint.is_api]
    for identity in SCANNED:
        for endpoint in pages:
            if endpoint.allowed(identity):
                for ids in _variants(worlds, identity):
                    scan(identity, endpoint.url({**ids, **worlds.home_seed.personal.get(identity, {})}))
    return found


# ------------------------------------------------------------------ filling and spoiling


def filled(form: Form, route: tuple[str, str]) -> dict[str, str]:
    """The form as a person sends it: what the page put in it, each select's
    chosen option, a checked radio per group, the required and typed fields."""
    data: dict[str, str] = {}
    for item in form.fields:
        if item.kind in ("file", "submit", "button", "reset", "image") or item.name == "_csrf_token":
            continue
        if item.kind in ("radio", "checkbox"):
            if "checked" in item.attrs or (item.kind == "radio" and item.required and item.name not in data):
                data[item.name] = item.value
            continue
        value = item.value
        if item.kind == "select" and not value:
            value = next((option for option in item.options if option), "")
        if not value and LATER_ROW.search(item.name):
            data[item.name] = value
            continue
        if item.name in BROWSER_IDS and not value:
            value = "2b7b1f4e-3c1a-4e43-9a43-6a4c6f2d9e10"
        elif not value and (item.required or TYPED.search(item.name)):
            value = _fill_for(item.name, item.kind)
        data[item.name] = value
    return {**data, **FORM_FILLS.get(route, {})}


@dataclass(frozen=True)
class Probe:
    field: str
    label: str
    value: str
    # Another field's bad value sent along (the NUL's), so that the form is
    # refused and shows whether the NUL's field kept the rest of its text.
    spoiler: tuple[str, str] | None = None


NUL = "ab\x00cd"


@functools.cache
def beyond_any_column() -> int:
    """Longer than any column holds (the longest varchar, and the free text
    of a Text column: portal/lengths.py): for a field without maxlength."""
    return max(TEXT_LENGTH, *(column.length for column in varchar_columns()))


def bad_values(item: Field) -> Iterator[tuple[str, str]]:
    """A few bad values of the field's kind (label, value)."""
    if item.required and item.kind not in ("hidden", "checkbox", "radio"):
        yield "empty required", ""
    if item.kind in ("select", "radio"):
        if item.options and all(_is_uuid(option) for option in item.options if option):
            yield "not a UUID", "not-a-uuid"
        else:
            yield "unknown choice", "no-such-choice"
    elif item.kind == "hidden":
        if _is_uuid(item.value):
            yield "not a UUID", "not-a-uuid"
        elif item.value.isdigit():
            yield "not a number", "x1"
    elif item.kind == "checkbox":
        return
    elif item.numeric:
        yield "not a number", "12abc"
        yield "negative", "-3"
        yield "too many decimals", "1.1234567"
        yield "huge", "1" + "0" * 30
        # Decimal reads both; comparing the first raises, arithmetic on the
        # second overflows (each answered 500 on a form once).
        yield "NaN", "NaN"
        yield "past Decimal's range", "1e9999999"
    elif item.kind == "date":
        yield "impossible date", "2026-02-30"
        yield "malformed date", "31/12/2026"
    elif item.kind in ("text", "textarea", "email", "url", "search", "tel"):
        yield "over-long", "x" * (int(item.attrs.get("maxlength") or beyond_any_column()) + 1)


def _shape(name: str) -> str:
    """Fields of repeated rows probe once: lines-0-quantity and lines-3-quantity,
    due-containment and due-root_cause share a shape."""
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+", "#", name.split("-")[0] if name.startswith("due-") else name)


def probes(form: Form) -> list[Probe]:
    """The bad values of each field (one field per shape); then a NUL in the
    first typed field."""
    found, shapes = [], set()
    for item in form.fields:
        if item.name in BROWSER_IDS or item.name == "_csrf_token" or LATER_ROW.search(item.name):
            continue
        if (_shape(item.name), item.kind) in shapes:
            continue
        shapes.add((_shape(item.name), item.kind))
        found += [Probe(item.name, label, value) for label, value in bad_values(item)]
    typed = next((item for item in form.fields if item.typed and not item.numeric and item.kind != "date"), None)
    if typed is not None:
        spoiler = next(((probe.field, probe.value) for probe in found if probe.field != typed.name), None)
        found.append(Probe(typed.name, "NUL", NUL, spoiler))
    return found


def submit(client: Any, worlds: Worlds, found: Found, data: dict[str, str], locale: str) -> Any:
    headers = dict(worlds.headers[found.identity]) if found.identity != "anonymous" else {}
    csrf = headers.pop("x-csrftoken", None)
    if csrf is None:
        client.cookies.clear()
        csrf = client.get("/login").cookies.get("csrftoken")
        headers = {"cookie": f"csrftoken={csrf}"}
    headers["cookie"] += f"; portal_locale={locale}"
    headers["accept-language"] = locale.replace("_", "-")
    headers.update(found.form.htmx)
    if found.form.script:
        headers["accept"] = "application/json"
    files = None
    if found.form.multipart:
        files = {item.name: ("probe.png", png(), "image/png") for item in found.form.fields if item.kind == "file"}
        files = files or {"_": ("", b"", "application/octet-stream")}
    # A browser's made-up ids (an offline report's key) are new on each page.
    data = {**data, **{name: str(uuid4()) for name in BROWSER_IDS if name in data}}
    client.cookies.clear()
    return client.post(found.form.action, data={**data, "_csrf_token": csrf}, files=files, headers=headers, follow_redirects=False)


def _refused(found: Found, response: Any) -> bool:
    """4xx; or, for a form htmx posts (htmx swaps no 4xx), 200 with its error shown."""
    if 400 <= response.status_code < 500:
        return True
    return bool(found.form.htmx) and response.status_code == 200 and bool(error_texts(response.text))


def judge(found: Found, probe: Probe, data: dict[str, str], response: Any, locale: str) -> list[str]:
    """What is wrong with the answer to one bad value. A NUL cannot be typed:
    it may be refused or dropped, never stored; sent alone (no other field
    to spoil the form) the rest may be saved."""
    where = f"{probe.field}={probe.label!r} ({locale})"
    status = response.status_code
    if status >= 500:
        return [f"{where}: {status}"]
    if not _refused(found, response):
        if probe.value == NUL and probe.spoiler is None:
            return []
        return [f"{where}: accepted ({status} {response.headers.get('location') or response.headers.get('hx-redirect')})"]
    problems = []
    if response.headers.get("content-type", "").startswith("application/json"):
        error = response.json().get("error", {})
        texts = [text for text in [error.get("message"), *(error.get("fields") or {}).values()] if text]
    else:
        texts = error_texts(response.text)
    if not texts:
        problems.append(f"{where}: {status} without an error message")
    elif locale == "zh_CN" and not all(CJK.search(text) for text in texts):
        problems.append(f"{where}: not in Chinese: {texts}")
    elif locale == "en" and any(CJK.search(text) for text in texts):
        problems.append(f"{where}: not in English: {texts}")
    kept = {item.name: item for item in found.form.fields if item.typed and data.get(item.name)}
    typed = {item.name for item in found.form.fields if item.typed}
    if probe.field in typed and not found.form.script:
        again = FormParser(found.form.action)
        again.feed(response.text)
        form = next((form for form in again.forms if form.action == found.form.action), None)
        if form is None:
            problems.append(f"{where}: {status} without the form: what was typed is lost ({texts})")
        else:
            shown = {item.name: item.value.replace("\r\n", "\n") for item in form.fields}
            lost = [name for name in kept if shown.get(name) != data[name].replace("\x00", "")]
            if lost:
                problems.append(f"{where}: typed values lost: {lost}")
    return problems


async def _rows_holding_nul(tenant_ids: tuple[UUID, UUID]) -> set[tuple[str, str]]:
    """(table, row) of every row of the two worlds holding a NUL."""
    from piccolo.conf.apps import Finder

    from tenants.context import system_scope
    from tenants.tables import Tenant

    tenants = ", ".join(f"'{tenant_id}'" for tenant_id in tenant_ids)
    parts = [sql for table in Finder().get_table_classes() if (sql := _rows_of(table, tenants)) is not None]
    async with system_scope("form-input-nul"):
        rows = await Tenant.raw(" UNION ALL ".join(parts))
    return {(row["name"], row["row"]) for row in rows if "\x00" in row["row"]}


# ------------------------------------------------------------------ the tests


def test_every_form_route_is_probed_or_listed(app: Any) -> None:
    """The routes come from the app: a page route taking a body is probed or
    listed in NOT_PROBED with its reason (and a listed one still exists)."""
    routes = set(form_routes(app))
    assert sorted(set(NOT_PROBED) - routes) == [], "NOT_PROBED names routes the app no longer has"
    assert routes - set(NOT_PROBED) == set(FORM_ROUTES)


@pytest.mark.parametrize("route", FORM_ROUTES, ids=lambda route: f"{route[0]} {route[1]}")
def test_bad_input_is_refused_in_the_users_language_and_keeps_what_was_typed(
    route: tuple[str, str], client: Any, worlds: Worlds, forms: dict[tuple[str, str], Found]
) -> None:
    assert route in forms, f"no page shows a form for {route}: seed what it needs, or list it in NOT_PROBED with the reason"
    found = forms[route]
    data = filled(found.form, route)
    problems: list[str] = []
    changed = None
    before = database(client, worlds)
    nul_before = client.blocking_portal.call(_rows_holding_nul, worlds.tenant_ids)
    tried = [probe for probe in probes(found.form) if (route[1], probe.field, probe.label) not in NOT_BAD]
    assert tried, f"{route[1]}: the form has no field to probe (a button): list the route in NOT_PROBED"
    for index, probe in enumerate(tried):
        if probe.value == NUL and probe.spoiler is None:
            # Last: a dropped NUL alone may save the rest.
            changed = changed_tables(before, database(client, worlds))
        locale = LOCALES[index % 2]
        sent = {**data, probe.field: probe.value, **dict([probe.spoiler] if probe.spoiler else [])}
        problems += judge(found, probe, sent, submit(client, worlds, found, sent, locale), locale)
    if changed is None:
        changed = changed_tables(before, database(client, worlds))
    stored = client.blocking_portal.call(_rows_holding_nul, worlds.tenant_ids) - nul_before
    problems += [f"stored a NUL in {name}" for name in sorted({name for name, _ in stored})]
    assert problems == [], f"{found.identity} {route[1]}:\n" + "\n".join(problems)
    assert changed == [], f"refused input changed these tables: {changed}"
