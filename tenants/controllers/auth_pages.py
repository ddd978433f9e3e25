"""Sign-in, tenant choice, account, invitations and password reset pages."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.db import keep_changes_on_error
from portal.errors import DomainError
from portal.forms import form_page, form_values
from portal.i18n import LOCALE_COOKIE, asked_locale
from portal.lengths import TOO_LONG, TooLong, length_of
from portal.pages import ONE_YEAR, safe_next
from portal.settings import get_settings
from tenants.guards import acting, requires_login
from tenants.middleware import SESSION_COOKIE, client_address
from tenants.services import auth, invitations, members, password_reset
from tenants.tables import User


def session_cookie(result: auth.Authenticated) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=result.token,
        max_age=result.expires_in,
        httponly=True,
        secure=get_settings().https,
        samesite="lax",
        path="/",
    )


def clear_session_cookie() -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", max_age=0, httponly=True, secure=get_settings().https, samesite="lax", path="/")


def signed_in(result: auth.Authenticated | auth.TenantChoice, next_path: str) -> Redirect | Template:
    if isinstance(result, auth.TenantChoice):
        return Template(
            template_name="auth/choose_tenant.html",
            context={"choice": result, "next": next_path, "active_nav": "account"},
        )
    return Redirect(path=safe_next(next_path), cookies=[session_cookie(result)], status_code=303)


def _agent(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("user-agent", "")


class AuthPages(Controller):
    include_in_schema = False

    @get("/login", name="login")
    async def show_login(self, next: FromQuery[str | None] = None) -> Template:
        return form_page("auth/login.html", values={"next": safe_next(next)}, active_nav="account")

    @post("/login")
    async def login(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        keep_changes_on_error(request.scope)
        try:
            result = await auth.authenticate(
                values.get("email", ""),
                values.get("password", ""),
                values.get("tenant") or None,
                address=client_address(request.scope),
                user_agent=_agent(request),
            )
        except DomainError as exc:
            values.pop("password", None)
            return form_page("auth/login.html", values=values, error=exc, active_nav="account")
        return signed_in(result, values.get("next", "/"))

    @post("/login/tenant")
    async def choose_tenant(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        user_id = await auth.redeem_choice_token(values.get("choice_token", ""))
        result = await auth.open_session_for(
            user_id, values.get("tenant") or None, address=client_address(request.scope), user_agent=_agent(request)
        )
        return signed_in(result, values.get("next", "/"))

    @post("/logout", guards=[requires_login])
    async def logout(self) -> Redirect:
        context = acting()
        if context.session_id:
            await auth.logout(context.session_id)
        return Redirect(path="/login", cookies=[clear_session_cookie()], status_code=303)

    @get("/account", guards=[requires_login], name="account")
    async def show_account(self, saved: FromQuery[bool] = False) -> Template:
        return await self._account(saved=saved)

    async def _account(self, *, saved: bool = False, error: DomainError | None = None) -> Template:
        context = acting()
        memberships = await auth.memberships_for_switch(context)
        return form_page(
            "auth/account.html",
            error=error,
            saved=saved,
            account=context,
            memberships=memberships,
            saved_locale=context.locale or "",
            active_nav="account",
        )

    @post("/account/switch", guards=[requires_login])
    async def switch_tenant(self, request: Request[Any, Any, Any]) -> Redirect:
        values = await form_values(request)
        result = await auth.switch_tenant(
            acting(), values.get("tenant", ""), address=client_address(request.scope), user_agent=_agent(request)
        )
        return Redirect(path="/", cookies=[session_cookie(result)], status_code=303)

    @post("/account/language", guards=[requires_login])
    async def save_language(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            locale = await members.set_own_locale(values.get("locale", ""))
        except DomainError as exc:
            return await self._account(error=exc)
        # The cookie follows, or it would keep this browser in the old language.
        cookie = Cookie(key=LOCALE_COOKIE, value=locale, max_age=ONE_YEAR, httponly=True, samesite="lax")
        return Redirect(path="/account?saved=1", cookies=[cookie], status_code=303)

    @get("/invitations/{token:str}")
    async def show_invitation(self, token: FromPath[str]) -> Template:
        row, tenant, has_account = await invitations.open_invitation(token)
        return form_page(
            "auth/invitation.html",
            values={"name": row.name},
            invitation=row,
            tenant=tenant,
            has_account=has_account,
            token=token,
            active_nav="account",
        )

    @post("/invitations/{token:str}")
    async def accept_invitation(self, token: FromPath[str], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        row, tenant, has_account = await invitations.open_invitation(token)
        try:
            user_id = await invitations.accept_invitation(
                token,
                invitations.InvitationAccept(password=values.get("password", ""), name=values.get("name", "")),
                address=client_address(request.scope),
                locale=asked_locale(request.scope),
            )
        except DomainError as exc:
            if isinstance(exc, invitations.WrongPasswordForExistingAccount):
                # Nothing else was written before the password check: keep
                # only the throttle's count of this failure.
                keep_changes_on_error(request.scope)
            values.pop("password", None)
            return form_page(
                "auth/invitation.html",
                values=values,
                error=exc,
                invitation=row,
                tenant=tenant,
                has_account=has_account,
                token=token,
                active_nav="account",
            )
        result = await auth.open_session_for(user_id, tenant.slug, address=client_address(request.scope), user_agent=_agent(request))
        return signed_in(result, "/")

    @get("/password-reset", name="password_reset")
    async def show_reset_request(self) -> Template:
        return form_page("auth/reset_request.html", active_nav="account")

    @post("/password-reset")
    async def request_reset(self, request: Request[Any, Any, Any]) -> Template:
        values = await form_values(request)
        email = values.get("email", "")
        if len(email) > length_of(User.email):
            # No account has such an address: saying so tells nobody anything.
            return form_page(
                "auth/reset_request.html", values=values, error=TooLong({"email": (TOO_LONG, length_of(User.email))}), active_nav="account"
            )
        try:
            await password_reset.request_reset(email)
        except DomainError as exc:
            return form_page("auth/reset_request.html", values=values, error=exc, active_nav="account")
        return form_page("auth/reset_request.html", sent=True, active_nav="account")

    @get("/password-reset/{token:str}")
    async def show_reset_form(self, token: FromPath[str]) -> Template:
        await password_reset.check_reset_token(token)
        return form_page("auth/reset_form.html", token=token, active_nav="account")

    @post("/password-reset/{token:str}")
    async def complete_reset(self, token: FromPath[str], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await password_reset.complete_reset(token, values.get("password", ""))
        except DomainError as exc:
            return form_page("auth/reset_form.html", error=exc, token=token, active_nav="account")
        return Redirect(path="/login?reset=1", status_code=303)
