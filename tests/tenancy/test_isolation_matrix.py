"""The isolation matrix: every route of the app x every role x objects of
another tenant, of another supplier, and objects whose parent the caller
cannot see (a draft order's line, a draft dispatch, a draft order's drawing).

Who may call a route comes from ``tests/tenancy/permissions.py``, a table
kept by hand, never from the routes' own guards: a widened guard or policy
row makes this fail instead of moving the expectation with it. Every route
of the app must be public by (method, path) below or be in that table, and
every id a route takes (in its path, its query or its JSON body) is tried
with another tenant's, another supplier's, a hidden parent's and a missing
id, which must all answer alike.

The matrix is split over modules so that ``--dist loadfile`` spreads it
over the xdist workers (a module is one unit of work): this one holds the
route table, anonymous callers and ids of other suppliers, people, hidden
parents and nested routes, with the helpers the other modules import;
test_isolation_roles.py what each role may call, test_isolation_foreign.py
another tenant's ids in paths. Each module seeds its own worlds, so the
writes one module's allowed roles make never move another's ground.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from litestar.routes import HTTPRoute

from tenants.roles import Role
from tests.support.factories import api_token, page_headers
from tests.tenancy.matrix import IDENTITIES, Worlds, changed_tables, route_handlers, snapshot
from tests.tenancy.matrix_seed import PUSH_SUBSCRIPTION
from tests.tenancy.permissions import PERMISSIONS

# Routes that anyone may call, with the reason. Everything else needs a session.
PUBLIC_ROUTES = {
    ("GET", "/"): "start page",
    ("GET", "/health"): "load balancer probe",
    ("GET", "/metrics"): "Prometheus: 404 without PORTAL_METRICS_TOKEN or through a proxy",
    ("GET", "/locale/{code:str}"): "language preference cookie",
    ("GET", "/login"): "sign-in form",
    ("POST", "/login"): "sign-in form",
    ("POST", "/login/tenant"): "tenant choice after a verified password (carries its own signed token)",
    ("GET", "/password-reset"): "reset request: same answer for every email",
    ("POST", "/password-reset"): "reset request: same answer for every email",
    ("GET", "/password-reset/{token:str}"): "the emailed token is the credential",
    ("POST", "/password-reset/{token:str}"): "the emailed token is the credential",
    ("GET", "/invitations/{token:str}"): "the emailed token is the credential",
    ("POST", "/invitations/{token:str}"): "the emailed token is the credential",
    ("POST", "/api/v1/auth/token"): "sign-in for API clients",
    ("GET", "/static/{file_path:path}"): "CSS, JS, icons",
    ("GET", "/sw.js"): "service worker: the app shell's URLs, nothing about anyone",
    ("GET", "/manifest.webmanifest"): "web app manifest: names and icons",
    ("GET", "/offline"): "offline page, cached by the service worker at install",
    ("GET", "/schema"): "OpenAPI description",
    ("GET", "/schema/scalar"): "OpenAPI description",
    ("GET", "/schema/openapi.json"): "OpenAPI description",
    ("GET", "/schema/{path:str}"): "OpenAPI description",
}

# Routes that end the caller's session: called with a sign-in of their own,
# so that the shared sign-ins of the other test items stay valid.
ENDS_SESSION = {("POST", "/api/v1/auth/logout"), ("POST", "/logout"), ("POST", "/account/switch")}

SUPPLIER_USERS = ("supplier_admin", "supplier_operator")
PARAM = re.compile(r"\{(\w+):(\w+)\}")

# Route parameters naming objects that belong to one supplier: a supplier
# user must not reach them for another supplier of the same tenant.
SUPPLIER_BOUND = {
    "supplier_id",
    "robot_id",
    "order_id",
    "revision_id",
    "delivery_id",
    "document_id",
    "version_id",
    "dispatch_id",
    "return_id",
    "scrap_id",
    "line_id",
    "report_id",
    "requirement_id",
    "statement_id",
    "statement_line_id",
    "adjustment_id",
    "thread_id",
    "colleague_id",
    "ncr_id",
    "step_id",
    "handover_id",
    "handover_item_id",
}
# Objects of one person alone: with "own" ids each caller gets its own
# (Seeded.personal); anyone else's answers like a missing one.
PERSONAL = {"notification_id", "subscription_id"}
# Objects seeded with a parent the first supplier cannot see (Seeded.hidden);
# a draft statement and a pending adjustment are finance's own; the
# buyer's internal thread on the supplier's own order is the buyer's.
HIDDEN = {
    "order_id",
    "line_id",
    "requirement_id",
    "document_id",
    "version_id",
    "dispatch_id",
    "statement_id",
    "statement_line_id",
    "adjustment_id",
    "thread_id",
    "ncr_id",
    "handover_id",
    "handover_item_id",
}
# Objects of drafts cancelled before they were shared (Seeded.cancelled):
# cancelling shares nothing.
CANCELLED = {"order_id", "line_id", "ncr_id", "handover_id", "handover_item_id"}

# Query and body fields holding ids, and the seeded id they take when the
# route's sample body does not name one ("{key}" at that place). Fields named
# by neither fail test_every_id_parameter_and_field_has_seeded_objects,
# naming the route. Body fields are paths: "lines[].order_line_id" is the
# field of every entry of the list "lines", "[].material_id" of a body that
# is a list.
ID_FIELDS = {
    "supplier_id": "supplier_id",
    "order_id": "order_id",
    "item_id": "item_id",
    "dispatch_id": "dispatch_id",
    "document_id": "document_id",
    "order_line_id": "line_id",
    "attached_id": "order_id",
    "entity_id": "order_id",
    "record_id": "order_id",
    "delivery_id": "delivery_id",
    "delivery_line_id": "delivery_line_id",
    "from_supplier_id": "supplier_id",
    "to_supplier_id": "to_supplier_id",
    "owner_id": "owner_id",
    "dispatch_line_id": "dispatch_line_id",
}
# Fields holding ids the caller makes up itself (an offline report's key).
CLIENT_IDS = {"client_id"}
# Id fields a route takes but never looks up, with the reason: another
# tenant's id there can do nothing, and the matrix does not try it.
UNREAD_ID_FIELDS = {
    ("POST", "/api/v1/orders", "lines[].id"): "a new order's lines are new: a line id is read only by an update",
}
# What goes with an id field so that the id alone decides the answer.
ID_FIELD_COMPANIONS = {
    "attached_id": {"attached_type": "order"},
    "entity_id": {"entity_type": "order"},
    "record_id": {"record_type": "order"},
}


def _due() -> str:
    return (date.today() + timedelta(days=20)).isoformat()


# Bodies that pass validation, per route, so that a write reaches its object
# lookup and an allowed role's write succeeds. "{name}" is replaced by the
# caller's own seeded id ("{version}": the order's current version). Lists
# hold one entry, so that the ids inside entries are tried too. Pages post
# an empty form (plus the CSRF token).
SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/api/v1/items/{item_id:uuid}/bom"): [{"material_id": "{material_id}", "quantity_per_unit": "2"}],
    ("PATCH", "/api/v1/orders/{order_id:uuid}"): {
        "version": "{version}",
        "lines": [{"id": "{order_line_id}", "item_id": "{item_id}", "quantity": "7", "unit_price": "2", "due_date": "{due}"}],
        "reason": "isolation matrix",
    },
    ("PUT", "/api/v1/items/{item_id:uuid}/qc-templates"): [],
    ("PUT", "/api/v1/reject-reasons"): {"labels": ["Isolation matrix"]},
    ("POST", "/api/v1/orders/{order_id:uuid}/transitions"): {"event": "start", "reason": "isolation matrix"},
    ("POST", "/api/v1/deliveries/{delivery_id:uuid}/cancel"): {"reason": "isolation matrix"},
    ("POST", "/api/v1/deliveries/{delivery_id:uuid}/receipt"): {"lines": [{"line_id": "{delivery_line_id}", "accepted_quantity": "4"}]},
    ("POST", "/api/v1/dispatches/{dispatch_id:uuid}/receipt"): {"lines": [{"line_id": "{dispatch_line_id}", "received_quantity": "10"}]},
    ("POST", "/api/v1/orders"): {
        "supplier_id": "{supplier_id}",
        "lines": [{"item_id": "{item_id}", "quantity": "2", "unit_price": "3", "due_date": "{due}"}],
    },
    ("POST", "/api/v1/deliveries"): {
        "order_id": "{line_order_id}",
        "lines": [{"order_line_id": "{line_id}", "quantity": "1", "lot": "M"}],
    },
    ("POST", "/api/v1/dispatches"): {
        "supplier_id": "{supplier_id}",
        "lines": [{"item_id": "{material_id}", "quantity": "1", "lot": "M"}],
    },
    ("POST", "/api/v1/invitations"): {"email": "matrix.invitee@test.example", "role": "supplier_operator", "supplier_id": "{supplier_id}"},
    ("PATCH", "/api/v1/memberships/{membership_id:uuid}"): {"role": "supplier_operator", "supplier_id": "{supplier_id}"},
    ("POST", "/api/v1/material-returns"): {"item_id": "{material_id}", "quantity": "1"},
    ("POST", "/api/v1/material-scrap"): {"item_id": "{material_id}", "quantity": "1", "reason": "isolation matrix"},
    ("POST", "/api/v1/progress-reports"): {"client_id": "{new}", "order_line_id": "{line_id}", "stage": "machining", "good_quantity": "1"},
    ("POST", "/documents/uploads"): {
        "name": "a.png",
        "size": 10,
        "sha256": "0" * 64,
        "content_type": "image/png",
        "category": "photo",
        "title": "matrix",
        "attached_type": "order",
        "attached_id": "{order_id}",
    },
    # A period each: the matrix closes 2025-03, which a computation would then refuse.
    ("POST", "/api/v1/statements/compute"): {"supplier_id": "{supplier_id}", "period": "2025-04"},
    ("POST", "/api/v1/statements/close"): {"supplier_id": "{supplier_id}", "period": "2025-03"},
    ("POST", "/api/v1/statement-adjustments"): {"supplier_id": "{supplier_id}", "period": "2025-05", "amount": "1", "reason": "matrix"},
    ("PUT", "/api/v1/settings/reconciliation"): {"cutoff_day": 31, "cutoff_minutes": 1440, "tax_rate": "0.13"},
    ("PUT", "/api/v1/material-prices"): {"item_id": "{material_id}", "unit_price": "2"},
    ("POST", "/api/v1/statements/{statement_id:uuid}/lines/{statement_line_id:uuid}/dispute"): {"comment": "isolation matrix"},
    ("POST", "/api/v1/statements/{statement_id:uuid}/lines/{statement_line_id:uuid}/answer"): {"comment": "isolation matrix"},
    ("PUT", "/api/v1/notifications/preferences"): [],
    ("PUT", "/api/v1/settings/response-times"): {"accept_hours": 48, "acknowledge_hours": 24, "receipt_hours": 72},
    ("POST", "/api/v1/team/invitations"): {"email": "matrix.colleague@test.example", "role": "supplier_operator"},
    ("POST", "/api/v1/orders/{order_id:uuid}/answers"): {"lines": [{"line_id": "{order_line_id}", "accept": True}]},
    ("PUT", "/api/v1/settings/approvals"): [],
    # Refused (a rejection needs a comment), so the seeded request still
    # waits when the page scan looks for its decision form.
    ("POST", "/api/v1/approvals/{approval_id:uuid}/decision"): {"approve": False},
    ("PUT", "/api/v1/settings/tolerance"): {"dispatch_tolerance": "0.02", "over_delivery_tolerance": "0.05"},
    ("PUT", "/api/v1/settings/item-tolerances/{item_id:uuid}"): {"dispatch_tolerance": "0.03"},
    ("POST", "/api/v1/settings/document-categories"): {"label": "Matrix category", "base": "photo"},
    ("PUT", "/api/v1/settings/document-categories/{category_id:uuid}"): {"label": "Matrix drawing"},
    ("POST", "/api/v1/webhooks"): {"url": "https://erp.example.com/hooks/portal", "events": ["order.issued"]},
    ("POST", "/api/v1/notifications/push-subscriptions"): PUSH_SUBSCRIPTION,
    ("POST", "/notifications/push"): PUSH_SUBSCRIPTION,
    ("POST", "/notifications/push/remove"): {"endpoint": "https://push.example.com/matrix/none"},
    ("POST", "/api/v1/chat-robots"): {"service": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=matrix"},
    ("POST", "/api/v1/threads/{thread_id:uuid}/messages"): {"body": "isolation matrix", "client_id": "{new}"},
    ("POST", "/api/v1/ncrs"): {"title": "isolation matrix", "description": "isolation matrix", "supplier_id": "{supplier_id}"},
    ("POST", "/api/v1/ncrs/{ncr_id:uuid}/steps/{step_id:uuid}/answer"): {"text": "isolation matrix"},
    ("POST", "/api/v1/ncrs/{ncr_id:uuid}/steps/{step_id:uuid}/return"): {"comment": "isolation matrix"},
    ("POST", "/api/v1/ncrs/{ncr_id:uuid}/dispositions"): {"kind": "scrap", "quantity": "1"},
    ("POST", "/api/v1/ncrs/{ncr_id:uuid}/owner"): {"owner_id": "{owner_id}"},
    ("PUT", "/api/v1/deliveries/{delivery_id:uuid}/material-lots"): {"lots": [{"dispatch_line_id": "{dispatch_line_id}"}]},
    ("PUT", "/api/v1/settings/ncr-steps"): {"containment": 1, "root_cause": 7, "corrective_action": 14, "verification": 30},
    ("POST", "/api/v1/handovers"): {"from_supplier_id": "{supplier_id}", "to_supplier_id": "{to_supplier_id}", "item_ids": ["{item_id}"]},
    ("POST", "/api/v1/handovers/{handover_id:uuid}/start"): {"version": 1},
    ("POST", "/api/v1/handovers/{handover_id:uuid}/complete"): {"version": 2},
    ("POST", "/api/v1/handovers/{handover_id:uuid}/cancel"): {"version": 1, "reason": "isolation matrix"},
    ("POST", "/api/v1/handovers/{handover_id:uuid}/items/{handover_item_id:uuid}/sign-off"): {"note": "isolation matrix"},
    ("PUT", "/api/v1/settings/handover-template"): {
        "sections": [{"title": "Matrix", "items": [{"title": "Matrix entry", "party": "planner"}]}]
    },
    ("POST", "/api/v1/documents/uploads"): {
        "name": "a.png",
        "size": 10,
        "sha256": "0" * 64,
        "content_type": "image/png",
        "category": "photo",
        "title": "matrix",
        "attached_type": "order",
        "attached_id": "{order_id}",
    },
}


def _fill(body: Any, ids: dict[str, Any]) -> Any:
    if isinstance(body, dict):
        return {key: _fill(value, ids) for key, value in body.items()}
    if isinstance(body, list):
        return [_fill(value, ids) for value in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        name = body[1:-1]
        if name == "version":
            return ids.get("version", 1)
        return _due() if name == "due" else str(uuid4()) if name == "new" else str(ids[name])
    return body


def _steps(path: str) -> list[str]:
    """ "lines[].order_line_id" -> ["lines", "[]", "order_line_id"]."""
    return re.findall(r"\[\]|[^.\[\]]+", path)


def body_value(body: Any, path: str) -> Any:
    """What ``body`` holds at ``path`` (the first entry of a list), or None."""
    for step in _steps(path):
        if step == "[]":
            body = body[0] if isinstance(body, list) and body else None
        else:
            body = body.get(step) if isinstance(body, dict) else None
    return body


def with_value(body: Any, path: str, value: Any) -> Any:
    """A copy of ``body`` with ``value`` at ``path`` (in the first entry of a
    list); None when the body has no entry there to change."""
    steps = _steps(path)

    def put(node: Any, rest: list[str]) -> Any:
        step = rest[0]
        if step == "[]":
            if not isinstance(node, list) or not node:
                raise LookupError(path)
            return [put(node[0], rest[1:]) if len(rest) > 1 else value, *node[1:]]
        node = dict(node) if isinstance(node, dict) else {}
        node[step] = put(node.get(step), rest[1:]) if len(rest) > 1 else value
        return node

    try:
        return put(body, steps)
    except LookupError:
        return None


def _id_params(path: str) -> list[str]:
    return [name for name, kind in PARAM.findall(path) if kind == "uuid"]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def id_params(self) -> list[str]:
        return _id_params(self.path)

    @property
    def takes_json(self) -> bool:
        """API routes, and the page routes that scripts post JSON to."""
        return self.is_api or (self.method, self.path) in SAMPLE_BODIES

    @property
    def writes(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    def url(self, ids: dict[str, Any]) -> str:
        return PARAM.sub(lambda match: str(ids[match.group(1)]), self.path)

    def allowed(self, identity: str) -> bool:
        role = Role("supplier_admin" if identity == "other_supplier_admin" else identity)
        return role in PERMISSIONS[(self.method, self.path)]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [Endpoint(method, path) for method, path in sorted(PERMISSIONS, key=lambda key: (key[1], key[0]))]


def _params(endpoints: list[Endpoint]) -> Any:
    return pytest.mark.parametrize("endpoint", endpoints, ids=str)


def _uuid_paths(info: Any, prefix: str = "") -> list[str]:
    """Paths of the id fields in a msgspec type: ``*_id`` and ``id`` fields
    holding a UUID, at any depth of structs and lists."""
    inspect = msgspec.inspect
    if isinstance(info, inspect.UnionType):
        return [path for member in info.types for path in _uuid_paths(member, prefix)]
    if isinstance(info, (inspect.ListType, inspect.SetType, inspect.FrozenSetType, inspect.VarTupleType)):
        return _uuid_paths(info.item_type, f"{prefix}[]")
    if not isinstance(info, inspect.StructType):
        return []
    found = []
    for field in info.fields:
        path = f"{prefix}.{field.name}" if prefix else field.name
        members = field.type.types if isinstance(field.type, inspect.UnionType) else (field.type,)
        if (field.name == "id" or field.name.endswith("_id")) and any(isinstance(member, inspect.UUIDType) for member in members):
            found.append(path)
        else:
            found += _uuid_paths(field.type, path)
    return found


def _id_fields(handler: Any, endpoint: Endpoint) -> tuple[list[str], list[str]]:
    """The id fields a handler takes besides its path: (query names, JSON
    body paths)."""
    parameters = handler.parsed_fn_signature.parameters
    query = [name for name in parameters if name.endswith("_id") and f"{{{name}:" not in endpoint.path]
    data = parameters.get("data")
    body = _uuid_paths(msgspec.inspect.type_info(data.annotation)) if data is not None else []
    unread = {path for method, route, path in UNREAD_ID_FIELDS if (method, route) == (endpoint.method, endpoint.path)}
    return query, [path for path in body if path.rsplit(".", 1)[-1].removeprefix("[]") not in CLIENT_IDS and path not in unread]


def id_key(endpoint: Endpoint, field: str) -> str | None:
    """The seeded id a query or body field takes: the one the sample body
    names at that place, else by the field's name."""
    sample = body_value(SAMPLE_BODIES.get((endpoint.method, endpoint.path)), field)
    if isinstance(sample, str) and sample.startswith("{") and sample.endswith("}"):
        return sample[1:-1]
    return ID_FIELDS.get(re.split(r"\.|\[\]", field)[-1])


