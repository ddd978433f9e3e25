"""The same write sent several times at once (a double tap on a phone, a
POST retried by a flaky network, two tabs): every answer is a success or a
clear refusal, never a 500, and what is keyed uniquely is stored once.

Services often check "is it there yet?" and then insert. Two requests at
the same moment both see "no" and both insert: on PostgreSQL the second
insert meets the unique index (asyncpg's UniqueViolationError, SQLSTATE
23505) inside the request's transaction, which answered 500, or, without
an index, the record is stored twice. SQLite runs one writer at a time,
so there a race shows as the second request meeting what the first one
committed.

The routes come from the app's own route table: every POST, PUT and PATCH
route under /api/, with a body valid for the seeded world (the isolation
matrix's sample bodies, tests/tenancy/test_isolation_matrix.py, the long
input sweep's BODIES, or one of BODIES here). Each is sent BURST times at
once, on the app's own event loop (where its database pool lives), as
the caller the isolation matrix picks. Every answer must be 2xx or a
4xx with the JSON error shape and a message in the caller's language
(zh-CN here); for the routes in KEYED, the rows carrying the body's key
number exactly one afterwards. A route the probe cannot send is listed
in NOT_PROBED with the reason, so a new route cannot escape.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from tests.integration.test_long_input import BODIES as LONG_INPUT_BODIES
from tests.integration.test_long_input import CALLERS
from tests.support.factories import PASSWORD, api_token
from tests.tenancy.matrix import Worlds, make_worlds, route_handlers
from tests.tenancy.test_isolation_matrix import ENDPOINTS, ENDS_SESSION, SAMPLE_BODIES, Endpoint, _fill

BURST = 5
CJK = re.compile(r"[\u4e00-\u9fff]")

# Bodies for this sweep where the other sweeps' would refuse every copy or
# carry no key of their own ("{name}": the caller's own seeded id, "{new}" a
# fresh UUID, the same in every copy of one burst).
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/items"): {"code": "RACE-ITEM", "name": "Race", "unit": "pcs"},
    ("POST", "/api/v1/suppliers"): {"code": "RACE-S", "name": "Race supplier"},
    ("POST", "/api/v1/settings/document-categories"): {"key": "race_category", "label": "Race category", "base": "photo"},
    ("PUT", "/api/v1/progress-stages"): {"labels": ["Race stage"]},
    ("PUT", "/api/v1/reject-reasons"): {"labels": ["Race reason"]},
    # A kind the caller (an admin) receives: the first choice stores a row.
    ("PUT", "/api/v1/notifications/preferences"): [{"kind": "approval.requested", "email": "digest"}],
    ("PUT", "/api/v1/settings/approvals"): [{"kind": "order", "approver_role": "admin", "threshold": "100"}],
    ("PUT", "/api/v1/items/{item_id:uuid}/qc-templates"): [{"category": "drawing", "stage": "before_delivery", "note": "race"}],
    ("POST", "/api/v1/invitations"): {"email": "race.invitee@test.example", "role": "supplier_operator", "supplier_id": "{supplier_id}"},
    ("POST", "/api/v1/team/invitations"): {"email": "race.colleague@test.example", "role": "supplier_operator"},
    ("POST", "/api/v1/statements/compute"): {"supplier_id": "{supplier_id}", "period": "2025-06"},
    ("POST", "/api/v1/statements/close"): {"supplier_id": "{supplier_id}", "period": "2025-07"},
    ("POST", "/api/v1/threads/{thread_id:uuid}/messages"): {"body": "race", "client_id": "{new}"},
    ("POST", "/api/v1/progress-reports"): {"client_id": "{new}", "order_line_id": "{line_id}", "stage": "machining", "good_quantity": "1"},
}

# Routes that take no JSON body (uploads, imports) or cannot be sent as a
# burst, with the reason.
NOT_PROBED: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/documents"): "multipart upload of a file, not a JSON body",
    ("POST", "/api/v1/documents/{document_id:uuid}/versions"): "multipart upload of a file, not a JSON body",
    ("POST", "/api/v1/progress-reports/{report_id:uuid}/photos"): "multipart upload of a photo, not a JSON body",
    ("POST", "/api/v1/dispatches/import"): "multipart upload of a spreadsheet, not a JSON body",
    ("POST", "/api/v1/orders/import"): "multipart upload of a spreadsheet, not a JSON body",
    ("POST", "/api/v1/documents/uploads"): "direct uploads need S3 storage (409 on files); tests/integration/documents/test_s3.py",
    ("POST", "/api/v1/documents/uploads/confirm"): "carries a signed ticket from a finished S3 upload",
}

# Routes whose body carries a key the database holds once (a code, a
# client-made id, one record per parent): after the burst exactly one row of
# the table in the caller's tenant meets the condition, each {} filled with
# the value at that path of the body ("{name}": the caller's seeded id).
KEYED: dict[tuple[str, str], tuple[str, str, list[str]]] = {
    ("POST", "/api/v1/items"): ("item", "code = {}", ["code"]),
    ("POST", "/api/v1/suppliers"): ("supplier", "code = {}", ["code"]),
    ("POST", "/api/v1/progress-reports"): ("progress_report", "client_id = {}", ["client_id"]),
    ("POST", "/api/v1/threads/{thread_id:uuid}/messages"): ("conversation_message", "client_id = {}", ["client_id"]),
    ("POST", "/api/v1/notifications/push-subscriptions"): ("push_subscription", "endpoint = {}", ["endpoint"]),
    ("POST", "/api/v1/settings/document-categories"): ("document_category", "key = {}", ["key"]),
    ("PUT", "/api/v1/settings/item-tolerances/{item_id:uuid}"): ("item_tolerance", "item = {}", ["{item_id}"]),
    ("PUT", "/api/v1/material-prices"): ("material_price", "item = {}", ["item_id"]),
    ("POST", "/api/v1/statements/compute"): ("settlement_period", "label = {}", ["period"]),
    ("POST", "/api/v1/statements/close"): (
        "period_close",
        "supplier = {} AND period IN (SELECT id FROM settlement_period WHERE label = {})",
        ["supplier_id", "period"],
    ),
    ("PUT", "/api/v1/settings/handover-template"): ("handover_template", "1 = 1", []),
    ("PUT", "/api/v1/settings/reconciliation"): ("reconciliation_setting", "1 = 1", []),
    ("PUT", "/api/v1/settings/response-times"): ("response_rule", "1 = 1", []),
    ("PUT", "/api/v1/settings/ncr-steps"): ("ncr_step_days", "step = 'containment'", []),
    ("PUT", "/api/v1/notifications/preferences"): ("notification_preference", "kind = {}", ["[0].kind"]),
}

# Routes where the same request sent again means the same thing (a setting
# saved, a subscription renewed, a rendering asked for) or where copies are
# distinct records that only share a counter: every copy succeeds. The rest
# may refuse the later copies with a clear 4xx (409: another request just
# saved it).
ALL_SUCCEED = {
    ("POST", "/api/v1/handovers"),
    ("POST", "/api/v1/notifications/push-subscriptions"),
    ("PUT", "/api/v1/notifications/preferences"),
    ("POST", "/api/v1/statement-adjustments"),
    ("POST", "/api/v1/statements/compute"),
    ("POST", "/api/v1/statements/{statement_id:uuid}/pdf"),
    ("PUT", "/api/v1/material-prices"),
    ("PUT", "/api/v1/settings/handover-template"),
    ("PUT", "/api/v1/settings/item-tolerances/{item_id:uuid}"),
    ("PUT", "/api/v1/settings/document-categories/{category_id:uuid}"),
    ("PUT", "/api/v1/settings/ncr-steps"),
    ("PUT", "/api/v1/settings/reconciliation"),
    ("PUT", "/api/v1/settings/response-times"),
}


def write_routes(app: Any) -> list[tuple[str, str]]:
    return sorted(route for route in route_handlers(app) if route[0] in ("POST", "PUT", "PATCH") and route[1].startswith("/api/"))


def _app_routes() -> list[tuple[str, str]]:
    from portal.asgi import create_app

    return write_routes(create_app())


ROUTES = _app_routes()
PROBED = [route for route in ROUTES if route not in NOT_PROBED]


@pytest.fixture(scope="module")
def worlds(client: Any, run: Any) -> Worlds:
    return make_worlds(client, run)


def test_every_write_route_is_probed_or_listed(app: Any) -> None:
    routes = set(write_routes(app))
    assert sorted(set(NOT_PROBED) - routes) == [], "NOT_PROBED names routes the app no longer has"
    assert sorted(set(BODIES) - routes) == [], "BODIES names routes the app no longer has"
    assert sorted(set(KEYED) - routes) == [], "KEYED names routes the app no longer has"
    assert sorted(set(KEYED) & set(NOT_PROBED)) == [], "a KEYED route must be probed"
    assert sorted(ALL_SUCCEED - routes) == [], "ALL_SUCCEED names routes the app no longer has"


def _caller(route: tuple[str, str]) -> str | None:
    if route in CALLERS:
        return CALLERS[route]
    endpoint = Endpoint(*route)
    if endpoint not in ENDPOINTS:
        return None  # a public route (sign-in)
    return next(
        identity for identity in ("admin", "planner", "qa", "finance", "supplier_admin", "supplier_operator") if endpoint.allowed(identity)
    )


def _body(client: Any, worlds: Worlds, route: tuple[str, str], ids: dict[str, Any], identity: str | None) -> Any:
    if route == ("POST", "/api/v1/auth/token"):
        account = worlds.home.accounts["planner"]
        return {"email": account.email, "password": PASSWORD, "tenant": worlds.home.slug}
    template = BODIES.get(route, LONG_INPUT_BODIES.get(route, SAMPLE_BODIES.get(route)))
    if template is None:
        return None
    if "'{version}'" in repr(template):
        order = client.get(f"/api/v1/orders/{ids['order_id']}", headers={"authorization": f"Bearer {worlds.tokens['admin']}"})
        ids = {**ids, "version": order.json()["version"]}
    return _fill(template, ids)


async def burst(app: Any, method: str, url: str, headers: dict[str, str], body: Any) -> list[httpx.Response]:
    """``BURST`` copies of one request, all started before any answers."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as session:
        kwargs: dict[str, Any] = {"headers": headers} | ({"json": body} if body is not None else {})
        return list(await asyncio.gather(*(session.request(method, url, **kwargs) for _ in range(BURST))))


