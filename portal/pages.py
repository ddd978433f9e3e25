"""Pages that belong to no single domain: home and the language switch."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import NotFound
from portal.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES, normalize_locale

ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@get("/", name="home", include_in_schema=False)
async def show_home(request: Request[Any, Any, Any]) -> Template:
    return Template(template_name="home/index.html", context={"active_nav": "home"})


@get("/locale/{code:str}", name="switch_locale", include_in_schema=False)
async def switch_locale(code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:
    locale = normalize_locale(code)
    if locale not in SUPPORTED_LOCALES:
        raise NotFound()
    cookie = Cookie(key=LOCALE_COOKIE, value=locale, max_age=ONE_YEAR, httponly=True, samesite="lax")
    return Redirect(path=safe_next(next), cookies=[cookie], status_code=303)
