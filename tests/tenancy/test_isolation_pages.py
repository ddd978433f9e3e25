"""The isolation matrix, pages: no page, list or export a role may open
names the other tenant or, for supplier users, another supplier or the
buyer's drafts; and every page form's ids (hidden inputs, selects) refuse
other tenants', other suppliers' and hidden parents' objects.

Page POST routes take form fields, which no handler signature describes:
their forms are found on the pages themselves (and the panels htmx loads
into them), each route's form must be found or listed in FORMLESS with the
reason, and the fields carrying ids are told by their values (a seeded id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import pytest

from tests.support.documents.samples import png
from tests.support.forms import Form, FormParser
from tests.tenancy.matrix import IDENTITIES, Worlds, changed_tables
from tests.tenancy.test_isolation_matrix import (
    ENDPOINTS,
    SUPPLIER_USERS,
    Endpoint,
    _call,
    _due,
    _outcome,
    _params,
    database,
    foreign_values,
)


@_params([endpoint for endpoint in ENDPOINTS if endpoint.method == "GET"])
def test_no_page_shows_foreign_or_hidden_data(endpoint: Endpoint, client: Any, worlds: Worlds) -> None:
    """Every GET a role may call, with its own ids: the body never names the
    other tenant (slug, ids of its objects and of its orders' lines,
    deliveries, reports, documents, order numbers, supplier names, emails),
    nor for supplier users another supplier's objects, name and order numbers
    or the buyer's drafts."""
    foreign = worlds.foreign_seed
    marks = [worlds.foreign.slug, str(worlds.foreign.tenant_id), *(str(i) for i in worlds.foreign.supplier_ids)]
    marks += [account.email for account in worlds.foreign.accounts.values()]
    marks += [str(value) for value in {**foreign.first, **foreign.second, **foreign.hidden}.values()]
    # The seeded orders carry ERP numbers of their own (matrix_seed.seed):
    # numbers and supplier names of the other tenant.
    marks += foreign.first_marks + foreign.second_marks
    supplier_marks = [str(value) for name, value in worlds.other_supplier.items() if worlds.own.get(name) != value]
    supplier_marks += [str(value) for name, value in worlds.hidden.items() if worlds.own.get(name) != value]
    supplier_marks += [str(value) for name, value in worlds.cancelled.items() if worlds.own.get(name) != value]
    supplier_marks += worlds.home_seed.second_marks + worlds.home_seed.hidden_marks
    leaks = []
    for identity in IDENTITIES[:-1]:
        if not endpoint.allowed(identity):
            continue
        text = _call(client, worlds, endpoint, worlds.own, identity).text
        checked = marks + (supplier_marks if identity in SUPPLIER_USERS else [])
        leaks += [f"{identity} shows {mark}" for mark in set(checked) if mark in text]
    assert leaks == []


