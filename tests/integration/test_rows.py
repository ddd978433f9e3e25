"""``portal.rows.insert_row``: the same row as Piccolo's ``save()`` stores,
the same refusal of what does not fit, and ``ON CONFLICT DO NOTHING``
when asked."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from portal.lengths import TooLong
from portal.rows import insert_row
from tenants.context import system_scope
from tenants.tables import Tenant

Run = Any


def _slug() -> str:
    return f"rows-{uuid4().hex[:12]}"


async def _stored(slug: str) -> dict[str, Any] | None:
    async with system_scope("test"):
        return await Tenant.select().where(Tenant.slug == slug).first()


def test_a_row_reads_back_as_piccolo_would_have_stored_it(run: Run) -> None:
    at = datetime(2026, 12, 7, 19, 30, 15, 123456, tzinfo=UTC)

    async def both() -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
        fast, saved = _slug(), _slug()
        async with system_scope("test"):
            row = Tenant(slug=fast, name="快速 Fast", over_delivery_tolerance=Decimal("0.1250"), created_at=at)
            inserted = await insert_row(row)
            await Tenant(slug=saved, name="快速 Fast", over_delivery_tolerance=Decimal("0.1250"), created_at=at).save()
        assert row._exists_in_db
        return await _stored(fast), await _stored(saved), inserted

    fast, saved, inserted = run(both)
    assert inserted
    assert fast is not None
    assert saved is not None
    for row in (fast, saved):
        row.pop("id")
        row.pop("slug")
    assert fast == saved
    assert fast["over_delivery_tolerance"] == Decimal("0.1250")
    assert fast["created_at"] == at


def test_a_value_too_long_is_refused_naming_its_column_and_nothing_is_stored(run: Run) -> None:
    slug = _slug()

    async def too_long() -> None:
        async with system_scope("test"):
            await insert_row(Tenant(slug=slug, name="名" * 201))

    with pytest.raises(TooLong) as refused:
        run(too_long)
    assert set(refused.value.fields) == {"name"}
    assert run(_stored, slug) is None


def test_unless_skips_a_row_whose_unique_columns_are_taken(run: Run) -> None:
    slug = _slug()

    async def twice() -> tuple[bool, bool]:
        async with system_scope("test"):
            first = await insert_row(Tenant(slug=slug, name="first"), unless=(Tenant.slug,))
            second = await insert_row(Tenant(slug=slug, name="second"), unless=(Tenant.slug,))
        return first, second

    assert run(twice) == (True, False)
    stored = run(_stored, slug)
    assert stored is not None
    assert stored["name"] == "first"