def sample_body(client: Any, worlds: Worlds, endpoint: Endpoint, ids: dict[str, Any]) -> Any:
    """The route's sample body filled with ``ids``; "{version}" is the
    current version of the order ``ids`` name (1 when there is none)."""
    sample = SAMPLE_BODIES.get((endpoint.method, endpoint.path), {})
    if "'{version}'" in repr(sample):
        order = client.get(f"/api/v1/orders/{ids['order_id']}", headers={"authorization": f"Bearer {worlds.tokens['admin']}"})
        ids = {**ids, "version": order.json()["version"] if order.status_code == 200 else 1}
    return _fill(sample, ids)


def _call(client: Any, worlds: Worlds, endpoint: Endpoint, ids: dict[str, Any], identity: str | None, **extra: Any) -> Any:
    """Call ``endpoint`` with ``ids`` in its path as ``identity`` (None:
    anonymous). ``query`` and ``body`` override the query string and the
    body; otherwise a write sends its sample body filled with ``ids``."""
    if identity is not None and ids is worlds.own:
        ids = {**ids, **worlds.home_seed.personal.get(identity, {})}
    headers: dict[str, str] = {}
    if identity is not None and (endpoint.method, endpoint.path) in ENDS_SESSION:
        token = api_token(client, worlds.home.accounts[identity], worlds.home.slug)
        headers = {"authorization": f"Bearer {token}"} if endpoint.is_api else page_headers(client, token)
    elif identity is not None:
        headers = {"authorization": f"Bearer {worlds.tokens[identity]}"} if endpoint.is_api else dict(worlds.headers[identity])
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False, "params": extra.get("query")}
    if endpoint.method in ("POST", "PATCH", "PUT"):
        if endpoint.takes_json:
            kwargs["json"] = extra["body"] if "body" in extra else sample_body(client, worlds, endpoint, ids)
        else:
            kwargs["data"] = {"_csrf_token": headers.get("x-csrftoken", ""), **extra.get("body", {})}
    client.cookies.clear()
    return client.request(endpoint.method, endpoint.url(ids), **kwargs)


