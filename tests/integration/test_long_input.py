"""Values longer or larger than the database holds, in JSON API bodies: a
clear refusal naming the field, the same on both databases, nothing saved.

PostgreSQL refuses a text longer than its varchar column (asyncpg's
StringDataRightTruncationError) and a number beyond its numeric column's
precision (NumericValueOutOfRangeError) inside the request's transaction,
which answered 500; SQLite ignores varchar lengths and stored the text
whole. The routes come from the app's own route table: every POST, PUT and
PATCH route under /api/ whose JSON body has text or Decimal fields. Each
text field gets a value longer than any varchar column of the schema and
than any free text (portal/lengths.py's TEXT_LENGTH), each
Decimal field (and each text field named like an amount) a huge number,
each Decimal field "NaN" too (a comparison with it raises, and answered
500 where a service compared before checking), inside a body otherwise valid for the seeded world (the isolation matrix's
sample bodies, tests/tenancy/test_isolation_matrix.py, or one of BODIES
here). The answer must be 4xx naming the field (not 5xx), and the two
worlds' rows unchanged. A route the probe cannot build a valid body for is
listed in NOT_PROBED with the reason, so a new route cannot escape.

Page forms get the same probe in tests/integration/test_form_input.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from portal.lengths import TEXT_LENGTH, varchar_columns
from tests.tenancy.matrix import IDENTITIES, Worlds, changed_tables, make_worlds, route_handlers
from tests.tenancy.test_isolation_matrix import ENDPOINTS, SAMPLE_BODIES, Endpoint, _call, _fill, database, with_value

HUGE = "1" + "0" * 30
NUMERIC = re.compile(r"quantity|amount|price|tolerance|threshold|rate|correction")

# Bodies for the routes the isolation matrix sends none (or an empty list)
# to, so that the over-long field is the only thing wrong ("{name}": the
# caller's own seeded id, as in SAMPLE_BODIES).
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/auth/token"): {"email": "nobody@test.example", "password": "not-the-password", "tenant": "home"},
    ("POST", "/api/v1/items"): {"code": "LONG-1", "name": "Long input", "unit": "pcs"},
    ("PATCH", "/api/v1/items/{item_id:uuid}"): {"name": "Long input"},
    ("POST", "/api/v1/suppliers"): {"code": "LONG-S", "name": "Long input"},
    ("PATCH", "/api/v1/suppliers/{supplier_id:uuid}"): {"name": "Long input"},
    ("PUT", "/api/v1/items/{item_id:uuid}/qc-templates"): [{"category": "drawing", "stage": "before_delivery", "note": "long input"}],
    ("PUT", "/api/v1/notifications/preferences"): [{"kind": "order.issued", "email": "instant"}],
    ("PUT", "/api/v1/settings/approvals"): [{"kind": "order", "approver_role": "admin", "threshold": "100"}],
    ("PUT", "/api/v1/progress-stages"): {"labels": ["Long input"]},
    ("POST", "/api/v1/orders/{order_id:uuid}/qc-requirements"): {"category": "drawing", "note": "long input"},
    ("POST", "/api/v1/documents/{document_id:uuid}/withdraw"): {"reason": "long input"},
    ("POST", "/api/v1/documents/{document_id:uuid}/reviews"): {"decision": "rejected", "reason": "long input"},
    ("POST", "/api/v1/qc-requirements/{requirement_id:uuid}/waive"): {"reason": "long input"},
    ("POST", "/api/v1/ncrs/{ncr_id:uuid}/cancel"): {"comment": "long input"},
    ("POST", "/api/v1/ncrs/{ncr_id:uuid}/close"): {"comment": "long input"},
    ("POST", "/api/v1/ncrs/{ncr_id:uuid}/steps/{step_id:uuid}/accept"): {"comment": "long input"},
}

# Routes (or single fields of a route) not probed, with the reason.
NOT_PROBED: dict[tuple[str, str] | tuple[str, str, str], str] = {
    ("POST", "/api/v1/documents/uploads"): "direct uploads need S3 storage (409 on files); tests/integration/documents/test_s3.py",
    ("POST", "/api/v1/documents/uploads/confirm"): "carries a signed ticket from an S3 upload; a long ticket is a broken signature",
    ("POST", "/api/v1/auth/token", "password"): "never stored (only its hash): any wrong password answers 401, naming no field",
    ("POST", "/api/v1/auth/token", "tenant"): "only looked up: an unknown tenant answers 401 like a wrong password, naming no field",
}

# Routes whose service decides per body who may call them: the caller the
# body is right for (tests/tenancy/test_isolation_matrix.py's BODY_DECIDES).
CALLERS = {
    ("POST", "/api/v1/handovers/{handover_id:uuid}/items/{handover_item_id:uuid}/sign-off"): "supplier_admin",
    ("POST", "/api/v1/approvals/{approval_id:uuid}/decision"): "finance",
    ("POST", "/api/v1/orders/{order_id:uuid}/transitions"): "supplier_admin",
}


def _probed_fields(info: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path, "text" or "number") of the body's text and Decimal fields, at
    any depth ("lines[].lot": the field of each entry of "lines")."""
    inspect = msgspec.inspect
    if isinstance(info, inspect.UnionType):
        for member in info.types:
            yield from _probed_fields(member, prefix)
    elif isinstance(info, (inspect.ListType, inspect.SetType, inspect.FrozenSetType, inspect.VarTupleType)):
        yield from _probed_fields(info.item_type, f"{prefix}[]")
    elif isinstance(info, (inspect.StructType, inspect.DataclassType, inspect.TypedDictType)):
        for item in info.fields:
            yield from _probed_fields(item.type, f"{prefix}.{item.name}" if prefix else item.name)
    elif isinstance(info, inspect.StrType):
        yield prefix, "text"
    elif isinstance(info, inspect.DecimalType):
        yield prefix, "number"


