"""Security headers on every response."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

# No inline scripts or styles anywhere: htmx is configured through a <meta>
# tag with its indicator styles off, and every script is a file in static/.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "manifest-src 'self'",
        "worker-src 'self'",
    ]
)

BASE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "geolocation=(), microphone=(), camera=(self)",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def security_headers_hook(*, https: bool) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook rather than a middleware: it also covers the
    responses Litestar builds before routing (404, 405). HSTS is sent only
    over HTTPS (directly, or as reported by a trusted proxy with
    PORTAL_HTTPS=true): over plain HTTP it would lock out a local install."""

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in BASE_HEADERS.items():
            if name not in headers:
                headers[name] = value
        if https or scope.get("scheme") == "https":
            headers["strict-transport-security"] = HSTS

    return add_security_headers
