"""The isolation matrix: every route of the app x every role x objects of
another tenant and (for supplier roles) of another supplier.

It is derived from the app's own route table, so a route added later is
covered the day it lands: a route must either be listed as public below or
be refused to anonymous callers, and every id parameter must be known to
``FOREIGN_IDS`` (the test fails otherwise, naming the route).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.routes import HTTPRoute

from tenants.roles import POLICY, Role
from tests.support.factories import World, api_token, make_world, page_headers, page_token

# Routes that anyone may call, with the reason. Everything else needs a session.
PUBLIC_ROUTES = {
    "/": "start page",
    "/health": "load balancer probe",
    "/locale/{code:str}": "language preference cookie",
    "/login": "sign-in form",
    "/login/tenant": "tenant choice after a verified password (carries its own signed token)",
    "/password-reset": "reset request: same answer for every email",
    "/password-reset/{token:str}": "the emailed token is the credential",
    "/invitations/{token:str}": "the emailed token is the credential",
    "/api/v1/auth/token": "sign-in for API clients",
    "/static/{file_path:path}": "CSS, JS, icons",
    "/sw.js": "service worker: the app shell's URLs, nothing about anyone",
    "/manifest.webmanifest": "web app manifest: names and icons",
    "/offline": "offline page, cached by the service worker at install",
    "/schema": "OpenAPI description",
    "/schema/scalar": "OpenAPI description",
    "/schema/openapi.json": "OpenAPI description",
    "/schema/{path:str}": "OpenAPI description",
}

# Bodies that pass validation, so that a write reaches the object lookup
# (a body refused first would say nothing about isolation). Other API writes
# accept an empty JSON object.
SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/api/v1/items/{item_id:uuid}/bom"): [],
    ("PATCH", "/api/v1/orders/{order_id:uuid}"): {"version": 1, "lines": []},
    ("POST", "/api/v1/orders/{order_id:uuid}/transitions"): {"event": "cancel", "reason": "isolation matrix"},
    ("POST", "/api/v1/deliveries/{delivery_id:uuid}/cancel"): {"reason": "isolation matrix"},
    ("POST", "/api/v1/deliveries/{delivery_id:uuid}/receipt"): {"lines": []},
    ("POST", "/api/v1/dispatches/{dispatch_id:uuid}/receipt"): {"lines": []},
}

IDENTITIES = [role.value for role in Role] + ["other_supplier_admin"]
PARAM = re.compile(r"\{(\w+):(\w+)\}")


@dataclass(frozen=True)
class Endpoint:
    path: str
    method: str
    actions: tuple[str, ...]  # the policy actions its guards require; empty for "signed in"

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def id_params(self) -> list[str]:
        return [name for name, kind in PARAM.findall(self.path) if kind == "uuid"]

    def url(self, ids: dict[str, UUID]) -> str:
        return PARAM.sub(lambda match: str(ids[match.group(1)]), self.path)

    def allowed(self, identity: str) -> bool:
        role = Role("supplier_admin" if identity == "other_supplier_admin" else identity)
        return all(role in POLICY.get(action, frozenset()) for action in self.actions)


def _guard_actions(handler: Any) -> tuple[str, ...]:
    """Every policy action the route's guards check (app, controller and
    handler guards all run, so a caller needs all of them)."""
    actions = [getattr(getattr(guard, "func", guard), "action", None) for guard in handler.resolve_guards()]
    return tuple(action for action in actions if action)


def protected_endpoints(app: Any) -> list[Endpoint]:
    endpoints = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path in PUBLIC_ROUTES:
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                endpoints.append(Endpoint(route.path, method, _guard_actions(handler)))
    return endpoints


# Route parameters naming objects that belong to one supplier: a supplier
# user must not reach them for another supplier of the same tenant.
SUPPLIER_BOUND = {
    "supplier_id",
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
}


@dataclass(frozen=True)
class Credentials:
    """An identity's API token (bearer) and page session (cookie): separate
    kinds of token, each refused by the other door."""

    api: str
    page: str


@dataclass
class Worlds:
    home: World
    foreign: World
    own_ids: dict[str, Any]
    other_supplier_ids: dict[str, Any]
    foreign_ids: dict[str, Any]
    tokens: dict[str, Credentials]


async def _seed_delivery(tenant: Any, supplier_id: UUID, item_id: UUID) -> UUID:
    """A shipped notice of ``supplier_id`` against an accepted order of its own."""
    from dataclasses import replace
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.deliveries.schemas import DeliveryCreate, DeliveryLineIn
    from portal.deliveries.services import create_delivery
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from tenants.context import operator_context, tenant_scope

    line = OrderLineIn(item_id=item_id, quantity=Decimal(10), unit_price=Decimal(2), due_date=date.today() + timedelta(days=10))
    order = await orders.fire((await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[line]))).id, "issue")
    supplier = replace(operator_context(tenant, "isolation-matrix"), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id)
    async with tenant_scope(supplier):
        await orders.fire(order.id, "accept")
        lines = [DeliveryLineIn(order_line_id=order.lines[0].id, quantity=Decimal(4), lot="L-1")]
        delivery = await create_delivery(DeliveryCreate(order_id=order.id, lines=lines, ship=True))
    return delivery.id


async def _seed_progress(tenant: Any, supplier_id: UUID, item_id: UUID) -> dict[str, UUID]:
    """A progress report of ``supplier_id`` on a line of its accepted order."""
    from dataclasses import replace
    from datetime import date, timedelta
    from decimal import Decimal
    from uuid import uuid4

    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from portal.progress.schemas import ReportIn
    from portal.progress.services import create_report
    from tenants.context import operator_context, tenant_scope

    line = OrderLineIn(item_id=item_id, quantity=Decimal(10), unit_price=Decimal(2), due_date=date.today() + timedelta(days=10))
    order = await orders.fire((await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[line]))).id, "issue")
    supplier = replace(operator_context(tenant, "isolation-matrix"), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id)
    async with tenant_scope(supplier):
        await orders.fire(order.id, "accept")
        body = ReportIn(client_id=uuid4(), order_line_id=order.lines[0].id, stage="machining", good_quantity=Decimal(2), photos_expected=1)
        report, _ = await create_report(body)
    return {"line_id": order.lines[0].id, "report_id": report.id}


async def _seed_materials(tenant: Any, supplier_id: UUID) -> dict[str, UUID]:
    """A sent dispatch to ``supplier_id``, and a return and a scrap report by
    that supplier."""
    from dataclasses import replace
    from decimal import Decimal

    from portal.items.services import ItemIn, create_item
    from portal.items.tables import Item
    from portal.materials import services as materials
    from portal.materials.schemas import DispatchCreate, DispatchLineIn, MovementCreate
    from tenants.context import operator_context, tenant_scope
    from tenants.scoping import scoped

    found = await scoped(Item).select(Item.id).where(Item.code == "M-1").first()
    material_id = found["id"] if found else (await create_item(ItemIn(code="M-1", name="Steel", unit="kg", kind="material"))).id
    line = DispatchLineIn(item_id=material_id, quantity=Decimal(10), lot="H-1")
    sent = await materials.send_dispatch((await materials.create_dispatch(DispatchCreate(supplier_id=supplier_id, lines=[line]))).id)
    supplier = replace(operator_context(tenant, "isolation-matrix"), role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id)
    async with tenant_scope(supplier):
        returned = await materials.report_movement("return", MovementCreate(item_id=material_id, quantity=Decimal(1)))
        scrapped = await materials.report_movement("scrap", MovementCreate(item_id=material_id, quantity=Decimal(1), reason="matrix"))
    return {"dispatch_id": sent.id, "return_id": returned.id, "scrap_id": scrapped.id}


async def _seed(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """One object of every kind a route can name, for the first supplier and
    (where objects belong to a supplier) for the second; returns their ids
    keyed by route parameter name: (first supplier's, second supplier's)."""
    from datetime import date, timedelta
    from decimal import Decimal

    from portal.audit.tables import AuditEvent
    from portal.items.services import ItemIn, create_item
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn, OrderUpdate
    from portal.quality.services import RequirementIn, add_requirement
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.services.invitations import InvitationCreate, invite
    from tenants.tables import Invitation, Tenant
    from tests.support.documents.samples import seed_document

    async with system_scope("isolation-matrix"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    ids: list[dict[str, Any]] = []
    async with tenant_scope(operator_context(tenant, "isolation-matrix")):
        await invite(InvitationCreate(email=f"invitee.{world.slug}@test.example", role="planner"))
        item = await create_item(ItemIn(code="P-1", name="Part"))
        for supplier_id in world.supplier_ids:
            due = date.today() + timedelta(days=10)
            line = OrderLineIn(item_id=item.id, quantity=Decimal(5), unit_price=Decimal(2), due_date=due)
            order = await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[line]))
            order = await orders.fire(order.id, "issue")
            changed = OrderLineIn(id=order.lines[0].id, item_id=item.id, quantity=Decimal(6), unit_price=Decimal(2), due_date=due)
            await orders.update_order(order.id, OrderUpdate(version=order.version, lines=[changed], reason="more"))
            revision = (await orders.list_revisions(order.id))[0]
            ids.append({"supplier_id": supplier_id, "order_id": order.id, "revision_id": revision.id})
            ids[-1]["delivery_id"] = await _seed_delivery(tenant, supplier_id, item.id)
            ids[-1]["document_id"], ids[-1]["version_id"] = await seed_document(supplier_id)
            ids[-1].update(await _seed_materials(tenant, supplier_id))
            ids[-1].update(await _seed_progress(tenant, supplier_id, item.id))
            requirement = await add_requirement(order.id, RequirementIn(category="material_certificate"))
            ids[-1]["requirement_id"] = requirement.id
    async with system_scope("isolation-matrix"):
        event = await AuditEvent.select(AuditEvent.id).where(AuditEvent.tenant == world.tenant_id).first()
        invitation = await Invitation.select(Invitation.id).where(Invitation.tenant == world.tenant_id).first()
    shared = {
        "membership_id": world.accounts["planner"].membership_id,
        "event_id": event["id"],
        "invitation_id": invitation["id"],
        "item_id": item.id,
    }
    return {**shared, **ids[0]}, {**shared, **ids[1]}


@pytest.fixture(scope="module")
def worlds(client: Any, run: Any) -> Worlds:
    home, foreign = run(make_world, "home"), run(make_world, "foreign")
    own, other_supplier = run(_seed, home)
    foreign_ids, _ = run(_seed, foreign)
    tokens = {
        identity: Credentials(api_token(client, home.accounts[identity], home.slug), page_token(client, home.accounts[identity], home.slug))
        for identity in IDENTITIES
    }
    return Worlds(home, foreign, own, other_supplier, foreign_ids, tokens)


def _call(client: Any, endpoint: Endpoint, url: str, token: Credentials | None) -> Any:
    headers: dict[str, str] = {}
    if token is not None:
        headers = {"authorization": f"Bearer {token.api}"} if endpoint.is_api else page_headers(client, token.page)
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if endpoint.method in ("POST", "PATCH", "PUT"):
        if endpoint.is_api:
            kwargs["json"] = SAMPLE_BODIES.get((endpoint.method, endpoint.path), {})
        else:
            kwargs["data"] = {"_csrf_token": headers.get("x-csrftoken", "")}
    return client.request(endpoint.method, url, **kwargs)


def test_every_route_is_public_by_name_or_guarded(app: Any) -> None:
    """A new route lands either in PUBLIC_ROUTES or behind a guard."""
    unguarded = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path not in PUBLIC_ROUTES:
            for handler in route.route_handlers:
                if handler.http_methods - {"OPTIONS"} and not handler.resolve_guards():
                    unguarded.append(f"{sorted(handler.http_methods)} {route.path}")
    assert unguarded == []


def test_every_id_parameter_has_a_foreign_object(app: Any, worlds: Worlds) -> None:
    missing = {name for endpoint in protected_endpoints(app) for name in endpoint.id_params if worlds.foreign_ids.get(name) is None}
    assert missing == set(), f"add these route parameters to _seed(): {missing}"


def test_anonymous_callers_are_refused_everywhere(app: Any, client: Any, worlds: Worlds) -> None:
    client.cookies.clear()
    failures = []
    for endpoint in protected_endpoints(app):
        response = _call(client, endpoint, endpoint.url(worlds.own_ids), None)
        expected = {401} if endpoint.is_api else {303, 403}
        if response.status_code not in expected or (response.status_code == 303 and "/login" not in response.headers["location"]):
            failures.append(f"{endpoint.method} {endpoint.path}: {response.status_code}")
    assert failures == []


def _outcome(response: Any) -> tuple[int, str | None]:
    """What a caller learns: the status and, for JSON errors, the code."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, response.json().get("error", {}).get("code")
    return response.status_code, None


