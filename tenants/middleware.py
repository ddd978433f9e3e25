"""Resolves who is acting, once per request, in the handler's own task.

Set here rather than in a dependency: Litestar resolves dependencies in
separate tasks, so a ContextVar set there may never reach the handler. The
API takes only bearer API tokens and pages only the session cookie holding a
page token, so a cookie can never authorise an API call (which has no CSRF
check) and a token taken from one door does not open the other.
"""

from __future__ import annotations

import json
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from portal.db import NO_TRANSACTION_PREFIXES
from portal.errors import NotAuthenticated
from portal.logs import note_actor
from tenants import context as tenant_context
from tenants import offline
from tenants.services.auth import resolve
from tenants.tokens import TokenKind

SESSION_COOKIE = "portal_session"


def _headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}


def is_api(scope: Scope) -> bool:
    return str(scope["path"]).startswith("/api/")


def kind_of(scope: Scope) -> TokenKind:
    """The one kind of token this request's door accepts."""
    return TokenKind.API if is_api(scope) else TokenKind.PAGE


def token_from(scope: Scope) -> str | None:
    """The bearer header on the API, the session cookie elsewhere."""
    headers = _headers(scope)
    if is_api(scope):
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(NO_TRANSACTION_PREFIXES):
            await self.app(scope, receive, send)
            return
        token = token_from(scope)
        context = None
        settings_written = False
        if token:
            try:
                resolved = await resolve(token, kind=kind_of(scope), address=client_address(scope))
            except NotAuthenticated:
                # A stale cookie is simply no session; guards answer 401.
                resolved = None
            if resolved is not None:
                context, settings_written = resolved.context, resolved.settings_written
        if context is not None:
            note_actor(tenant_id=context.tenant_id, user_id=context.user_id)
        state = scope.setdefault("state", {})
        state["user_locale"] = context.locale if context else None
        if offline.foreign_outbox_item(context, _headers(scope).get(offline.OWNER_HEADER)):
            await _refuse_foreign_outbox_item(send)
            return
        if not is_api(scope):
            send = _telling_session(send, context)
        reset = await tenant_context.enter(context, settings_written=settings_written)
        try:
            await self.app(scope, receive, send)
        finally:
            tenant_context.leave(reset)


def _telling_session(send: Send, context: tenant_context.TenantContext | None) -> Send:
    """Every page response names its session for the service worker
    (tenants.offline): the worker learns a sign-out, a revocation or
    another person signing in from the response itself."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            for name, value in offline.session_headers(context).items():
                headers[name] = value
        await send(message)

    return wrapped


async def _refuse_foreign_outbox_item(send: Send) -> None:
    """Another person's queued item: not sent under this session. The phone
    keeps it for its owner (the 409 and its header say so)."""
    # Nobody reads a message here: the phone shows its own note.
    body = json.dumps({"error": {"code": "outbox_not_yours", "message": "", "fields": {}}}).encode()
    start: Any = {
        "type": "http.response.start",
        "status": 409,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            (offline.OUTBOX_REFUSAL_HEADER.encode(), offline.NOT_YOURS.encode()),
        ],
    }
    end: Any = {"type": "http.response.body", "body": body}
    await send(start)
    await send(end)
