"""The list envelope of the JSON API: ``{"items": [...], "next": cursor}``."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], frozen=True):
    items: list[T]
    next: str | None = None


def page_of(items: list[T], next_cursor: str | None = None) -> Page[T]:
    return Page(items=items, next=next_cursor)
