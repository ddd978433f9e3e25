"""Domain errors and the one place that turns any error into a response:
JSON ``{"error": {...}}`` under ``/api/``, a readable page elsewhere, never a
stack trace."""

from __future__ import annotations

import re
import sqlite3
from typing import Any
from urllib.parse import urlencode, urlsplit

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from portal.i18n import DEFAULT_LOCALE, N_, current_locale, gettext, locale_for
from portal.outage import OUTAGE, RETRY_AFTER_SECONDS, database_unavailable, storage_unavailable

log = structlog.get_logger(__name__)


class DomainError(Exception):
    """A broken business rule. ``message`` is a catalog id with %(name)s
    placeholders; it is translated when the response is built, in the
    language of whoever receives it."""

    status_code = 400
    code = "bad_request"
    message = N_("The request could not be processed.")

    def __init__(self, message: str | None = None, *, fields: dict[str, str] | None = None, **params: Any) -> None:
        self.message = message or self.message
        self.fields = fields or {}
        self.params = params
        super().__init__(self.message % params if params else self.message)

    def translated(self) -> tuple[str, dict[str, str]]:
        fields = {name: gettext(text, **self.params) for name, text in self.fields.items()}
        return gettext(self.message, **self.params), fields


class NotFound(DomainError):
    """Missing, or belonging to another tenant or supplier: the same answer for both."""

    status_code = 404
    code = "not_found"
    message = N_("Not found.")


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"
    message = N_("You do not have permission to do this.")


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"
    message = N_("Please sign in.")


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    message = N_("Someone else changed this in the meantime. Reload and try again.")


MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
# msgspec's words for a text beyond its field's Meta(max_length) (portal/lengths.py).
TOO_LONG_TEXT = re.compile(r"Expected `str` of length <= (\d+)")
# Where in the body msgspec found the problem; Litestar keeps it for a body
# that is an object ("lines[0].lot") but reports a list body as "data".
BODY_PATH = re.compile(r"at `\$\.?(.+)`$")

_HTTP_MESSAGES = {
    400: ("bad_request", N_("The request could not be processed.")),
    401: ("not_authenticated", N_("Please sign in.")),
    403: ("forbidden", N_("You do not have permission to do this.")),
    404: ("not_found", N_("Not found.")),
    405: ("method_not_allowed", N_("This action is not available here.")),
    413: ("too_large", N_("The upload is too large.")),
    429: ("too_many_requests", N_("Too many attempts. Please wait a moment and try again.")),
}
_UNAVAILABLE = ("database_unavailable", N_("The service is briefly unavailable. Your saved work is safe; please try again in a moment."))
_STORAGE_UNAVAILABLE = (
    "storage_unavailable",
    N_("The document storage cannot be reached right now. Nothing was saved; please try again in a moment."),
)
# PostgreSQL's SQLSTATEs for a text longer than its varchar column (22001)
# and a number beyond its numeric column's precision (22003).
_DOES_NOT_FIT = {"22001", "22003"}
# A unique index refused a second copy of a row (23505): most often the same
# write sent twice at once (a double tap, a retried POST, two tabs), both
# having checked "not there yet" before either saved. SQLite's extended
# codes for the same: SQLITE_CONSTRAINT_UNIQUE and _PRIMARYKEY.
_UNIQUE_VIOLATION = "23505"
_SQLITE_UNIQUE = frozenset({2067, 1555})
# Two transactions that could not both go on: a serialization failure
# (40001) or a deadlock (40P01), the database having rolled one back.
_COLLIDED = {"40001", "40P01"}
_ALREADY_SAVED = ("conflict", N_("This was just saved by another request. Reload to see it."))
_COLLISION = ("conflict", N_("Another request changed this at the same moment. Reload and try again."))
_TOO_LONG = ("too_long", N_("A value is too long or too large to be stored. Shorten it and try again; nothing was saved."))
_OUT_OF_RANGE = (
    "out_of_range",
    N_("A number or date is outside what can be used. Check what you entered and try again; nothing was saved."),
)
# A GET that fails on a number or date is a stored value the code does not
# expect (a bug, answered 500); a write that does most likely carried it.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SERVER_ERROR = ("server_error", N_("Something went wrong on our side. Your saved work is safe; please try again."))


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def speak_the_requests_language(request: Request[Any, Any, Any]) -> None:
    """Choose the error's language the way the locale middleware does. Errors
    raised before routing (unknown URL, wrong method) never pass that
    middleware, and errors raised in a middleware inside it (the CSRF check)
    reach this handler after it has put the previous language back: an
    expired form answered in another language than the page's."""
    settings = request.app.state.get("settings")
    current_locale.set(locale_for(request.scope, settings.default_locale if settings else DEFAULT_LOCALE))


