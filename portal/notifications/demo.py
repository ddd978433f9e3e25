"""Demo notifications: the demo's events (orders issued, changed, answered,
dispatches, deliveries, QC reviews) delivered at once, and each person's
older ones read, so every demo user has some read and some unread."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal.jobs.runner import run_due_jobs
from portal.notifications.tables import Notification
from tenants.context import system_scope

UNREAD_PER_PERSON = 3


async def load_notifications_demo() -> None:
    await run_due_jobs()
    async with system_scope("demo"):
        rows = await Notification.select(Notification.id, Notification.tenant, Notification.user, Notification.read_at).order_by(
            Notification.created_at, ascending=False
        )
        people: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
        for row in rows:
            people.setdefault((row["tenant"], row["user"]), []).append(row)
        for items in people.values():
            if any(item["read_at"] for item in items):
                continue
            older = [item["id"] for item in items[UNREAD_PER_PERSON:]]
            if older:
                await Notification.update({Notification.read_at: datetime.now(UTC)}).where(Notification.id.is_in(older))