def _problem(response: httpx.Response) -> str | None:
    """Why ``response`` is not a success or a clear refusal, or None."""
    status = response.status_code
    if status < 400:
        return None
    if status >= 500:
        return f"{status}: {response.text[:300]}"
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"{status} without the JSON error shape: {response.text[:300]}"
    if not error.get("code") or not CJK.search(str(error.get("message", ""))):
        return f"{status} without a code or a translated message: {response.text[:300]}"
    return None


async def _count(tenant_id: Any, table: str, condition: str, values: list[Any]) -> int:
    from tenants.context import system_scope
    from tenants.tables import Tenant

    async with system_scope("concurrent-writes-count"):
        rows = await Tenant.raw(f'SELECT count(*) AS n FROM "{table}" WHERE tenant = {{}} AND {condition}', tenant_id, *values)  # noqa: S608 (from KEYED)
    return int(rows[0]["n"])


def _key_values(route: tuple[str, str], body: Any, ids: dict[str, Any]) -> list[Any]:
    """The values at KEYED's paths ("[0].kind": the first entry's)."""
    values = []
    for path in KEYED[route][2]:
        if path.startswith("{"):
            values.append(str(_fill(path, ids)))
        elif path.startswith("[0]."):
            values.append(str(body[0][path[4:]]))
        else:
            values.append(str(body[path]))
    return values


