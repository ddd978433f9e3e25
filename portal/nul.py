"""No NUL character (U+0000) in text input.

PostgreSQL text cannot hold it: a query parameter or JSON string carrying
one failed inside the driver and answered 500 on PostgreSQL (and passed on
SQLite). It is refused before the handler on every database, with 400 and
the usual error body, the query parameter named. A page form's fields are
the exception: refusing there answers an error page and loses everything
the person typed, so page forms drop the character instead
(``portal.forms.read_form``, and the upload forms' parser).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from portal.errors import DomainError
from portal.i18n import N_


class NulInText(DomainError):
    code = "nul_in_text"
    message = N_("Some fields are missing or not valid.")


def _holds_nul(body: bytes) -> bool:
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False  # the framework refuses it as it does any broken body
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    named = sorted({name for name, value in request.query_params.multi_items() if "\x00" in name or "\x00" in value})
    if named:
        raise NulInText(fields={name.replace("\x00", ""): N_("This value is missing or not valid.") for name in named})
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        if b"\x00" in body or (b"u0000" in body and _holds_nul(body)):
            raise NulInText()
    elif content_type.startswith("application/x-www-form-urlencoded") and request.url.path.startswith("/api/"):
        body = await request.body()
        if b"%00" in body or b"\x00" in body:
            raise NulInText()