def error_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    keep_input: bool = False,
) -> Response[Any]:
    """``keep_input``: the page form was refused for a reason other than a
    bad field (a conflict, an expired CSRF token): the page shows what was
    typed, to copy, and a link back to the form's page."""
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if is_api(request):
        return Response({"error": body}, status_code=status, media_type=MediaType.JSON, headers=headers)
    retry = _same_page(request) if status == 503 and request.method == "GET" else None
    kept = _posted_input(request, vouched=status != 403) if keep_input else []
    back = _referring_page(request) if kept else None
    return Template(
        template_name="errors/error.html",
        context={"error": body, "status": status, "retry": retry, "kept": kept, "back": back},
        status_code=status,
        headers=headers,
    )


def _posted_input(request: Request[Any, Any, Any], *, vouched: bool) -> list[tuple[str, str]]:
    """What was typed into the refused page form: the form as the request
    (or the CSRF check before it) read it; nothing when the body was never
    read as a form (a spooled upload). ``vouched``: the CSRF check passed,
    so this site's page sent it; otherwise the browser must say so."""
    from portal.forms import kept_input  # portal.forms builds on this module's errors

    if request.method != "POST" or not _same_site(request, vouched=vouched):
        return []
    form = ScopeState.from_scope(request.scope).form
    if form is Empty or not isinstance(form, dict):
        return []
    return kept_input({name: value for name, value in form.items() if isinstance(value, str)})


def _same_site(request: Request[Any, Any, Any], *, vouched: bool) -> bool:
    """A post another site's page made (a forged form) never gets its text
    shown back on this site's page. Browsers name a post's ``Origin``; where
    one sends none, its ``Sec-Fetch-Site``, or else its ``Referer``, must
    name this site before a post the CSRF check refused shows anything."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is not None:
        return urlsplit(origin).netloc == host
    if vouched:
        return True
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    return urlsplit(request.headers.get("referer", "")).netloc == host


def _referring_page(request: Request[Any, Any, Any]) -> str | None:
    """The page the form was on, when it is a page of this site: to open it
    again (a fresh CSRF token, the record as it is now)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if not referer.path.startswith("/") or referer.netloc not in ("", request.headers.get("host", "")):
        return None
    return "/" + referer.path.lstrip("/") + (f"?{referer.query}" if referer.query else "")


