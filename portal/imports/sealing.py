"""The checked rows of an upload, signed, for the confirm step of the pages.

The import pages are stateless: the preview page carries the parsed rows
(compressed JSON, HMAC-signed with the portal's secret key, bound to the
tenant, the user and the importer, valid for ten minutes) in its confirm
form, and the confirm request re-checks and saves exactly those rows. No
upload is kept on a server's disk, so any app process can take the
confirm, and nothing needs cleaning up. The signature only proves the rows
came from this portal's own preview: every row is checked again on
confirm, as for any upload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import zlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from portal.errors import DomainError
from portal.i18n import N_
from portal.imports.sheets import Column, Sheet, SourceRow, check_cells
from portal.settings import get_settings

SEAL_SECONDS = 10 * 60
# The sealed rows of the largest accepted file unpack to far less than this.
MAX_UNSEALED_BYTES = 64 * 1024 * 1024


class SealInvalid(DomainError):
    code = "import_expired"
    message = N_("This preview has expired or is not valid. Upload the file again.")


def _key() -> bytes:
    # A key of its own, derived from the secret: a seal is never a token.
    return hmac.new(get_settings().secret_key.encode(), b"portal.imports.seal.v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(sheet: Sheet, *, purpose: str, tenant_id: UUID, user_id: UUID | None, now: float | None = None) -> str:
    payload = {
        "p": purpose,
        "t": str(tenant_id),
        "u": str(user_id or ""),
        "e": int((now if now is not None else time.time()) + SEAL_SECONDS),
        "f": sheet.filename,
        "k": sheet.kind,
        "h": sheet.header_row,
        "c": sheet.columns,
        "r": [[row.number, [row.get(key) for key in sheet.columns]] for row in sheet.rows],
    }
    body = zlib.compress(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(), 6)
    signature = hmac.new(_key(), body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(signature)}"


def unseal(
    token: str, columns: Sequence[Column], *, purpose: str, tenant_id: UUID, user_id: UUID | None, now: float | None = None
) -> Sheet:
    """The sealed rows, with the per-cell checks run again."""
    try:
        body_text, _, signature_text = token.strip().partition(".")
        body, signature = _unb64(body_text), _unb64(signature_text)
    except (binascii.Error, ValueError):
        raise SealInvalid() from None
    if not hmac.compare_digest(signature, hmac.new(_key(), body, hashlib.sha256).digest()):
        raise SealInvalid()
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(body, MAX_UNSEALED_BYTES)
    except zlib.error:
        raise SealInvalid() from None
    if inflater.unconsumed_tail:
        raise SealInvalid()
    payload: dict[str, Any] = json.loads(raw)
    expected = (purpose, str(tenant_id), str(user_id or ""))
    if (payload.get("p"), payload.get("t"), payload.get("u")) != expected:
        raise SealInvalid()
    if int(payload.get("e", 0)) < (now if now is not None else time.time()):
        raise SealInvalid()
    keys = [str(key) for key in payload["c"]]
    rows = [SourceRow(int(number), dict(zip(keys, (str(value) for value in values), strict=True))) for number, values in payload["r"]]
    sheet = Sheet(filename=str(payload["f"]), kind=str(payload["k"]), header_row=int(payload["h"]), columns=keys, rows=rows)
    check_cells(sheet, columns)
    return sheet
