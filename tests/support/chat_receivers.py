"""Local stand-ins for the DingTalk, WeCom and Feishu group robot endpoints,
each checking a message the way its service does and answering in its
service's words: 200 with an error code in the JSON body when it refuses.

- DingTalk: ``access_token`` in the query; with signing on, ``timestamp``
  (ms, within an hour) and ``sign`` = base64(HMAC-SHA256(secret,
  timestamp + "\\n" + secret)), URL-encoded, in the query.
- Feishu: ``timestamp`` (s, within an hour) and ``sign`` =
  base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg="")) in the body.
- WeCom: ``key`` in the query must be the robot's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.ports import free_port

HOUR = 3600


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


@dataclass
class ChatService:
    """``with ChatService("dingtalk", secret="SEC...") as group:``; the robot's
    URL is ``group.url``. ``messages`` holds the texts it took, ``refusals``
    the error answers it gave. With ``busy=N`` the first N posts are
    answered 429 with ``Retry-After: retry_after``, as the services' gateways
    do under a rate limit (counted in ``throttled``)."""

    service: str
    secret: str = ""
    token: str = "robot-token-0001"
    busy: int = 0
    retry_after: str = "60"
    messages: list[str] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    throttled: int = 0

    def __post_init__(self) -> None:
        self.port = free_port()
        group = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if group.throttled < group.busy:
                    group.throttled += 1
                    self.send_response(429)
                    self.send_header("Retry-After", group.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
                answer = group.check(query, body)
                if answer.get("errcode", answer.get("code")) != 0:
                    group.refusals.append(answer)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        base = f"http://127.0.0.1:{self.port}"
        if self.service == "dingtalk":
            return f"{base}/robot/send?access_token={self.token}"
        if self.service == "wecom":
            return f"{base}/cgi-bin/webhook/send?key={self.token}"
        return f"{base}/open-apis/bot/v2/hook/{self.token}"

    def check(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if self.service == "dingtalk":
            return self._dingtalk(query, body)
        if self.service == "wecom":
            return self._wecom(query, body)
        return self._feishu(body)

    def _dingtalk(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if query.get("access_token") != self.token:
            return {"errcode": 300001, "errmsg": "token is not exist"}
        if self.secret:
            stamp = query.get("timestamp", "0")
            # parse_qs has already URL-decoded the sign.
            if abs(time.time() * 1000 - int(stamp)) > HOUR * 1000:
                return {"errcode": 310000, "errmsg": "timestamp is not in the valid range"}
            expected = _b64_hmac(self.secret.encode(), f"{stamp}\n{self.secret}".encode())
            if not hmac.compare_digest(expected, query.get("sign", "")):
                return {"errcode": 310000, "errmsg": "sign not match"}
        if body.get("msgtype") != "text":
            return {"errcode": 40035, "errmsg": "msgtype missing"}
        self.messages.append(body["text"]["content"])
        return {"errcode": 0, "errmsg": "ok"}

    def _wecom(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if query.get("key") != self.token:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        if body.get("msgtype") != "text":
            return {"errcode": 40008, "errmsg": "invalid message type"}
        self.messages.append(body["text"]["content"])
        return {"errcode": 0, "errmsg": "ok"}

    def _feishu(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.secret:
            stamp = str(body.get("timestamp", "0"))
            expected = _b64_hmac(f"{stamp}\n{self.secret}".encode(), b"")
            if abs(time.time() - int(stamp)) > HOUR or not hmac.compare_digest(expected, str(body.get("sign", ""))):
                return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
        if body.get("msg_type") != "text":
            return {"code": 9499, "msg": "Bad Request"}
        self.messages.append(body["content"]["text"])
        return {"code": 0, "msg": "success"}

    def __enter__(self) -> ChatService:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