def _same_page(request: Request[Any, Any, Any]) -> str:
    """A page the outage refused, to ask for again: always a path on this
    site (a request for ``//host/x`` must not become a link elsewhere)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return "/" + request.url.path.lstrip("/") + query


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, NotAuthenticated) and not is_api(request):
        return login_redirect(request)
    message, fields = exc.translated()
    return error_response(request, exc.status_code, exc.code, message, fields, keep_input=exc.status_code == Conflict.status_code)


def login_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    """A page that needs a session sends the browser to sign in and back."""
    target = "/login?" + urlencode({"next": request.url.path})
    if request.headers.get("hx-request"):
        return Response(content=None, status_code=200, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def handle_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    fields: dict[str, str] = {}
    for problem in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(problem, dict) or not problem.get("key"):
            continue
        key = str(problem["key"])
        # A missing body field is reported against the whole body ("data").
        missing = MISSING_FIELD.search(str(problem.get("message", "")))
        if key == "data" and missing:
            key = missing.group(1)
        elif key == "data" and (path := BODY_PATH.search(str(exc.__cause__ or ""))):
            key = path.group(1)
        longest = TOO_LONG_TEXT.search(str(problem.get("message", "")))
        if longest:
            fields[_wire_name(request, key)] = gettext(N_("At most %(max)s characters."), max=int(longest.group(1)))
        else:
            fields[_wire_name(request, key)] = gettext(N_("This value is missing or not valid."))
    return error_response(request, 400, "invalid", gettext(N_("Some fields are missing or not valid.")), fields)


def _wire_name(request: Request[Any, Any, Any], key: str) -> str:
    """A parameter as the client wrote it: ``format``, not the handler's
    ``fmt`` (Litestar names a refused parameter by its Python name)."""
    parameter = request.route_handler.parsed_fn_signature.parameters.get(key)
    definition = getattr(parameter, "kwarg_definition", None)
    names = (getattr(definition, attribute, None) for attribute in ("name", "query", "header", "cookie"))
    alias = next((name for name in names if name), None)
    return str(alias) if alias else key


def handle_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    speak_the_requests_language(request)
    code, message = _HTTP_MESSAGES.get(exc.status_code, _SERVER_ERROR)
    expired = exc.status_code == 403 and "csrf" in str(exc.detail).lower()
    if expired:
        code, message = "csrf_failed", N_("This form has expired. Reload the page and try again.")
    return error_response(request, exc.status_code, code, gettext(message), headers=exc.headers, keep_input=expired)


def handle_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    speak_the_requests_language(request)
    if database_unavailable(exc):
        OUTAGE.failed(exc)
        code, message = _UNAVAILABLE
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return error_response(request, HTTP_503_SERVICE_UNAVAILABLE, code, gettext(message), headers=headers)
    if storage_unavailable(exc):
        log.warning("storage_unavailable", path=request.url.path, error=f"{type(exc).__name__}: {exc}".strip())
        code, message = _STORAGE_UNAVAILABLE
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return error_response(request, HTTP_503_SERVICE_UNAVAILABLE, code, gettext(message), headers=headers)
    state = _sqlstate(exc)
    if state == _UNIQUE_VIOLATION or state in _COLLIDED:
        # Services answer the races they know with a domain answer; this is
        # the net for the ones they do not. A clear 409 (the request's
        # transaction is rolled back whole: any error status rolls it back),
        # a page form keeps what was typed, and a warning names the route.
        route = request.scope.get("path_template") or request.url.path
        log.warning("concurrent_write", route=route, method=request.method, sqlstate=state, error=f"{type(exc).__name__}: {exc}".strip())
        code, message = _ALREADY_SAVED if state == _UNIQUE_VIOLATION else _COLLISION
        return error_response(request, Conflict.status_code, code, gettext(message), keep_input=True)
    if state in _DOES_NOT_FIT:
        # portal/lengths.py refuses such values before any query, naming the
        # field; reaching here means a write it does not see. Still a clear
        # refusal (the request's transaction is rolled back whole), and a
        # warning naming the route, to fix.
        route = request.scope.get("path_template") or request.url.path
        log.warning("value_does_not_fit_column", route=route, method=request.method, error=f"{type(exc).__name__}: {exc}".strip())
        code, message = _TOO_LONG
        return error_response(request, 400, code, gettext(message))
    if isinstance(exc, ArithmeticError) and request.method not in SAFE_METHODS:
        # Each service refuses the numbers and dates it knows to be out of
        # range (NaN, 1e999, 9999-12-31), naming the field; reaching here is
        # one that slipped past, in a write, so most likely from what was
        # sent. A clear refusal keeping what was typed, the request's
        # transaction rolled back, and a warning naming the route, to fix.
        route = request.scope.get("path_template") or request.url.path
        log.warning("value_out_of_range", route=route, method=request.method, error=f"{type(exc).__name__}: {exc}".strip())
        code, message = _OUT_OF_RANGE
        return error_response(request, 400, code, gettext(message), keep_input=True)
    log.exception("unhandled_error", path=request.url.path, method=request.method)
    code, message = _SERVER_ERROR
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR, code, gettext(message))


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of the database error ``exc`` is (or was caused by), as
    PostgreSQL names it; SQLite's unique violation is given 23505 too.
    None for anything else."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str):
            return state
        if isinstance(current, sqlite3.IntegrityError) and getattr(current, "sqlite_errorcode", None) in _SQLITE_UNIQUE:
            return _UNIQUE_VIOLATION
        current = current.__cause__ or current.__context__
    return None


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}