@pytest.mark.parametrize("route", PROBED, ids=lambda route: f"{route[0]} {route[1]}")
def test_the_same_write_sent_at_once_answers_clearly_and_stores_once(
    route: tuple[str, str], app: Any, client: Any, run: Any, worlds: Worlds
) -> None:
    method, path = route
    identity = _caller(route)
    ids = {**worlds.own, **worlds.home_seed.personal.get(identity or "", {})}
    headers = {"accept-language": "zh-CN"}
    if identity is not None:
        token = api_token(client, worlds.home.accounts[identity], worlds.home.slug) if route in ENDS_SESSION else worlds.tokens[identity]
        headers["authorization"] = f"Bearer {token}"
    body = _body(client, worlds, route, ids, identity)
    responses = run(burst, app, method, Endpoint(*route).url(ids), headers, body)
    statuses = sorted(response.status_code for response in responses)
    problems = [problem for response in responses if (problem := _problem(response))]
    assert problems == [], f"{method} {path} as {identity}, {statuses}:\n" + "\n".join(problems)
    if route in ALL_SUCCEED:
        assert statuses[-1] < 300, f"{method} {path}: every copy should succeed: {statuses} {[r.text[:200] for r in responses]}"
    if route in KEYED:
        assert statuses[0] < 300, f"{method} {path}: no copy succeeded, so the key was never stored: {statuses} {responses[0].text[:300]}"
        table, condition, _paths = KEYED[route]
        values = _key_values(route, body, ids)
        stored = run(_count, worlds.home.tenant_id, table, condition, values)
        assert stored == 1, f"{method} {path}: {stored} rows of {table} where {condition} {values} after {statuses}"