# ------------------------------------------------------------------ page forms


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _pattern(path: str) -> re.Pattern[str]:
    pieces = re.split(r"\{\w+:\w+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(piece) for piece in pieces) + "/?$")


PAGE_POSTS = [endpoint for endpoint in ENDPOINTS if endpoint.method == "POST" and not endpoint.takes_json]

# Page POST routes the scan below finds no form for, with the reason. A new
# page POST route lands with its form on a page a role opens with the seeded
# ids, or here.
FORMLESS = {
    ("POST", "/account/switch"): "lists the caller's own memberships (tenant slugs, no ids); tests/integration covers switching",
    ("POST", "/conversations/{thread_id:uuid}/read"): "posted by htmx when a thread with new messages is shown: its one id is in the path",
    ("POST", "/deliveries/{delivery_id:uuid}/ship"): "a button on a draft notice: its one id is in the path, which the path tests try",
    ("POST", "/documents/uploads/confirm"): "posted by upload.js with a signed ticket, on S3 storage only",
    ("POST", "/documents/{document_id:uuid}/review"): "shown once a certificate awaits review; carries a decision and a version number",
    ("POST", "/progress/reports/{report_id:uuid}/photos"): "posted by the phone's outbox after a report; its one id is in the path",
    ("POST", "/statements/close"): "shown when a period can be closed; carries the supplier and period of its statement",
    ("POST", "/statements/{statement_id:uuid}/confirm"): "a button on a sent statement: its one id is in the path",
    ("POST", "/statements/{statement_id:uuid}/finalize"): "a button on a confirmed statement: its one id is in the path",
    (
        "POST",
        "/statements/{statement_id:uuid}/lines/{statement_line_id:uuid}/answer",
    ): "a button on a disputed line: its ids are in the path",
    ("POST", "/orders/import/confirm"): "carries a sealed preview, shown only after an upload",
    (
        "POST",
        "/orders/{order_id:uuid}/answers",
    ): "shown on issued orders of several lines (one line is accepted or rejected whole); the seeded orders have one",
    ("POST", "/materials/dispatches/import/confirm"): "carries a sealed preview, shown only after an upload",
}

# Form fields holding ids the browser makes up (an offline report's key).
BROWSER_IDS = {"client_id"}

# Values a submitted form needs besides what the page puts in it, per route,
# so that the form as found plus these succeeds (the fields a person types).
FORM_FILLS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/admin/webhooks"): {"url": "https://erp.example.com/hooks/portal"},
    ("POST", "/admin/chat-robots"): {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=matrix"},
    # A supplier role, so that the supplier chosen is read.
    ("POST", "/admin/users/invitations"): {"role": "supplier_operator"},
    ("POST", "/admin/users/{membership_id:uuid}"): {"role": "supplier_operator"},
    ("POST", "/admin/settings/item-tolerances"): {"item_code": "P-1", "dispatch_tolerance": "3"},
    ("POST", "/admin/settings/document-categories"): {"label": "Matrix category"},
}


# Fields of a form's second and later rows (lines-1-item_id, lines.2.quantity):
# a person fills one row.
LATER_ROW = re.compile(r"[-.][1-9]\d*[-.]")
# Fields a person fills in even when the form does not mark them required.
TYPED = re.compile(r"quantity|amount|price|email")


def _fill_for(name: str, kind: str) -> str:
    """A value a person could type into an empty required field."""
    if kind == "email" or "email" in name:
        return f"matrix.{uuid4().hex[:8]}@test.example"
    if kind == "date":
        return _due()
    if kind == "number" or re.search("quantity|amount|price", name):
        return "1"
    return "isolation matrix"


def _form_data(form: Form, route: tuple[str, str], known: dict[str, str]) -> dict[str, str]:
    """The form as a browser submits it after a person filled it in: hidden
    values, each select's chosen option (else one naming a seeded object),
    a checked radio per group, the required fields and the quantities."""
    data: dict[str, str] = {}
    for item in form.fields:
        if item.kind in ("file", "submit", "button", "reset"):
            continue
        if item.kind in ("radio", "checkbox"):
            if item.checked or (item.kind == "radio" and item.required and item.name not in data):
                data[item.name] = item.value
            continue
        value = item.value
        if not value and LATER_ROW.search(item.name):
            data[item.name] = value
            continue
        if item.kind == "select" and not value:
            value = next((option for option in item.options if option in known), next((option for option in item.options if option), ""))
        if item.name in BROWSER_IDS and not value:
            value = str(uuid4())
        elif not value and (item.required or TYPED.search(item.name)):
            value = _fill_for(item.name, item.kind)
        data[item.name] = value
    return {**data, **FORM_FILLS.get(route, {})}


@dataclass
class Found:
    identity: str
    ids: dict[str, Any]
    form: Form


def _variants(worlds: Worlds, identity: str) -> list[dict[str, Any]]:
    """The ids pages are opened with: the caller's own, an order it can ship
    on (accepted), and for buyer roles its drafts (a draft order, dispatch)."""
    variants = [worlds.own, {**worlds.own, "order_id": worlds.own["line_order_id"]}]
    if identity not in SUPPLIER_USERS:
        variants.append(worlds.hidden)
    return variants


def _route_of(action: str, patterns: dict[tuple[str, str], re.Pattern[str]]) -> tuple[str, str] | None:
    """The page POST route a form's action names: of the routes matching
    it, the one with the fewest parameters (/admin/users/invitations, not
    /admin/users/{membership_id})."""
    matching = [route for route, pattern in patterns.items() if pattern.match(action)]
    return min(matching, key=lambda route: route[1].count("{"), default=None)


@pytest.fixture(scope="module")
def forms(client: Any, worlds: Worlds) -> dict[tuple[str, str], list[Found]]:
    """Every page a role may open, with the seeded ids, and the panels htmx
    loads into it, scanned for POST forms: for each page POST route, the
    first form each role finds (a buyer's and a supplier's differ)."""
    found: dict[tuple[str, str], dict[str, Found]] = {}
    patterns = {(endpoint.method, endpoint.path): _pattern(endpoint.path) for endpoint in PAGE_POSTS}
    pages = [endpoint for endpoint in ENDPOINTS if endpoint.method == "GET" and not endpoint.is_api]
    seen = set()

    def scan(identity: str, ids: dict[str, Any], url: str) -> None:
        if (identity, url) in seen:
            return
        seen.add((identity, url))
        client.cookies.clear()
        response = client.get(url, headers=worlds.headers[identity], follow_redirects=False)
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            return
        parser = FormParser(urlsplit(url).path)
        parser.feed(response.text)
        for form in parser.forms:
            route = _route_of(form.action, patterns)
            if route is not None and identity not in found.setdefault(route, {}):
                found[route][identity] = Found(identity, ids, form)
        for panel in parser.panels:
            scan(identity, ids, panel)

    for identity in ("admin", "planner", "qa", "finance", "supplier_admin"):
        for endpoint in pages:
            if endpoint.allowed(identity):
                for ids in _variants(worlds, identity):
                    scan(identity, ids, endpoint.url(ids))
    return {route: list(by_identity.values()) for route, by_identity in found.items() if by_identity}


def _known(found: Found) -> dict[str, str]:
    """Seeded id -> its key, for the ids the form was found with."""
    return {str(value): key for key, value in found.ids.items()}


def _id_fields_of(found: Found, worlds: Worlds) -> tuple[list[tuple[str, str]], list[str]]:
    """(field, seeded key) of each field carrying an id, and the fields
    carrying ids the seed does not know."""
    known = _known(found)
    fields, unknown = [], []
    data = _form_data(found.form, ("", ""), known)
    for item in found.form.fields:
        if item.name in BROWSER_IDS or item.name not in data:
            continue
        ids = [value for value in [data[item.name], *item.options] if _is_uuid(value)]
        if not ids:
            continue
        key = next((known[value] for value in ids if value in known), None)
        if key is None:
            unknown.append(f"{item.name}={data[item.name]}")
        else:
            fields.append((item.name, key))
    return fields, unknown


def _submit(client: Any, worlds: Worlds, found: Found, data: dict[str, str]) -> Any:
    headers = dict(worlds.headers[found.identity])
    files = None
    if found.form.multipart:
        files = {item.name: ("matrix.png", png(), "image/png") for item in found.form.fields if item.kind == "file"}
    client.cookies.clear()
    return client.post(
        found.form.action, data={**data, "_csrf_token": headers["x-csrftoken"]}, files=files, headers=headers, follow_redirects=False
    )


@_params(PAGE_POSTS)
def test_page_forms_refuse_ids_of_others_and_change_nothing(
    endpoint: Endpoint, client: Any, worlds: Worlds, forms: dict[tuple[str, str], list[Found]]
) -> None:
    """Each page POST route's form, found on the pages roles open: every
    field carrying an id (hidden inputs, selects) is submitted with another
    tenant's, another supplier's (for supplier users), a hidden parent's and
    a missing id, which must answer alike and change nothing; the form as
    found (plus what a person types) then succeeds."""
    route = (endpoint.method, endpoint.path)
    if route in FORMLESS:
        assert route not in forms, f"{endpoint} has a form now: take it off FORMLESS"
        return
    assert route in forms, f"no page shows a form for {endpoint}: seed what it needs, or list it in FORMLESS with the reason"
    problems = []
    before = database(client, worlds)
    for found in forms[route]:
        fields, unknown = _id_fields_of(found, worlds)
        assert unknown == [], f"{endpoint}: fields carry ids the seed does not name"
        data = _form_data(found.form, route, _known(found))
        for name, key in fields:
            answers = {}
            for label, value in foreign_values(worlds, key, found.identity):
                answers[label] = _outcome(_submit(client, worlds, found, {**data, name: str(value)}))
            if len(set(answers.values())) != 1 or any(answer[0] < 400 for answer in answers.values()):
                problems.append(f"{found.identity} {endpoint} {name}: {answers}")
    assert problems == []
    changed = changed_tables(before, database(client, worlds))
    assert changed == [], f"refused forms changed these tables: {changed}"
    found = forms[route][0]
    if not _id_fields_of(found, worlds)[0]:
        return
    # The form as found, plus what a person types, does what it is for:
    # the refusals above came from the ids.
    data = _form_data(found.form, route, _known(found))
    response = _submit(client, worlds, found, data)
    problem = re.findall(r'class="(?:alert error|field-error|error)[^"]*"[^>]*>([^<]*)<', response.text)
    assert response.status_code == 303, f"{found.identity} {endpoint} as found, {data}: {response.status_code} {problem}"
    assert "/login" not in response.headers["location"]