def body_fields(handler: Any) -> list[tuple[str, str]]:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return []
    return list(dict.fromkeys(_probed_fields(msgspec.inspect.type_info(data.annotation))))


def json_routes(app: Any) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Every write route under /api/ whose body has text or Decimal fields."""
    found = {}
    for route, handler in route_handlers(app).items():
        if route[0] in ("POST", "PUT", "PATCH") and route[1].startswith("/api/") and (fields := body_fields(handler)):
            found[route] = fields
    return dict(sorted(found.items()))


def _app_routes() -> dict[tuple[str, str], list[tuple[str, str]]]:
    from portal.asgi import create_app

    return json_routes(create_app())


ROUTES = _app_routes()
PROBED = [route for route in ROUTES if route not in NOT_PROBED]


def over_long(sample: Any, length: int) -> str:
    """Longer than ``length`` and otherwise of the sample's shape (a URL
    stays a URL, an address an address), so only its length is wrong."""
    text = sample if isinstance(sample, str) else ""
    if "@" in text:
        return "x" * length + text[text.index("@") :]
    return text + "x" * (length + 1 - len(text))


def _sample_at(body: Any, path: str) -> Any:
    for step in re.findall(r"\[\]|[^.\[\]]+", path):
        body = (
            (body[0] if body else None) if step == "[]" and isinstance(body, list) else body.get(step) if isinstance(body, dict) else None
        )
    return body


def _with(body: Any, path: str, value: Any) -> Any:
    """``body`` with ``value`` at ``path``; a list of texts ("labels[]")
    gets one entry."""
    if path.endswith("[]"):
        return with_value(body, path[:-2], [value])
    changed = with_value(body, path, value)
    assert changed is not None, f"the body has no entry to put {path} in: give the route an entry in BODIES"
    return changed


def named(path: str, fields: dict[str, Any]) -> bool:
    """The error names the field: its own name among a key's parts
    ("lines[0].lot", "lines-0-lot" and "lot" all name "lines[].lot")."""
    leaf = re.findall(r"[^.\[\]]+", path)[-1]
    return any(leaf in re.split(r"[.\[\]\-]+", key) for key in fields)


@pytest.fixture(scope="module")
def worlds(client: Any, run: Any) -> Worlds:
    return make_worlds(client, run)


def test_every_json_write_route_is_probed_or_listed(app: Any) -> None:
    routes = json_routes(app)
    listed = {key[:2] for key in NOT_PROBED}
    assert sorted(listed - set(routes)) == [], "NOT_PROBED names routes the app no longer has (or whose body has no text)"
    assert sorted(set(BODIES) - set(routes)) == [], "BODIES names routes the app no longer has"


def _caller(endpoint: Endpoint) -> str | None:
    if (endpoint.method, endpoint.path) in CALLERS:
        return CALLERS[(endpoint.method, endpoint.path)]
    if (endpoint.method, endpoint.path) not in {(item.method, item.path) for item in ENDPOINTS}:
        return None  # a public route (sign-in)
    return next(identity for identity in IDENTITIES[:-1] if endpoint.allowed(identity))


@pytest.mark.parametrize("route", PROBED, ids=lambda route: f"{route[0]} {route[1]}")
def test_over_long_text_and_huge_or_not_a_numbers_are_refused_naming_the_field(route: tuple[str, str], client: Any, worlds: Worlds) -> None:
    endpoint = Endpoint(*route)
    identity = _caller(endpoint)
    ids = {**worlds.own, **worlds.home_seed.personal.get(identity or "", {})}
    template = BODIES.get(route, SAMPLE_BODIES.get(route, {}))
    if "'{version}'" in repr(template):
        order = client.get(f"/api/v1/orders/{ids['order_id']}", headers={"authorization": f"Bearer {worlds.tokens['admin']}"})
        ids["version"] = order.json()["version"]
    body = _fill(template, ids)
    length = max(TEXT_LENGTH, *(column.length for column in varchar_columns()))
    problems = []
    before = database(client, worlds)
    for path, kind in ROUTES[route]:
        if (*route, path) in NOT_PROBED:
            continue
        values = []
        if kind == "text":
            values.append(("over-long", over_long(_sample_at(body, path), length)))
        if kind == "number" or NUMERIC.search(path):
            values.append(("huge", HUGE))
        if kind == "number":
            values.append(("not a number", "NaN"))
        for label, value in values:
            response = _call(client, worlds, endpoint, ids, identity, body=_with(body, path, value))
            fields = {}
            if response.headers.get("content-type", "").startswith("application/json"):
                answer = response.json()
                fields = (answer.get("error") or {}).get("fields") or {} if isinstance(answer, dict) else {}
            if not 400 <= response.status_code < 500:
                problems.append(f"{path} {label}: {response.status_code} {response.text[:200]}")
            elif not named(path, fields):
                problems.append(f"{path} {label}: {response.status_code} without naming the field: {response.text[:300]}")
    changed = changed_tables(before, database(client, worlds))
    assert problems == [], f"{endpoint} as {identity}:\n" + "\n".join(problems)
    assert changed == [], f"{endpoint}: refused values changed these tables: {changed}"