def _outcome(response: Any) -> tuple[Any, ...]:
    """What a caller learns: the status, a JSON error's code and the fields
    it names, the fields a re-rendered form marks, and how many items a list
    or an export holds. Another tenant's id must not even move an error to
    another field than a missing id's."""
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and "error" in body:
            return response.status_code, body["error"].get("code"), tuple(sorted(body["error"].get("fields") or {}))
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            return response.status_code, len(body["items"])
        return (response.status_code,)
    if kind.startswith("text/csv"):
        return response.status_code, len(response.text.splitlines())
    if kind.startswith("text/html") and response.status_code >= 400:
        return response.status_code, tuple(sorted(set(FIELD_ERROR.findall(response.text))))
    return (response.status_code,)


# The errors a re-rendered form shows (templates/_partials/forms.html).
FIELD_ERROR = re.compile(r'class="(?:field-error|alert error)"[^>]*>([^<]*)<')


# Routes whose service decides per request body what a role may do (which
# transition, whose revision): the table says who may call them, and the
# service may still answer 403 for one event; an id lookup there answers
# like a missing id, whatever the status.
BODY_DECIDES = {
    ("POST", "/api/v1/orders/{order_id:uuid}/transitions"): "each event has its own permission",
    ("POST", "/orders/{order_id:uuid}/transitions"): "each event has its own permission",
    ("POST", "/api/v1/orders/{order_id:uuid}/revisions/{revision_id:uuid}/acknowledge"): "the supplier admin acknowledges",
    ("POST", "/orders/{order_id:uuid}/revisions/{revision_id:uuid}/acknowledge"): "the supplier admin acknowledges",
    ("POST", "/api/v1/handovers/{handover_id:uuid}/items/{handover_item_id:uuid}/sign-off"): "each entry names the party that signs it",
    ("POST", "/handovers/{handover_id:uuid}/items/{handover_item_id:uuid}/sign-off"): "each entry names the party that signs it",
    ("POST", "/api/v1/approvals/{approval_id:uuid}/decision"): "the rule names the one buyer role that decides",
    ("POST", "/approvals/{approval_id:uuid}/decision"): "the rule names the one buyer role that decides",
}