def _same_as_missing(client: Any, endpoint: Endpoint, ids: dict[str, Any], identity: str, token: Credentials) -> str | None:
    """A problem line when the object answers differently from an id that
    does not exist, or gets through at all."""
    missing = {name: uuid4() for name in ids}
    real = _outcome(_call(client, endpoint, endpoint.url(ids), token))
    absent = _outcome(_call(client, endpoint, endpoint.url(missing), token))
    expected_status = 404 if endpoint.allowed(identity) else 403
    if real != absent or real[0] not in (403, 404) or (real[0] == 403 and expected_status == 404 and absent[0] != 403):
        return f"{identity} {endpoint.method} {endpoint.path}: {real}, a missing id gives {absent}"
    if not endpoint.allowed(identity) and real[0] != 403:
        return f"{identity} {endpoint.method} {endpoint.path}: {real}, the policy refuses this role (403)"
    return None


def test_foreign_tenant_objects_answer_like_missing_ones_for_every_role(app: Any, client: Any, worlds: Worlds) -> None:
    """Another tenant's id is as unknown as a missing one: the same answer
    (404, or 403 where the role may not do this to any object), never more."""
    failures = []
    for endpoint in protected_endpoints(app):
        if not endpoint.id_params:
            continue
        for identity in IDENTITIES:
            problem = _same_as_missing(client, endpoint, worlds.foreign_ids, identity, worlds.tokens[identity])
            if problem:
                failures.append(problem)
    assert failures == []


