"""Security headers on every response."""

from __future__ import annotations

import re
from collections.abc import Sequence

from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def content_security_policy(connect_sources: Sequence[str] = ()) -> str:
    """No inline scripts or styles anywhere: htmx is configured through a
    <meta> tag with its indicator styles off, and every script is a file in
    static/. ``connect_sources`` are extra origins scripts may send to: the
    S3 endpoint that direct uploads PUT to."""
    extra = [origin for origin in connect_sources if ORIGIN.match(origin)]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "font-src 'self'",
            " ".join(["connect-src 'self'", *extra]),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "manifest-src 'self'",
            "worker-src 'self'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()

BASE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "geolocation=(), microphone=(), camera=(self)",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def security_headers_hook(*, https: bool, connect_sources: Sequence[str] = ()) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook rather than a middleware: it also covers the
    responses Litestar builds before routing (404, 405). HSTS is sent only
    over HTTPS (directly, or as reported by a trusted proxy with
    PORTAL_HTTPS=true): over plain HTTP it would lock out a local install."""

    base = {**BASE_HEADERS, "content-security-policy": content_security_policy(connect_sources)}

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        # A header the response set itself wins: document downloads send a
        # stricter (sandboxed) policy of their own.
        for name, value in base.items():
            if name not in headers:
                headers[name] = value
        if https or scope.get("scheme") == "https":
            headers["strict-transport-security"] = HSTS

    return add_security_headers