def _reached(endpoint: Endpoint, response: Any) -> bool:
    """The handler ran for an allowed caller: no refusal, no missing object,
    no error, and a redirect that does not send the user to sign in (but
    signing out does). 400 and 422 are the handler refusing a sample body,
    409 a state the shared seed has moved on from: both come after the
    guards and the lookup."""
    status = response.status_code
    if status in (302, 303):
        return (endpoint.method, endpoint.path) in ENDS_SESSION or "/login" not in response.headers.get("location", "")
    if status == 403 and (endpoint.method, endpoint.path) in BODY_DECIDES:
        return True
    return status < 401 or status in (409, 422)


def _bound_body(endpoint: Endpoint) -> bool:
    """The sample body names objects of the first supplier."""
    body = str(SAMPLE_BODIES.get((endpoint.method, endpoint.path), ""))
    return any(f"{{{name}}}" in body for name in SUPPLIER_BOUND - {"supplier_id"})


def database(client: Any, worlds: Worlds) -> dict[str, str]:
    """The two worlds' rows, as digests per table (tests/tenancy/matrix.py)."""
    return client.blocking_portal.call(snapshot, worlds.tenant_ids)  # type: ignore[no-any-return]


@contextmanager
def changes_nothing(client: Any, worlds: Worlds, endpoint: Endpoint) -> Iterator[None]:
    """Around the refused calls of a write route: the two worlds' rows are
    the same afterwards (reads are not checked: they write nothing)."""
    before = database(client, worlds) if endpoint.writes else None
    yield
    if before is not None:
        changed = changed_tables(before, database(client, worlds))
        assert changed == [], f"{endpoint}: refused calls changed these tables: {changed}"


