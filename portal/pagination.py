"""The list envelope of the JSON API: ``{"items": [...], "next": cursor}``,
and the cursor of lists ordered newest first by a time and an id."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Generic, TypeVar
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from portal.errors import DomainError
from portal.i18n import N_

T = TypeVar("T")

# A sequence number in a query string (an audit page's cursor, a thread's
# message): within PostgreSQL's integer, or asyncpg fails on it (500) where
# SQLite just finds nothing. Out of range is a 400 naming the parameter.
# (gt=-1, not ge=0: Litestar leaves a falsy bound out of the OpenAPI.)
SeqNumber = Annotated[int | None, QueryParameter(gt=-1, le=2**31 - 1)]


class Page(msgspec.Struct, Generic[T], frozen=True):
    items: list[T]
    next: str | None = None


def page_of(items: list[T], next_cursor: str | None = None) -> Page[T]:
    return Page(items=items, next=next_cursor)


@dataclass(frozen=True)
class Shown(Generic[T]):
    """The first rows of a list that shows only so many, and how many the
    list holds: a screen that shows fewer says so (``cut_note`` in
    templates/_partials/forms.html; docs/architecture.md, "Lists never cut
    silently"). Iterates and counts as the rows shown."""

    items: list[T]
    total: int

    @property
    def cut(self) -> bool:
        return self.total > len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    message = N_("Some fields are missing or not valid.")


def time_cursor(at: datetime, key: UUID) -> str:
    """Where the next page starts: after the row made at ``at`` with id ``key``."""
    return f"{at.isoformat()}|{key}"


def read_time_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        at, _, key = cursor.partition("|")
        return datetime.fromisoformat(at), UUID(key)
    except ValueError:
        raise InvalidCursor(fields={"cursor": N_("This page link is not valid.")}) from None
