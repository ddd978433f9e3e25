"""The canonical form of an audit event and its hash."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import pytest

from portal.audit.hashing import GENESIS_HASH, EventFields, canonical_json, json_safe
from portal.audit.keys import KeyRing, audit_key
from tenants.roles import Role

TENANT = UUID("2f0c6a38-4a5e-4d7e-9a43-7a1d2f0e9b11")
ACTOR = UUID("8d5b1c2e-0f3a-4b6c-8e9d-1a2b3c4d5e6f")
AT = datetime(2026, 11, 21, 3, 4, 5, 123456, tzinfo=UTC)

FIELDS = EventFields(
    tenant=TENANT,
    seq=7,
    at=AT,
    actor=ACTOR,
    actor_label="李计划",
    action="order.issue",
    entity_type="order",
    entity_id="PO-2026-00042",
    before={"status": "draft"},
    after={"status": "issued", "lines": [{"qty": "10.500"}]},
    address="10.0.0.7",
    prev_hash=GENESIS_HASH,
)

KEY = audit_key(b"k" * 32)
OTHER_KEY = audit_key(b"o" * 32)
KEYED = dataclasses.replace(FIELDS, key_id=KEY.id)

# A different value for every field the hash covers.
CHANGES: dict[str, Any] = {
    "tenant": UUID("00000000-0000-4000-8000-000000000001"),
    "seq": 8,
    "at": AT + timedelta(microseconds=1),
    "actor": None,
    "actor_label": "李计划 ",
    "action": "order.cancel",
    "entity_type": "order_line",
    "entity_id": "PO-2026-00043",
    "before": None,
    "after": {"status": "issued", "lines": [{"qty": "10.5"}]},
    "address": "10.0.0.8",
    "prev_hash": "f" * 64,
    "key_id": OTHER_KEY.id,
}


def test_every_hashed_field_has_a_change_case() -> None:
    assert set(CHANGES) == {field.name for field in dataclasses.fields(EventFields)}


def test_hash_is_sha256_of_sorted_compact_json() -> None:
    text = FIELDS.canonical()

    assert json.loads(text)["at"] == "2026-11-21T03:04:05.123456+00:00"
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert ", " not in text
    assert ": " not in text
    assert "李计划" in text
    assert FIELDS.digest(None) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_keyed_hash_is_the_hmac_of_the_canonical_form_naming_its_key() -> None:
    text = KEYED.canonical()

    assert json.loads(text)["key_id"] == KEY.id
    assert KEYED.digest(KEY) == hmac.new(b"k" * 32, text.encode("utf-8"), hashlib.sha256).hexdigest()


def test_keyed_hash_cannot_be_recomputed_without_the_key() -> None:
    assert KEYED.digest(OTHER_KEY) != KEYED.digest(KEY)
    assert KEYED.digest(None) != KEYED.digest(KEY)


def test_expected_hash_uses_the_key_the_event_names() -> None:
    ring = KeyRing(current=OTHER_KEY, known={KEY.id: KEY, OTHER_KEY.id: OTHER_KEY})

    assert KEYED.expected_hash(ring) == KEYED.digest(KEY)
    assert FIELDS.expected_hash(ring) == FIELDS.digest(None)
    assert KEYED.expected_hash(KeyRing(current=OTHER_KEY, known={OTHER_KEY.id: OTHER_KEY})) is None


def test_hash_is_stable_for_equal_events() -> None:
    same = dataclasses.replace(KEYED, before={"status": "draft"}, after={"lines": [{"qty": "10.500"}], "status": "issued"})

    assert same.digest(KEY) == KEYED.digest(KEY)


def test_canonical_form_is_frozen() -> None:
    # Chains recorded before keys were hashed with this form, and keep their
    # hashes: changing it breaks every one of them.
    assert FIELDS.canonical() == (
        '{"action":"order.issue","actor":"8d5b1c2e-0f3a-4b6c-8e9d-1a2b3c4d5e6f","actor_label":"李计划",'
        '"address":"10.0.0.7","after":{"lines":[{"qty":"10.500"}],"status":"issued"},'
        '"at":"2026-11-21T03:04:05.123456+00:00","before":{"status":"draft"},"entity_id":"PO-2026-00042",'
        '"entity_type":"order","prev_hash":"' + GENESIS_HASH + '","seq":7,"tenant":"2f0c6a38-4a5e-4d7e-9a43-7a1d2f0e9b11"}'
    )
    assert FIELDS.digest(None) == "9193e8b2f1976efcda2ccce96e70b7fae14ed11c713ecec221916a0472653fa5"


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_hash_changes_when_any_field_changes(name: str) -> None:
    changed = dataclasses.replace(KEYED, **{name: CHANGES[name]})

    assert changed.digest(KEY) != KEYED.digest(KEY)


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    shanghai = AT.astimezone(timezone(timedelta(hours=8)))

    assert dataclasses.replace(KEYED, at=shanghai).digest(KEY) == KEYED.digest(KEY)


class Line(msgspec.Struct):
    item: str
    quantity: Decimal


def test_json_safe_turns_domain_values_into_json_that_reads_back_equal() -> None:
    value = {
        "id": TENANT,
        "price": Decimal("12.50"),
        "due": date(2026, 12, 1),
        "at": datetime(2026, 11, 21, 11, 4, 5, tzinfo=timezone(timedelta(hours=8))),
        "role": Role.PLANNER,
        "lines": ({"qty": 3, "ok": True, "note": None, "ratio": 0.25},),
        "line": Line(item="法兰", quantity=Decimal("3.000")),
    }

    safe = json_safe(value)

    assert safe == {
        "id": str(TENANT),
        "price": "12.50",
        "due": "2026-12-01",
        "at": "2026-11-21T03:04:05.000000+00:00",
        "role": "planner",
        "lines": [{"qty": 3, "ok": True, "note": None, "ratio": 0.25}],
        "line": {"item": "法兰", "quantity": "3.000"},
    }
    assert json.loads(canonical_json(safe)) == safe


@pytest.mark.parametrize("value", [{1, 2}, object(), float("nan"), float("inf")])
def test_json_safe_refuses_values_without_a_faithful_json_form(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        json_safe({"value": value})