def test_supplier_users_cannot_reach_another_suppliers_objects(app: Any, client: Any, worlds: Worlds) -> None:
    failures = []
    for endpoint in protected_endpoints(app):
        if not SUPPLIER_BOUND & set(endpoint.id_params):
            continue
        for identity in ("supplier_admin", "supplier_operator"):
            problem = _same_as_missing(client, endpoint, worlds.other_supplier_ids, identity, worlds.tokens[identity])
            if problem:
                failures.append(problem)
    assert failures == []


def test_roles_without_permission_get_403_and_allowed_roles_reach_their_own_objects(app: Any, client: Any, worlds: Worlds) -> None:
    """The other half of the matrix, so that the 404s above are not vacuous:
    with its own ids an allowed role gets through (no 401/403/404/5xx)."""
    failures = []
    for endpoint in protected_endpoints(app):
        if endpoint.method != "GET":
            continue
        url = endpoint.url(worlds.own_ids)
        for identity in IDENTITIES:
            response = _call(client, endpoint, url, worlds.tokens[identity])
            if not endpoint.allowed(identity):
                ok = response.status_code == 403
            elif SUPPLIER_BOUND & set(endpoint.id_params) and identity == "other_supplier_admin":
                ok = response.status_code == 404
            else:
                ok = response.status_code in (200, 303)
            if not ok:
                failures.append(f"{identity} GET {url}: {response.status_code}")
    assert failures == []


def test_no_list_or_page_shows_foreign_data(app: Any, client: Any, worlds: Worlds) -> None:
    """Every GET a role may call, with its own ids: the body never contains
    the other tenant's ids, slug or emails, nor for supplier users the other
    supplier's id."""
    foreign_marks = [worlds.foreign.slug, str(worlds.foreign.tenant_id), *(str(i) for i in worlds.foreign.supplier_ids)]
    foreign_marks += [account.email for account in worlds.foreign.accounts.values()]
    other_supplier = str(worlds.home.supplier_ids[1])
    leaks = []
    for endpoint in protected_endpoints(app):
        if endpoint.method != "GET":
            continue
        for identity in IDENTITIES:
            if not endpoint.allowed(identity):
                continue
            response = _call(client, endpoint, endpoint.url(worlds.own_ids), worlds.tokens[identity])
            marks = foreign_marks + ([other_supplier] if identity in ("supplier_admin", "supplier_operator") else [])
            leaks += [f"{identity} GET {endpoint.path} shows {mark}" for mark in marks if mark in response.text]
    assert leaks == []
