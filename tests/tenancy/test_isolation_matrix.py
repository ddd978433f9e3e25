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
from uuid import UUID

import pytest
from litestar.routes import HTTPRoute

from tenants.roles import POLICY, Role
from tests.support.factories import World, api_token, make_world, page_headers

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
    "/schema": "OpenAPI description",
    "/schema/scalar": "OpenAPI description",
    "/schema/openapi.json": "OpenAPI description",
    "/schema/{path:str}": "OpenAPI description",
}

IDENTITIES = [role.value for role in Role] + ["other_supplier_admin"]
PARAM = re.compile(r"\{(\w+):(\w+)\}")


@dataclass(frozen=True)
class Endpoint:
    path: str
    method: str
    action: str | None  # the policy action its guards require, None for "signed in"

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
        return self.action is None or role in POLICY.get(self.action, frozenset())


def _guard_action(handler: Any) -> str | None:
    actions = [getattr(getattr(guard, "func", guard), "action", None) for guard in handler.resolve_guards()]
    known = [action for action in actions if action]
    return known[0] if known else None


def protected_endpoints(app: Any) -> list[Endpoint]:
    endpoints = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path in PUBLIC_ROUTES:
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                endpoints.append(Endpoint(route.path, method, _guard_action(handler)))
    return endpoints


@dataclass
class Worlds:
    home: World
    foreign: World
    home_ids: dict[str, dict[str, UUID]]
    foreign_ids: dict[str, UUID]
    tokens: dict[str, str]


async def _ids(world: World) -> dict[str, Any]:
    """Ids of each kind of object in a world, keyed by the route parameter name."""
    from portal.audit.tables import AuditEvent
    from tenants.context import system_scope
    from tenants.tables import Invitation

    async with system_scope("isolation-matrix"):
        event = await AuditEvent.select(AuditEvent.id).where(AuditEvent.tenant == world.tenant_id).first()
        invitation = await Invitation.select(Invitation.id).where(Invitation.tenant == world.tenant_id).first()
    return {
        "supplier_id": world.supplier_ids[0],
        "other_supplier_id": world.supplier_ids[1],
        "membership_id": world.accounts["planner"].membership_id,
        "event_id": event["id"],
        "invitation_id": invitation["id"] if invitation else None,
    }


async def _invite(world: World, email: str) -> None:
    from tenants.context import operator_context, tenant_scope
    from tenants.services.invitations import InvitationCreate, invite
    from tenants.tables import Tenant

    tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    context = operator_context(tenant, "isolation-matrix")
    async with tenant_scope(context):
        await invite(InvitationCreate(email=email, role="planner"))


@pytest.fixture(scope="module")
def worlds(client: Any, run: Any) -> Worlds:
    home, foreign = run(make_world, "home"), run(make_world, "foreign")
    for world in (home, foreign):
        run(_invite, world, f"invitee.{world.slug}@test.example")
    home_ids, foreign_ids = run(_ids, home), run(_ids, foreign)
    tokens = {identity: api_token(client, home.accounts[identity], home.slug) for identity in IDENTITIES}
    return Worlds(home, foreign, {"own": home_ids}, foreign_ids, tokens)


def _call(client: Any, endpoint: Endpoint, url: str, token: str | None) -> Any:
    headers: dict[str, str] = {}
    if token is not None:
        headers = {"authorization": f"Bearer {token}"} if endpoint.is_api else page_headers(client, token)
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if endpoint.method in ("POST", "PATCH", "PUT"):
        if endpoint.is_api:
            kwargs["json"] = {}
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
    assert missing == set(), f"add these route parameters to _ids(): {missing}"


def test_anonymous_callers_are_refused_everywhere(app: Any, client: Any, worlds: Worlds) -> None:
    client.cookies.clear()
    failures = []
    for endpoint in protected_endpoints(app):
        response = _call(client, endpoint, endpoint.url(worlds.home_ids["own"]), None)
        expected = {401} if endpoint.is_api else {303, 403}
        if response.status_code not in expected or (response.status_code == 303 and "/login" not in response.headers["location"]):
            failures.append(f"{endpoint.method} {endpoint.path}: {response.status_code}")
    assert failures == []


def test_foreign_tenant_objects_answer_404_for_every_role(app: Any, client: Any, worlds: Worlds) -> None:
    """Another tenant's id is as unknown as a missing one: 404 when the role
    may use the route at all, 403 when the policy refuses it first."""
    failures = []
    for endpoint in protected_endpoints(app):
        if not endpoint.id_params:
            continue
        url = endpoint.url(worlds.foreign_ids)
        for identity in IDENTITIES:
            response = _call(client, endpoint, url, worlds.tokens[identity])
            expected = 404 if endpoint.allowed(identity) else 403
            if response.status_code != expected:
                failures.append(f"{identity} {endpoint.method} {url}: {response.status_code}, expected {expected}")
    assert failures == []


def test_supplier_users_cannot_reach_another_suppliers_objects(app: Any, client: Any, worlds: Worlds) -> None:
    own = worlds.home_ids["own"]
    failures = []
    for endpoint in protected_endpoints(app):
        if "supplier_id" not in endpoint.id_params:
            continue
        url = endpoint.url({**own, "supplier_id": own["other_supplier_id"]})
        for identity in ("supplier_admin", "supplier_operator"):
            response = _call(client, endpoint, url, worlds.tokens[identity])
            expected = 404 if endpoint.allowed(identity) else 403
            if response.status_code != expected:
                failures.append(f"{identity} {endpoint.method} {url}: {response.status_code}, expected {expected}")
    assert failures == []


def test_roles_without_permission_get_403_and_allowed_roles_reach_their_own_objects(app: Any, client: Any, worlds: Worlds) -> None:
    """The other half of the matrix, so that the 404s above are not vacuous:
    with its own ids an allowed role gets through (no 401/403/404/5xx)."""
    failures = []
    for endpoint in protected_endpoints(app):
        if endpoint.method != "GET":
            continue
        url = endpoint.url(worlds.home_ids["own"])
        for identity in IDENTITIES:
            response = _call(client, endpoint, url, worlds.tokens[identity])
            if not endpoint.allowed(identity):
                ok = response.status_code == 403
            elif "supplier_id" in endpoint.id_params and identity == "other_supplier_admin":
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
            response = _call(client, endpoint, endpoint.url(worlds.home_ids["own"]), worlds.tokens[identity])
            marks = foreign_marks + ([other_supplier] if identity in ("supplier_admin", "supplier_operator") else [])
            leaks += [f"{identity} GET {endpoint.path} shows {mark}" for mark in marks if mark in response.text]
    assert leaks == []
