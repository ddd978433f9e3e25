"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 and a free port,
recording every message it accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.ports import free_port


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    # The login the client authenticated with, or None when it did not.
    login: str | None
    # The client's address and port: one per connection it opened.
    peer: Any = None


@dataclass
class RecordingHandler:
    received: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.received.append(ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), message, login, session.peer))
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class PasswordAuthenticator:
    username: str
    password: str

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        valid = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.username.encode()
            and auth_data.password == self.password.encode()
        )
        if not valid:
            # handled=False: aiosmtpd then answers 535 itself instead of leaving the client waiting.
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data.login)


class RecordingSmtpServer:
    """``with RecordingSmtpServer() as server:`` then send to ``server.url``
    and read ``server.received``. With credentials the server requires AUTH
    (over plain text: these tests have no certificate, so tests using it
    filter aiosmtpd's warning about that)."""

    def __init__(self, credentials: tuple[str, str] | None = None, port: int | None = None) -> None:
        self.handler = RecordingHandler()
        self.port = port or free_port()
        auth: dict[str, Any] = {}
        if credentials is not None:
            auth = {"authenticator": PasswordAuthenticator(*credentials), "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **auth)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    def __enter__(self) -> RecordingSmtpServer:
        self.controller.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        self.controller.stop()
