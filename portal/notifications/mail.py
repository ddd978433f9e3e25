"""Outgoing email: through an SMTP server when ``PORTAL_SMTP_URL`` is set,
otherwise into ``var/outbox/`` as .eml files, so the embedded default needs no
mail server and a developer can read exactly what would have been sent.

smtplib and file writes block, so both run in a worker thread, never on the
event loop. Connections to the SMTP server are kept open between mails and
reused (``_Connections``): a connection, TLS handshake and EHLO/AUTH per
mail cost more than the mail itself."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import secrets
import smtplib
import ssl
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import anyio.to_thread
import structlog

from portal.settings import ConfigError, Settings, get_settings

log = structlog.get_logger(__name__)

SMTP_TIMEOUT_SECONDS = 10
# Idle connections kept per server; more mails at once open more, and what
# exceeds this is closed when they finish.
IDLE_CONNECTIONS = 4
# Servers may drop an idle client after 5 minutes (RFC 5321 4.5.3.2.7);
# many do after less. One idle longer is closed, not tried.
IDLE_SECONDS = 60.0
# Some servers limit the messages of one session: a fresh one now and then.
MAILS_PER_CONNECTION = 100
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
# 7-bit clean bodies (base64 for Chinese): they pass relays that lack 8BITMIME,
# and the text reads back exactly as written, whatever line ends the wire used.
MESSAGE_POLICY = policy.default.clone(cte_type="7bit")


class MailDeliveryFailed(Exception):
    """The message reached neither the SMTP server nor the outbox. The message
    names where it was going and why, never a password."""


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to deliver, parsed from ``PORTAL_SMTP_URL``."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None = None
    # repr=False: a logged or printed SmtpServer must not leak the password.
    password: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Accept ``smtp[s]://[user:password@]host[:port][?starttls=true]``;
        credentials may be percent-encoded. STARTTLS with smtps:// is refused
        as contradictory rather than silently ignored."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ConfigError("PORTAL_SMTP_URL", "must look like smtp://host:port or smtps://host:port")
        if not parts.hostname:
            raise ConfigError("PORTAL_SMTP_URL", "names no host: smtp://host:port")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ConfigError("PORTAL_SMTP_URL", "the port must be a number") from None
        starttls = parse_qs(parts.query).get("starttls", ["false"])[-1].lower() in ("1", "true", "yes")
        if starttls and parts.scheme == "smtps":
            raise ConfigError("PORTAL_SMTP_URL", "starttls=true goes with smtp://; smtps:// is already TLS from the first byte")
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=parts.scheme == "smtps",
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )


async def queue_email(email: Email) -> None:
    """Send ``email`` from a job, after the caller's transaction commits: a
    slow or unreachable SMTP server never holds up a page, and a failed
    delivery is retried (then parked for an admin) instead of lost. The
    Message-ID is fixed now, so a delivery repeated after a crash carries
    the same one and a receiving server can drop the duplicate."""
    from portal.jobs import enqueue
    from tenants.context import TenantContext, peek

    settings = get_settings()
    message_id = make_msgid(domain=parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost")
    # Whose mail it is, so that the tenant's admins see it if it fails.
    context = peek()
    tenant = context.tenant_id if isinstance(context, TenantContext) else None
    await enqueue("mail.send", {**asdict(email), "message_id": message_id}, tenant=tenant)


async def deliver_job(payload: dict[str, Any]) -> None:
    """The ``mail.send`` job."""
    message_id = payload.pop("message_id", None)
    await send_email(Email(**payload), message_id=message_id)


async def send_email(email: Email, settings: Settings | None = None, *, message_id: str | None = None) -> None:
    """Deliver ``email`` through the configured SMTP server, or write it to the
    outbox when none is configured. Either it is handed over in full or
    MailDeliveryFailed is raised: nothing is dropped silently."""
    if settings is None:
        settings = get_settings()
    message = build_message(email, settings.mail_from, message_id=message_id)
    if settings.smtp_url:
        await _send_over_smtp(message, SmtpServer.from_url(settings.smtp_url))
    else:
        await _write_to_outbox(message, settings.outbox_dir)


def build_message(email: Email, sender: str, *, message_id: str | None = None) -> EmailMessage:
    """An RFC 5322 message in UTF-8; with html it is multipart/alternative so
    clients that cannot show HTML still show the text."""
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    # An explicit domain: without one make_msgid asks DNS for the host's FQDN.
    message["Message-ID"] = message_id or make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


def read_outbox(outbox_dir: Path) -> list[EmailMessage]:
    """The messages in the outbox, oldest first (file names start with their
    UTC timestamp). Files still being written are never matched."""
    if not outbox_dir.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in sorted(outbox_dir.glob("*.eml"))]


async def _send_over_smtp(message: EmailMessage, server: SmtpServer) -> None:
    await anyio.to_thread.run_sync(_deliver, message, server)
    log.info("mail_sent", server=server.address, to=message["To"], subject=message["Subject"], message_id=message["Message-ID"])


def _deliver(message: EmailMessage, server: SmtpServer) -> None:
    try:
        session = _CONNECTIONS.take(server) or _Session(_connect(server))
    except (smtplib.SMTPException, OSError) as exc:
        raise MailDeliveryFailed(f"SMTP server {server.address}: {_reason(exc)}") from exc
    try:
        refused = session.smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        # What state the session is in is unknown: never reuse it.
        _close(session.smtp)
        raise MailDeliveryFailed(f"SMTP server {server.address}: {_reason(exc)}") from exc
    except BaseException:
        _close(session.smtp)
        raise
    _CONNECTIONS.give(server, session)
    # send_message only raises when every recipient is refused; a partial
    # refusal is still mail that did not arrive.
    if refused:
        raise MailDeliveryFailed(f"SMTP server {server.address}: refused recipients {', '.join(sorted(refused))}")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the system's CA certificates takes about 20 ms of CPU: once per
    # process, not per mail (an SSLContext is safe to share between threads).
    return ssl.create_default_context()


def _connect(server: SmtpServer) -> smtplib.SMTP:
    smtp = (
        smtplib.SMTP_SSL(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=_tls_context())
        if server.implicit_tls
        else smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
    )
    try:
        if server.starttls:
            # Raises when the server does not offer STARTTLS: never fall back to clear text.
            smtp.starttls(context=_tls_context())
        if server.username:
            smtp.login(server.username, server.password or "")
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP) -> None:
    # QUIT politely; a connection the server already dropped just closes.
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.quit()
    smtp.close()


@dataclass(eq=False)
class _Session:
    smtp: smtplib.SMTP
    # Mails it carried, and when it was last given back.
    carried: int = 0
    idle_since: float = 0.0


class _Connections:
    """Open SMTP sessions of this process between mails, per server. A
    session is taken by one mail at a time (mails run in worker threads),
    checked with NOOP before it carries another (the server may have
    dropped it: then a new one is opened, and nothing was sent on the old
    one), and closed after ``MAILS_PER_CONNECTION`` mails or ``IDLE_SECONDS``
    unused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[SmtpServer, list[_Session]] = {}

    def take(self, server: SmtpServer) -> _Session | None:
        while True:
            with self._lock:
                idle = self._idle.get(server)
                if not idle:
                    return None
                session = idle.pop()
            if time.monotonic() - session.idle_since <= IDLE_SECONDS and _alive(session.smtp):
                return session
            _close(session.smtp)

    def give(self, server: SmtpServer, session: _Session) -> None:
        session.carried += 1
        session.idle_since = time.monotonic()
        with self._lock:
            # Sessions to a server no longer written to (its URL changed)
            # are closed here, not left open for good.
            stale = [old for idle in self._idle.values() for old in idle if session.idle_since - old.idle_since > IDLE_SECONDS]
            for idle in self._idle.values():
                idle[:] = [old for old in idle if old not in stale]
            idle = self._idle.setdefault(server, [])
            kept = session.carried < MAILS_PER_CONNECTION and len(idle) < IDLE_CONNECTIONS
            if kept:
                idle.append(session)
        for old in stale if kept else [*stale, session]:
            _close(old.smtp)

    def close_all(self) -> None:
        with self._lock:
            sessions = [session for idle in self._idle.values() for session in idle]
            self._idle.clear()
        for session in sessions:
            _close(session.smtp)


