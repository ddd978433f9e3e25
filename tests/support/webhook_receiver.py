"""A local HTTP endpoint that receives the portal's webhooks and checks
each signature the way docs/webhooks.md tells integrators to: HMAC-SHA256
with the endpoint's secret over ``"<timestamp>.<raw body>"``, compared in
constant time, the timestamp within five minutes."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.support.ports import free_port

TOLERANCE_SECONDS = 300


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]
    valid: bool


@dataclass
class WebhookReceiver:
    """``with WebhookReceiver(fail_first=2) as hook:`` answers 500 to the
    first ``fail_first`` requests (``fail_first=-1``: always), then 204."""

    fail_first: int = 0
    secret: str = ""
    # How a failing request is answered, and its Retry-After when set.
    status: int = 500
    retry_after: str | None = None
    received: list[Received] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self) -> None:
        receiver = self
        self.port = free_port()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                headers = {key.lower(): value for key, value in self.headers.items()}
                valid = verify(receiver.secret, headers.get("x-portal-timestamp", "0"), body, headers.get("x-portal-signature", ""))
                receiver.received.append(Received(headers, json.loads(body), valid))
                failing = receiver.fail_first < 0 or receiver.attempts <= receiver.fail_first
                self.send_response(receiver.status if failing or not valid else 204)
                if failing and receiver.retry_after:
                    self.send_header("Retry-After", receiver.retry_after)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/portal"

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
