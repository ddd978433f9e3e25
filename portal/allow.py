"""The ``Allow`` header of ``OPTIONS`` answers lists every method of the path.

Litestar 2 builds a path's automatic OPTIONS handler when the first handler
of that path is registered, and it keeps listing only the methods known
then (litestar-org/litestar#4169, fixed in 3): ``OPTIONS /api/v1/orders``
said ``OPTIONS, POST`` without ``GET``. This hook sets the header from the
finished route table instead.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import BeforeMessageSendHookHandler, Message, Scope


def allow_header_hook() -> BeforeMessageSendHookHandler:
    methods: dict[str, str] = {}

    def methods_of(app: Any) -> dict[str, str]:
        if not methods:
            for route in app.routes:
                if isinstance(route, HTTPRoute):
                    methods[route.path_format] = ", ".join(sorted(route.methods))
        return methods

    async def set_allow(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        headers = MutableScopeHeaders.from_message(message)
        template = scope.get("path_template")
        if "allow" in headers and template:
            allow = methods_of(scope["app"]).get(template)
            if allow:
                headers["allow"] = allow

    return set_allow