def _alive(smtp: smtplib.SMTP) -> bool:
    try:
        code, _message = smtp.noop()
    except (smtplib.SMTPException, OSError):
        return False
    return code == 250


_CONNECTIONS = _Connections()
# QUIT what is still open when the process ends (a worker stopped by SIGTERM).
atexit.register(_CONNECTIONS.close_all)


def _reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {error}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


async def _write_to_outbox(message: EmailMessage, outbox_dir: Path) -> None:
    try:
        path = await anyio.to_thread.run_sync(_write_atomically, message, outbox_dir)
    except OSError as exc:
        raise MailDeliveryFailed(f"outbox {outbox_dir}: {_reason(exc)}") from exc
    log.info("mail_written_to_outbox", path=str(path), to=message["To"], subject=message["Subject"], message_id=message["Message-ID"])


def _write_atomically(message: EmailMessage, outbox_dir: Path) -> Path:
    # Serialise before touching the disk; CRLF line ends as RFC 5322 wants.
    data = message.as_bytes(policy=policy.SMTP)
    outbox_dir.mkdir(parents=True, exist_ok=True)
    target = outbox_dir / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(6)}.eml"
    # The temp file lives in the same folder so os.replace is an atomic rename,
    # and its .part suffix keeps read_outbox from seeing half a message.
    fd, temp_name = tempfile.mkstemp(dir=outbox_dir, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target
