"""Receiving upload bodies without holding them in memory or in a
transaction.

Every writing request runs in one database transaction, opened before the
handler (``portal.db.TransactionMiddleware``): on SQLite that is the write
lock, on PostgreSQL a pooled connection. An upload on a weak shop-floor
signal can take minutes, and must hold neither. ``SpoolUploadMiddleware``
therefore sits *outside* the transaction: for routes marked
``opt={"spool_upload": True}`` it receives the whole body onto local disk
first (bounded by the largest category limit), parses a multipart form
from that file in a worker thread (the file part hashed into a staged file
and made durable), then lets the request in, replaying the body from the
file. The handler takes the parsed form (``read_upload_form``); nothing
larger than a megabyte is ever in memory, and none of the disk work waits
inside the transaction, where on SQLite every other writer waits for it.

Only callers that present a validly signed token are spooled (checked
without the database); everyone else goes straight on and is refused by
the guards before any body byte is read.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.documents.config import MB, largest_limit
from portal.documents.content import FileTooLarge
from portal.errors import DomainError
from portal.forms import without_nul
from portal.i18n import N_

SPOOL_OPT = "spool_upload"
SPOOLED_BODY = "spooled_body"
# The form parsed before the transaction: an UploadForm, or the error that
# parsing raised (handed to the handler when it reads the form, so a
# foreign record still answers 404 before a broken form's 400).
PARSED_FORM = "parsed_upload_form"
CHUNK = MB
FORM_OVERHEAD = MB  # multipart headers and the small text fields
TEXT_FIELD_LIMIT = 64 * 1024
MAX_PARTS = 16


class InvalidUpload(DomainError):
    code = "invalid_upload"
    message = N_("The upload could not be read. Choose the file again and retry.")


class RequestTooLarge(HTTPException):
    status_code = 413


def body_limit() -> int:
    return largest_limit() + FORM_OVERHEAD


def _has_signed_token(scope: Scope) -> bool:
    from tenants.middleware import kind_of, token_from
    from tenants.tokens import InvalidToken, decode_token

    token = token_from(scope)
    if not token:
        return False
    try:
        decode_token(token, kind=kind_of(scope))
    except InvalidToken:
        return False
    return True


class SpoolUploadMiddleware:
    def __init__(self, app: ASGIApp, directory: Path, staging: Callable[[], Path] | None = None) -> None:
        self.app = app
        self.directory = directory
        # Where parsed files are staged: the storage's staging folder, so
        # that storing a local file is a rename. None: the handler parses.
        self.staging = staging

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if (
            scope["type"] != ScopeType.HTTP
            or handler is None
            or not (handler.opt or {}).get(SPOOL_OPT)
            or scope.get("method") not in ("POST", "PUT")
            or not _has_signed_token(scope)
        ):
            await self.app(scope, receive, send)
            return
        limit = body_limit()
        announced = _content_length(scope)
        if announced is not None and announced > limit:
            raise RequestTooLarge()
        handle, path = await anyio.to_thread.run_sync(_spool_file, self.directory)
        try:
            complete = await _receive_into(handle, receive, limit)
            handle.close()
            if not complete:
                return  # the client went away: nobody to answer, nothing kept
            state = scope.setdefault("state", {})
            state[SPOOLED_BODY] = str(path)
            if self.staging is not None:
                state[PARSED_FORM] = await _parse_ahead(scope, path, self.staging)
            await self.app(scope, _replay(path, receive), send)
        finally:
            parsed = scope.get("state", {}).pop(PARSED_FORM, None)
            if isinstance(parsed, UploadForm):
                # Not taken (refused before the handler read it) or taken
                # and already stored: either way nothing staged is left.
                await anyio.to_thread.run_sync(parsed.discard)
            await _discard(handle, path)


async def _parse_ahead(scope: Scope, body: Path, staging: Callable[[], Path]) -> UploadForm | Exception | None:
    """The multipart form of a spooled body, or the error parsing it raised;
    None when the body is not a multipart form (the handler decides)."""
    content_type, options = Request(scope).content_type
    boundary = options.get("boundary")
    if content_type != "multipart/form-data" or not boundary:
        return None

    def parse() -> UploadForm:
        return parse_form(body, boundary, staging(), largest_limit())

    try:
        return await anyio.to_thread.run_sync(parse)
    except (InvalidUpload, FileTooLarge) as exc:
        return exc


def _spool_file(directory: Path) -> tuple[Any, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=directory, prefix="body-", delete=False)  # noqa: SIM115
    return handle, Path(handle.name)


async def _discard(handle: Any, path: Path) -> None:
    def remove() -> None:
        handle.close()
        path.unlink(missing_ok=True)

    # Shielded: a cancelled request (client gone, server stopping) must still
    # remove its spool file; a hard kill leaves it to `portal storage gc`.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(remove)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _receive_into(handle: Any, receive: Receive, limit: int) -> bool:
    total = 0
    buffer = bytearray()
    while True:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            return False
        body = message.get("body", b"")
        total += len(body)
        if total > limit:
            raise RequestTooLarge()
        buffer += body
        if len(buffer) >= CHUNK:
            await anyio.to_thread.run_sync(handle.write, bytes(buffer))
            buffer.clear()
        if not message.get("more_body", False):
            break
    if buffer:
        await anyio.to_thread.run_sync(handle.write, bytes(buffer))
    await anyio.to_thread.run_sync(handle.flush)
    return True


def _replay(path: Path, receive: Receive) -> Any:
    state: dict[str, Any] = {"handle": None, "done": False}

    def read() -> bytes:
        if state["handle"] is None:
            state["handle"] = path.open("rb")
        handle: Any = state["handle"]
        chunk: bytes = handle.read(CHUNK)
        if len(chunk) < CHUNK:
            handle.close()
        return chunk

    async def replay() -> Any:
        if state["done"]:
            return await receive()  # after the body: wait for the disconnect
        chunk = await anyio.to_thread.run_sync(read)
        more = len(chunk) == CHUNK
        if not more:
            state["done"] = True
        return {"type": "http.request", "body": chunk, "more_body": more}

    return replay


# -- the form -----------------------------------------------------------------


@dataclass
class StagedFile:
    """A received file in the storage's staging folder, with what was
    measured while it was written."""

    path: Path
    size: int
    sha256: str
    filename: str
    declared_type: str

    @classmethod
    def from_bytes(cls, staging: Path, data: bytes, filename: str, declared_type: str) -> StagedFile:
        """Bytes the app made itself (demo data), staged like a received file."""
        staging.mkdir(parents=True, exist_ok=True)
        path = staging / f"made-{uuid.uuid4()}"
        path.write_bytes(data)
        return cls(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(), filename=filename, declared_type=declared_type)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    file: StagedFile | None = None

    def discard(self) -> None:
        if self.file is not None:
            self.file.discard()


class _Writer:
    def __init__(self, directory: Path, limit: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        # The staged name is ours (a random UUID), never the client's.
        self.path = directory / f"upload-{uuid.uuid4()}"
        self.handle = self.path.open("xb")
        self.limit = limit
        self.size = 0
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise FileTooLarge(limit=self.limit // MB)
        self.sha256.update(data)
        self.handle.write(data)

    def finish(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()

    def abort(self) -> None:
        self.handle.close()
        self.path.unlink(missing_ok=True)


def parse_form(body: Path, boundary: str, staging: Path, limit: int) -> UploadForm:
    """Parse a multipart body from a file (blocking; run it in a thread):
    text fields into a dict, the one part named ``file`` into a staged file
    hashed as it is written. The client's file name is kept as data only."""
    from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser  # type: ignore[import-untyped]

    form = UploadForm()
    segment: Any = None
    text = bytearray()
    writer: _Writer | None = None
    try:
        with body.open("rb") as source, PushMultipartParser(boundary, max_segment_count=MAX_PARTS, strict=True) as parser:
            while not parser.closed:
                chunk = source.read(CHUNK)
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment, text = event, bytearray()
                        if segment.name == "file" and segment.filename:
                            if form.file is not None or writer is not None:
                                raise InvalidUpload()
                            writer = _Writer(staging, limit)
                    elif event:
                        if writer is not None and segment is not None and segment.name == "file":
                            writer.write(event)
                        elif segment is not None and segment.name == "file":
                            raise InvalidUpload()  # bytes in a file part without a file name
                        else:
                            text += event
                            if len(text) > TEXT_FIELD_LIMIT:
                                raise InvalidUpload()
                    elif segment is not None:
                        if segment.name == "file" and writer is not None:
                            writer.finish()
                            form.file = StagedFile(
                                path=writer.path,
                                size=writer.size,
                                sha256=writer.sha256.hexdigest(),
                                filename=segment.filename or "",
                                declared_type=segment.content_type or "",
                            )
                            writer = None
                        elif segment.name != "file":
                            form.fields[segment.name] = without_nul(text.decode(segment.charset or "utf-8", errors="replace"))
                        segment = None
                if not chunk:
                    break
    except (ParserError, ParserLimitReached, UnicodeDecodeError):
        if writer is not None:
            writer.abort()
        form.discard()
        raise InvalidUpload() from None
    except BaseException:
        if writer is not None:
            writer.abort()
        form.discard()
        raise
    if writer is not None:  # the body ended inside the file part
        writer.abort()
        form.discard()
        raise InvalidUpload()
    return form


async def read_upload_form(request: Any, staging: Path, limit: int) -> UploadForm:
    """The multipart form of an upload request, its file staged on disk."""
    content_type, options = request.content_type
    boundary = options.get("boundary")
    if content_type != "multipart/form-data" or not boundary:
        raise InvalidUpload()
    state = request.scope.get("state", {})
    parsed = state.get(PARSED_FORM)
    if isinstance(parsed, Exception):
        raise parsed
    if isinstance(parsed, UploadForm):
        return parsed
    spooled = state.get(SPOOLED_BODY)
    if spooled:
        return await anyio.to_thread.run_sync(parse_form, Path(spooled), boundary, staging, limit)
    # Not spooled by the middleware (a caller it could not vouch for that
    # still got past the guards): receive the body to disk here.
    handle, path = await anyio.to_thread.run_sync(_spool_file, staging)
    try:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit + FORM_OVERHEAD:
                raise RequestTooLarge()
            await anyio.to_thread.run_sync(handle.write, chunk)
        handle.close()
        return await anyio.to_thread.run_sync(parse_form, path, boundary, staging, limit)
    finally:
        await _discard(handle, path)
