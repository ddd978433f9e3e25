"""Guards for controllers: signed in, and allowed by the permission policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from portal.errors import NotAuthenticated, PermissionDenied
from tenants.context import TenantContext, peek

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]

# Guards are coroutines although they never wait: Litestar runs a plain
# function guard in a worker thread, a thread hop on every request.


async def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not isinstance(peek(), TenantContext):
        raise NotAuthenticated()


def requires(action: str) -> Guard:
    """Signed in and allowed to do ``action`` by tenants.roles.POLICY."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        context = peek()
        if not isinstance(context, TenantContext):
            raise NotAuthenticated()
        if not context.can(action):
            raise PermissionDenied()

    guard.__name__ = f"requires_{action.replace('.', '_')}"
    # The isolation test matrix reads this to know who may call each route.
    guard.action = action  # type: ignore[attr-defined]
    return guard


def acting() -> TenantContext:
    """The signed-in context inside a guarded handler."""
    context = peek()
    if not isinstance(context, TenantContext):
        raise NotAuthenticated()
    return context