def foreign_values(worlds: Worlds, key: str, identity: str) -> list[tuple[str, Any]]:
    """Ids the caller may not name, and a missing one: for supplier users
    also the other supplier's and the hidden parent's (where they differ
    from its own: items belong to the tenant, not to a supplier)."""
    values = [("another tenant's", worlds.foreign_ids[key]), ("a missing", uuid4())]
    if identity in SUPPLIER_USERS:
        others = (
            ("another supplier's", worlds.other_supplier),
            ("a hidden parent's", worlds.hidden),
            ("a cancelled draft's", worlds.cancelled),
        )
        for label, ids in others:
            if ids[key] != worlds.own[key]:
                values.append((label, ids[key]))
    return values


def _like_missing(client: Any, worlds: Worlds, endpoint: Endpoint, ids: dict[str, Any], identity: str, label: str) -> str | None:
    """A problem line when ``ids`` answer differently from ids that do not
    exist (404 for a role the table allows, 403 for one it refuses)."""
    missing = {name: uuid4() for name in ids}
    real = _outcome(_call(client, worlds, endpoint, ids, identity))
    absent = _outcome(_call(client, worlds, endpoint, missing, identity))
    expected = 404 if endpoint.allowed(identity) else 403
    if real != absent or (real[0] != expected and (endpoint.method, endpoint.path) not in BODY_DECIDES):
        return f"{identity} {endpoint} with {label}: {real}, a missing id gives {absent}, expected {expected}"
    return None


