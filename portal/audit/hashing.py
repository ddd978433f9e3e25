"""The canonical form of an audit event and its hash: the one definition that
``record`` writes and ``verify`` recomputes, so the two can never drift.

An event's hash is an HMAC-SHA256 of its canonical form under the audit key
named by its ``key_id``: without the key, nobody who can write the database
can recompute it. Events written before the chain was keyed have an empty
``key_id`` and keep their plain SHA-256 (see ``portal.audit.legacy``)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec

from portal.audit.keys import AuditKey, KeyRing

# The prev_hash of a tenant's first event.
GENESIS_HASH = "0" * 64


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds, the resolution both databases
    store; a naive datetime is taken to be UTC already, as stored times are."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None)
    that reads back from the database equal to what was hashed: UUID and
    Decimal become strings (a Decimal never passes through float), datetimes
    ISO UTC, dates ISO, msgspec structs their fields. Anything else raises
    TypeError rather than being recorded as something it is not."""
    if isinstance(value, Enum):
        return json_safe(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no JSON form and cannot be recorded")
        return value
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, msgspec.Struct):
        return json_safe(msgspec.structs.asdict(value))
    if isinstance(value, Mapping):
        return {str(json_safe(key)): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    raise TypeError(f"cannot record a {type(value).__name__} in the audit trail")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 as is: equal data, equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class EventFields:
    """Everything an event's hash covers. ``before`` and ``after`` are
    already ``json_safe``."""

    tenant: UUID
    seq: int
    at: datetime
    actor: UUID | None
    actor_label: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    address: str
    prev_hash: str
    key_id: str = ""

    def canonical(self) -> str:
        fields: dict[str, Any] = {
            "tenant": str(self.tenant),
            "seq": self.seq,
            "at": iso_utc(self.at),
            "actor": str(self.actor) if self.actor is not None else None,
            "actor_label": self.actor_label,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "before": self.before,
            "after": self.after,
            "address": self.address,
            "prev_hash": self.prev_hash,
        }
        # Unkeyed events keep the form they were hashed in; a keyed one
        # names its key, so it cannot pass for one under another key.
        if self.key_id:
            fields["key_id"] = self.key_id
        return canonical_json(fields)

    def digest(self, key: AuditKey | None) -> str:
        """The HMAC under ``key``, or with None the plain SHA-256 that only
        events from before the chain was keyed carry."""
        if key is None:
            return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()
        return key.sign(self.canonical())

    def expected_hash(self, ring: KeyRing) -> str | None:
        """What this event's hash must be; None when its key is not known here."""
        if not self.key_id:
            return self.digest(None)
        key = ring.get(self.key_id)
        return self.digest(key) if key is not None else None
