"""A local push service and the browser behind it: it holds a subscription's
private key and auth secret as a browser does, and for each message checks
the VAPID token the way a push service must (RFC 8292: ES256 signature by
the key in ``k``, audience its own origin, expiry within a day, a mailto:
or https: subject) and decrypts the body (RFC 8291, aes128gcm) with the
subscription's private key."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.ports import free_port


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Pushed:
    headers: dict[str, str]
    vapid_key: str
    claims: dict[str, Any]
    message: dict[str, Any]


@dataclass
class PushService:
    """``with PushService() as service:`` accepts (201) each message whose
    token and encryption check out, and answers 400 otherwise; with
    ``status=410`` it answers 410 Gone to everything, as for a subscription
    the browser dropped; with ``busy=n`` the first n messages get 429 Too
    Many Requests with ``Retry-After: retry_after``."""

    status: int = 201
    # The first ``busy`` messages are answered 429 with this Retry-After.
    busy: int = 0
    retry_after: str = "120"
    received: list[Pushed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.port = free_port()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if service.busy > 0:
                    service.busy -= 1
                    service.problems.append("answered 429")
                    self.send_response(429)
                    self.send_header("Retry-After", service.retry_after)
                    self.end_headers()
                    return
                if service.status != 201:
                    service.problems.append(f"answered {service.status}")
                    self.send_response(service.status)
                    self.end_headers()
                    return
                try:
                    service.received.append(service.check(dict(self.headers.items()), body))
                    self.send_response(201)
                except Exception as exc:  # any failure is the test's finding
                    service.problems.append(f"{type(exc).__name__}: {exc}")
                    self.send_response(400)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def subscription(self, name: str = "device") -> dict[str, Any]:
        """What the browser's ``PushSubscription.toJSON()`` would give."""
        point = self.private_key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.origin}/push/{name}", "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def check(self, headers: dict[str, str], body: bytes) -> Pushed:
        headers = {key.lower(): value for key, value in headers.items()}
        scheme, _, params = headers["authorization"].partition(" ")
        assert scheme == "vapid", scheme
        parts = dict(part.split("=", 1) for part in params.split(","))
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        claims = jwt.decode(parts["t"], key=key, algorithms=["ES256"], audience=self.origin, options={"require": ["exp", "aud", "sub"]})
        assert claims["exp"] <= time.time() + 24 * 3600, "a VAPID token may live a day at most"
        assert claims["sub"].startswith(("mailto:", "https://")), claims["sub"]
        assert headers["content-encoding"] == "aes128gcm"
        assert int(headers["ttl"]) >= 0
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")
        return Pushed(headers, parts["k"], claims, json.loads(plain))

    def __enter__(self) -> PushService:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
