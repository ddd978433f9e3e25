"""Structured logging: an event name plus fields, JSON lines in production."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from typing import Any

import structlog
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from portal.metrics import UNMATCHED, observe_request


def configure_logging(*, json: bool, level: int = logging.INFO) -> None:
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("asyncpg.pool").addFilter(_quiet_pool_retries)


def _quiet_pool_retries(record: logging.LogRecord) -> bool:
    """While PostgreSQL is down, asyncpg's pool retries its minimum size in
    the background and logs a traceback on every attempt; the outage is
    logged once by ``portal.outage`` instead."""
    return not record.getMessage().startswith("Failed to restore the pool connection floor")


# Pages whose path carries an emailed token, which is the credential itself.
_TOKEN_PATH = re.compile(r"^/(invitations|password-reset)/[^/]+")


def loggable_path(path: str) -> str:
    """The path with any secret it carries replaced, so logs hold no tokens."""
    return _TOKEN_PATH.sub(r"/\1/<token>", path)


# A caller's own request id is kept when it looks like one (a proxy's or a
# client's correlation id), so one id follows the request through every log.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_actor: ContextVar[dict[str, str] | None] = ContextVar("request_actor", default=None)


def note_actor(*, tenant_id: Any, user_id: Any) -> None:
    """Who is acting in this request, for its log line (ids only, never
    names, emails or tokens). Called once authentication resolved them."""
    actor = _actor.get()
    if actor is not None:
        actor["tenant"] = str(tenant_id) if tenant_id else ""
        actor["user"] = str(user_id) if user_id else ""


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.match(candidate):
                return candidate
    # 32 random hex digits, as uuid4().hex printed, without building a UUID.
    return os.urandom(16).hex()


class RequestLogMiddleware:
    """One log line per request: request id, method, path and route
    template, the status the client got, tenant and user ids, duration; and
    the same figures into the Prometheus metrics. The request id is bound
    to every other log line of the request (slow queries, errors) and
    answered in ``X-Request-ID``.

    It must wrap the whole application (``log_requests``), not sit among the
    route middleware: Litestar answers unknown paths before any route
    middleware runs, and an exception raised inside the route middleware
    (a 413 from the upload spool, a 503 when the database is down) becomes
    a response only in the exception handler around everything. A logger
    inside that handler would see the exception, not the answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("portal.request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        actor: dict[str, str] = {"tenant": "", "user": ""}
        actor_token = _actor.set(actor)
        # Stays 500 only when no answer started at all: the server then
        # answers 500 itself.
        status = 500
        logged = False

        def write() -> None:
            nonlocal logged
            logged = True
            seconds = time.perf_counter() - started
            method = scope.get("method", "")
            route = scope.get("path_template") or UNMATCHED
            observe_request(method, route, status, seconds)
            self.log.info(
                "request",
                request_id=request_id,
                method=method,
                path=loggable_path(scope["path"]),
                route=route,
                status=status,
                ms=round(seconds * 1000, 1),
                tenant=actor["tenant"],
                user=actor["user"],
            )

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)
            # Written when the last byte is out, before any background task
            # of the response runs: the time is what the client waited.
            if message["type"] == "http.response.body" and not message.get("more_body", False) and not logged:
                write()

        try:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                await self.app(scope, receive, watch)
        finally:
            if not logged:
                write()
            _actor.reset(actor_token)


def log_requests(app: Litestar) -> Litestar:
    """Put the request log around everything the app answers, error
    handlers included (Litestar keeps its outermost handler in
    ``asgi_handler``, which ``__call__`` invokes with the hooked send)."""
    app.asgi_handler = RequestLogMiddleware(app.asgi_handler)
    return app
