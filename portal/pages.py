"""Pages that belong to no single domain: home and the language switch."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import NotFound
from portal.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES, normalize_locale
from portal.orders.pages import DUE_SOON_DAYS, inbox_context
from portal.progress.services import lines_due
from portal.reconciliation.services import todo as statements_todo
from tenants.context import TenantContext, peek

ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@get("/", name="home", include_in_schema=False)
async def show_home(request: Request[Any, Any, Any]) -> Template:
    """A supplier's home is what needs them now (the phone's start page);
    everyone else gets the overview."""
    context = peek()
    if isinstance(context, TenantContext) and context.is_supplier:
        return Template(
            template_name="orders/inbox.html",
            context={**await inbox_context(), "lines_due": await lines_due(DUE_SOON_DAYS), "active_nav": "home"},
        )
    home: dict[str, Any] = {"active_nav": "home"}
    if isinstance(context, TenantContext) and context.can("statements.manage"):
        home["statements"] = await statements_todo()
    return Template(template_name="home/index.html", context=home)


@get("/locale/{code:str}", name="switch_locale", include_in_schema=False)
async def switch_locale(code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:
    locale = normalize_locale(code)
    if locale not in SUPPORTED_LOCALES:
        raise NotFound()
    cookie = Cookie(key=LOCALE_COOKIE, value=locale, max_age=ONE_YEAR, httponly=True, samesite="lax")
    return Redirect(path=safe_next(next), cookies=[cookie], status_code=303)
