"""The lines of one delivery stand on a statement in the order of their
line numbers on the delivery, not of their random ids: which demo line was
disputed used to change from one run to the next."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from portal.reconciliation.services import delivery_order

RECEIVED = datetime(2026, 10, 7, 9, 0, tzinfo=UTC)


def _row(number: str, line_no: int, line_id: str, received: datetime = RECEIVED) -> dict[str, object]:
    return {"id": UUID(line_id), "line_no": line_no, "delivery.number": number, "delivery.received_at": received}


def test_lines_of_one_delivery_follow_their_line_numbers_whatever_their_ids() -> None:
    rows = [
        _row("DN-2", 1, "00000000-0000-4000-8000-000000000009"),
        _row("DN-1", 2, "00000000-0000-4000-8000-000000000001"),
        _row("DN-1", 1, "ffffffff-0000-4000-8000-000000000000"),
        _row("DN-0", 1, "00000000-0000-4000-8000-000000000002", datetime(2026, 10, 8, tzinfo=UTC)),
    ]
    ordered = [(row["delivery.number"], row["line_no"]) for row in sorted(rows, key=delivery_order)]
    assert ordered == [("DN-1", 1), ("DN-1", 2), ("DN-2", 1), ("DN-0", 1)]
