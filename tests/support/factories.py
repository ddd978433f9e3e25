"""Test worlds built through the services, the way users build them.

Each world is a fresh tenant with a unique slug, so tests never need to
clean up after each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

PASSWORD = "test-password-123"


@dataclass(frozen=True)
class Account:
    key: str
    email: str
    role: str
    user_id: UUID
    membership_id: UUID
    supplier_id: UUID | None


@dataclass
class World:
    slug: str
    tenant_id: UUID
    supplier_ids: list[UUID]
    accounts: dict[str, Account] = field(default_factory=dict)


async def make_world(label: str = "t") -> World:
    """A tenant with two suppliers and one account per role; supplier roles
    belong to the first supplier, plus ``other_supplier_admin`` of the second."""
    from tenants.context import operator_context, tenant_scope
    from tenants.roles import Role
    from tenants.services.members import add_membership, ensure_user
    from tenants.services.suppliers import SupplierCreate, create_supplier
    from tenants.services.tenants import TenantCreate, create_tenant

    slug = f"{label}-{uuid4().hex[:10]}"
    tenant = await create_tenant(TenantCreate(slug=slug, name=f"Tenant {slug}"))
    world = World(slug=slug, tenant_id=tenant.id, supplier_ids=[])
    async with tenant_scope(operator_context(tenant, "test-factory")):
        for code in ("S1", "S2"):
            world.supplier_ids.append((await create_supplier(SupplierCreate(code=code, name=f"Supplier {code} {slug}"))).id)
        people: list[tuple[str, Role, UUID | None]] = [
            (role.value, role, world.supplier_ids[0] if role.is_supplier else None) for role in Role
        ]
        people.append(("other_supplier_admin", Role.SUPPLIER_ADMIN, world.supplier_ids[1]))
        for key, role, supplier_id in people:
            email = f"{key}.{slug}@test.example"
            user = await ensure_user(email, f"{key} {slug}", PASSWORD)
            membership = await add_membership(user, role, supplier_id)
            world.accounts[key] = Account(key, email, role.value, user.id, membership.id, supplier_id)
    return world


def api_token(client: Any, account: Account, tenant: str) -> str:
    response = client.post("/api/v1/auth/token", json={"email": account.email, "password": PASSWORD, "tenant": tenant})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def page_token(client: Any, account: Account, tenant: str) -> str:
    """A page session (the cookie's token) opened through the sign-in page."""
    csrf = csrf_token(client)
    response = page_post(client, "/login", {"email": account.email, "password": PASSWORD, "tenant": tenant}, csrf=csrf)
    assert response.status_code == 303, response.text
    return str(response.cookies["portal_session"])


async def _page_session_of(user_id: UUID, tenant_id: UUID) -> str:
    from portal.db import get_engine, open_transaction
    from tenants.context import system_scope
    from tenants.services.auth import Authenticated, open_session_for
    from tenants.tables import Tenant
    from tenants.tokens import TokenKind

    async with open_transaction(get_engine(), writes=True):
        async with system_scope("test-factory"):
            slug = await Tenant.select(Tenant.slug).where(Tenant.id == tenant_id).first()
        assert slug is not None
        result = await open_session_for(user_id, slug["slug"], address="testclient", kind=TokenKind.PAGE)
    assert isinstance(result, Authenticated)
    return result.token


def as_page_session(client: Any, token: str) -> str:
    """Page and API tokens are different kinds and each door takes only its
    own (docs/security.md). Tests holding an API token get a page session of
    the same user and tenant, opened by the sign-in service; a page token,
    or anything that is no valid token, is passed on as it is."""
    from tenants.tokens import InvalidToken, TokenKind, decode_token

    try:
        claims = decode_token(token, kind=TokenKind.API)
    except InvalidToken:
        return token
    return client.blocking_portal.call(_page_session_of, UUID(claims["sub"]), UUID(claims["tid"]))  # type: ignore[no-any-return]


def page_headers(client: Any, token: str) -> dict[str, str]:
    """Cookie session plus a matching CSRF pair, without touching the shared
    client's cookie jar (one TestClient serves every role). ``token`` may be
    an API token: see ``as_page_session``."""
    token = as_page_session(client, token)
    client.cookies.clear()
    response = client.get("/login")
    csrf = response.cookies.get("csrftoken")
    client.cookies.clear()
    assert csrf, "the login page sets a CSRF cookie"
    return {"cookie": f"portal_session={token}; csrftoken={csrf}", "x-csrftoken": csrf}


def csrf_token(client: Any) -> str:
    """A CSRF cookie value from the sign-in page; the shared jar is left empty."""
    client.cookies.clear()
    response = client.get("/login")
    client.cookies.clear()
    token = response.cookies.get("csrftoken")
    assert token, "the login page sets a CSRF cookie"
    return str(token)


def page_post(client: Any, path: str, data: dict[str, str], *, csrf: str | None, session: str | None = None) -> Any:
    """A form POST the way a browser sends it: the CSRF cookie and the same
    value as ``_csrf_token`` (both left out when ``csrf`` is None), plus the
    session cookie when given. Redirects are not followed and the shared
    cookie jar is empty before and after."""
    cookies = [f"csrftoken={csrf}"] if csrf else []
    if session:
        cookies.append(f"portal_session={as_page_session(client, session)}")
    form = {**data, "_csrf_token": csrf} if csrf else dict(data)
    headers = {"cookie": "; ".join(cookies)} if cookies else {}
    client.cookies.clear()
    try:
        return client.post(path, data=form, headers=headers, follow_redirects=False)
    finally:
        client.cookies.clear()


def page_get(client: Any, path: str, *, session: str | None = None) -> Any:
    """A page GET with only the given session cookie (an API token is turned
    into a page session, see ``as_page_session``); redirects not followed."""
    headers = {"cookie": f"portal_session={as_page_session(client, session)}"} if session else {}
    client.cookies.clear()
    try:
        return client.get(path, headers=headers, follow_redirects=False)
    finally:
        client.cookies.clear()


def set_cookie_header(response: Any, name: str) -> str | None:
    """The raw Set-Cookie header for ``name``, attributes included."""
    for value in response.headers.get_list("set-cookie"):
        if value.split("=", 1)[0].strip() == name:
            return str(value)
    return None


def outbox_to(var_dir: Any, email: str) -> list[Any]:
    """Messages written to the outbox for ``email``, oldest first."""
    from portal.notifications.mail import read_outbox

    return [message for message in read_outbox(var_dir / "outbox") if message["To"] == email]


def sent_to(client: Any, var_dir: Any, email: str) -> list[Any]:
    """Messages for ``email`` once the queued jobs ran (mail leaves the
    portal only through jobs), oldest first."""
    from portal.jobs.runner import run_due_jobs

    client.blocking_portal.call(run_due_jobs)
    return outbox_to(var_dir, email)


def link_token(message: Any, path_prefix: str) -> str:
    """The token of the first ``<path_prefix><token>`` link in a message's text."""
    import re

    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(re.escape(path_prefix) + r"([A-Za-z0-9_-]+)", text)
    assert match, f"no {path_prefix} link in: {text!r}"
    return match.group(1)


async def add_member(tenant_slug: str, email: str, role: str, supplier_id: UUID | None = None) -> UUID:
    """A membership in ``tenant_slug`` for an existing account, added the way
    an operator of that tenant would; returns the membership id."""
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.roles import Role
    from tenants.services.members import add_membership, ensure_user
    from tenants.services.tenants import tenant_by_slug

    async with system_scope("test-factory"):
        tenant = await tenant_by_slug(tenant_slug)
    async with tenant_scope(operator_context(tenant, "test")):
        user = await ensure_user(email, email)
        membership = await add_membership(user, Role(role), supplier_id)
    return membership.id