# ------------------------------------------------------------------ the route table


def test_every_route_is_public_or_in_the_permission_table(app: Any) -> None:
    """A route lands public by (method, path) or in permissions.py; a
    websocket or a mounted ASGI app fails until the matrix handles it."""
    unknown_kinds = [f"{type(route).__name__} {route.path}" for route in app.routes if not isinstance(route, HTTPRoute)]
    assert unknown_kinds == [], "the isolation matrix only knows HTTP routes"
    routes = set(route_handlers(app))
    assert sorted(routes - set(PUBLIC_ROUTES) - set(PERMISSIONS)) == [], "add these routes to tests/tenancy/permissions.py"
    assert sorted(set(PERMISSIONS) - routes) == [], "permissions.py names routes the app no longer has"
    assert sorted(set(PUBLIC_ROUTES) - routes) == [], "PUBLIC_ROUTES names routes the app no longer has"
    assert set(PUBLIC_ROUTES) & set(PERMISSIONS) == set()


def test_every_id_parameter_and_field_has_seeded_objects(handlers: dict[tuple[str, str], Any], worlds: Worlds) -> None:
    missing = {name for endpoint in ENDPOINTS for name in endpoint.id_params if worlds.foreign_ids.get(name) is None}
    assert missing == set(), f"add these route parameters to matrix_seed.seed(): {missing}"
    fields = set()
    for endpoint in ENDPOINTS:
        query, body = _id_fields(handlers[(endpoint.method, endpoint.path)], endpoint)
        for name in query + body:
            key = id_key(endpoint, name)
            if key is None or worlds.foreign_ids.get(key) is None:
                fields.add(f"{endpoint} {name}: no seeded id (name one in ID_FIELDS or the sample body)")
            elif name in body and "[]" in name and body_value(SAMPLE_BODIES.get((endpoint.method, endpoint.path)), name) is None:
                fields.add(f"{endpoint} {name}: the sample body has no entry to put an id in")
    assert sorted(fields) == []


