"""JSON API: tokens and the current identity."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody

from portal.db import keep_changes_on_error
from portal.lengths import most
from tenants.guards import acting, requires_login
from tenants.middleware import client_address
from tenants.services import auth, members
from tenants.tables import User
from tenants.tokens import TokenKind


class TokenRequest(msgspec.Struct, frozen=True):
    email: Annotated[str, most(User.email)]
    password: str
    tenant: str | None = None


class TokenResponse(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class MembershipOut(msgspec.Struct, frozen=True):
    tenant: str
    tenant_name: str
    role: str


class MeOut(msgspec.Struct, frozen=True):
    user_id: UUID
    name: str
    tenant: str
    tenant_name: str
    role: str
    supplier_id: UUID | None
    memberships: list[MembershipOut]
    # The language the portal writes to this person in (pages, emails,
    # notifications): "zh_CN" or "en"; empty until chosen, then the tenant's.
    locale: str = ""


class LocaleIn(msgspec.Struct, frozen=True):
    locale: Annotated[str, msgspec.Meta(max_length=10)]


class AuthApi(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post("/auth/token", status_code=200)
    async def issue_token(self, data: JSONBody[TokenRequest], request: Request[Any, Any, Any]) -> TokenResponse:
        """Exchange email and password for a bearer token. ``tenant`` (the
        tenant slug) may be left out when the account has one membership."""
        keep_changes_on_error(request.scope)
        result = await auth.authenticate(
            data.email,
            data.password,
            data.tenant,
            address=client_address(request.scope),
            user_agent=request.headers.get("user-agent", ""),
            kind=TokenKind.API,
        )
        if isinstance(result, auth.TenantChoice):
            raise auth.TenantRequired(fields={"tenant": auth.TenantRequired.message})
        return TokenResponse(access_token=result.token, expires_in=result.expires_in)

    @post("/auth/logout", guards=[requires_login], status_code=200)
    async def revoke_token(self) -> dict[str, str]:
        """End the session behind this token at once."""
        context = acting()
        if context.session_id:
            await auth.logout(context.session_id)
        return {"status": "ok"}

    @get("/me", guards=[requires_login])
    async def show_me(self) -> MeOut:
        return await _me()

    @put("/me/locale", guards=[requires_login])
    async def set_my_locale(self, data: JSONBody[LocaleIn]) -> MeOut:
        """The language of this person's pages, emails, push messages and
        notifications (``zh_CN`` or ``en``), in every company they work for."""
        return await _me(await members.set_own_locale(data.locale))


async def _me(locale: str | None = None) -> MeOut:
    context = acting()
    memberships = await auth.memberships_for_switch(context)
    return MeOut(
        user_id=context.user_id,  # type: ignore[arg-type]
        name=context.user_name,
        tenant=context.tenant_slug,
        tenant_name=context.tenant_name,
        role=context.role.value,
        supplier_id=context.supplier_id,
        memberships=[MembershipOut(m.tenant_slug, m.tenant_name, m.role.value) for m in memberships],
        locale=context.locale if locale is None else locale,
    )
