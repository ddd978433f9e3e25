"""Structured logging: an event name plus fields, JSON lines in production."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send


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


# Pages whose path carries an emailed token, which is the credential itself.
_TOKEN_PATH = re.compile(r"^/(invitations|password-reset)/[^/]+")


def loggable_path(path: str) -> str:
    """The path with any secret it carries replaced, so logs hold no tokens."""
    return _TOKEN_PATH.sub(r"/\1/<token>", path)


class RequestLogMiddleware:
    """One log line per request: method, path, status, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("portal.request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            self.log.info(
                "request",
                method=scope.get("method", ""),
                path=loggable_path(scope["path"]),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