@_params(ENDPOINTS)
def test_anonymous_callers_are_refused(endpoint: Endpoint, client: Any, worlds: Worlds) -> None:
    response = _call(client, worlds, endpoint, worlds.own, None)
    if endpoint.is_api:
        assert response.status_code == 401
    else:
        assert response.status_code in (303, 403)
        assert response.status_code == 403 or "/login" in response.headers["location"]


@_params([endpoint for endpoint in ENDPOINTS if SUPPLIER_BOUND & set(endpoint.id_params)])
def test_another_suppliers_ids_answer_like_missing_ones(endpoint: Endpoint, client: Any, worlds: Worlds) -> None:
    with changes_nothing(client, worlds, endpoint):
        problems = [
            _like_missing(client, worlds, endpoint, worlds.other_supplier, identity, "the other supplier's ids")
            for identity in SUPPLIER_USERS
        ]
    assert [problem for problem in problems if problem] == []


@_params([endpoint for endpoint in ENDPOINTS if PERSONAL & set(endpoint.id_params)])
def test_another_persons_objects_answer_like_missing_ones(endpoint: Endpoint, client: Any, worlds: Worlds) -> None:
    """A notification is its recipient's alone: a colleague in the same
    tenant (and supplier) gets what a missing id gets."""
    personal = worlds.home_seed.personal
    problems = []
    for identity in IDENTITIES:
        for other in ("supplier_operator", "planner"):
            if other != identity:
                ids = {**worlds.own, **personal[other]}
                problems.append(_like_missing(client, worlds, endpoint, ids, identity, f"{other}'s ids"))
    assert [problem for problem in problems if problem] == []


