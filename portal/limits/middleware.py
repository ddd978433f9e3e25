"""Answers 429 with ``Retry-After`` to a caller over its rate limit, before
the request's body is read or its transaction opened."""

from __future__ import annotations

import re
from collections.abc import Mapping

from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.limits.rates import Rate
from portal.limits.services import caller_key, hit
from portal.metrics import RATE_LIMITED

# Form posts and API calls that check a password or an emailed token.
SIGN_IN = re.compile(r"^/(login|login/tenant|api/v1/auth/token|password-reset|password-reset/[^/]+|invitations/[^/]+)$")


class TooManyRequests(HTTPException):
    status_code = 429


def limit_for(scope: Scope) -> tuple[str, str] | None:
    """(limit name, caller) this request counts against, if any."""
    from tenants.middleware import client_address, is_api, token_from

    address = client_address(scope)
    if scope.get("method") == "POST" and SIGN_IN.match(scope["path"]):
        return "signin", caller_key(token=None, address=address)
    if is_api(scope):
        return "api", caller_key(token=token_from(scope), address=address)
    return None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: Mapping[str, Rate]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted = limit_for(scope) if scope["type"] == ScopeType.HTTP and self.limits else None
        if counted is not None and counted[0] in self.limits:
            name, caller = counted
            # SQLite: the counters have a database file of their own
            # (portal.limits.services), so a count never waits for the
            # writing requests' transactions.
            retry_after = await hit(name, caller, self.limits[name])
            if retry_after is not None:
                RATE_LIMITED.labels(name).inc()
                raise TooManyRequests(headers={"Retry-After": str(retry_after)})
        await self.app(scope, receive, send)