@_params([endpoint for endpoint in ENDPOINTS if HIDDEN & set(endpoint.id_params)])
def test_objects_whose_parent_is_hidden_answer_like_missing_ones(endpoint: Endpoint, client: Any, worlds: Worlds) -> None:
    """A draft order's line, QC requirement and drawing, a draft dispatch,
    drafts cancelled before they were shared: the supplier's own by
    supplier, but not shared with it."""
    with changes_nothing(client, worlds, endpoint):
        problems = [_like_missing(client, worlds, endpoint, worlds.hidden, identity, "hidden-parent ids") for identity in SUPPLIER_USERS]
        if CANCELLED & set(endpoint.id_params):
            problems += [
                _like_missing(client, worlds, endpoint, worlds.cancelled, identity, "cancelled-draft ids") for identity in SUPPLIER_USERS
            ]
    assert [problem for problem in problems if problem] == []


def _mixes(endpoint: Endpoint, worlds: Worlds, identity: str) -> list[tuple[str, dict[str, Any]]]:
    """Each id of a nested route replaced alone: by another tenant's, and by
    another object of the caller's own tenant (another supplier's, which a
    buyer role sees but which belongs to a different parent)."""
    mixes = []
    for name in endpoint.id_params:
        mixes.append((f"a foreign {name}", {**worlds.own, name: worlds.foreign_ids[name]}))
        if worlds.other_supplier[name] != worlds.own[name]:
            mixes.append((f"another parent's {name}", {**worlds.own, name: worlds.other_supplier[name]}))
    return mixes


@_params([endpoint for endpoint in ENDPOINTS if len(endpoint.id_params) > 1])
def test_nested_routes_check_parent_and_child_together(endpoint: Endpoint, client: Any, worlds: Worlds) -> None:
    """Own parent with a foreign child, foreign parent with an own child."""
    problems = []
    with changes_nothing(client, worlds, endpoint):
        for identity in ("admin", "planner", "qa", "supplier_admin"):
            if not endpoint.allowed(identity):
                continue
            for label, ids in _mixes(endpoint, worlds, identity):
                problems.append(_like_missing(client, worlds, endpoint, ids, identity, label))
    assert [problem for problem in problems if problem] == []
