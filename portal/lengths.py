"""What a column holds, from the column itself: the one source of truth for
the longest text and the largest number a field may carry.

PostgreSQL refuses a text longer than its ``varchar(n)`` column and a
number beyond its ``numeric(p, s)`` column's precision in the middle of the
request's transaction (asyncpg's StringDataRightTruncationError,
NumericValueOutOfRangeError): that answered 500 and lost the rest of the
request. SQLite ignores varchar lengths and stored the text whole: two
different products. So every write is checked here before it reaches
either database:

- A Text column holds any length; one people type into is marked
  ``free_text(Text(...))`` and holds at most ``TEXT_LENGTH`` characters,
  checked the same way (tests/unit/test_lengths.py: every Text column is
  marked or listed as written by the portal itself).
- ``refuse_what_does_not_fit`` runs in every Piccolo INSERT and UPDATE
  (``install``: the check rides on the queries' own ``_validate`` step,
  which Piccolo runs before any SQL is built), whatever path the value came
  in by: a page form, a JSON body, an import, a job. It raises ``TooLong``,
  a ``DomainError`` (400) naming the column, which the handlers already turn
  into a re-rendered form or a JSON error, in the request's language; the
  request's transaction is rolled back, so nothing is saved.
- ``most(column)`` is the same limit for a msgspec field
  (``Annotated[str, most(Ncr.title)]``): a JSON body is refused at decoding,
  naming the field, before any rule runs, and the OpenAPI description shows
  the ``maxLength``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any

from msgspec import Meta
from piccolo.columns import Column, Numeric, Text, Varchar
from piccolo.query.methods.insert import Insert
from piccolo.query.methods.update import Update

from portal.errors import DomainError
from portal.i18n import N_, gettext

# The most a free-text field (a note, a reason, a comment: a Text column,
# which holds any length) takes. Services may cap a field lower.
TEXT_LENGTH = 4000
FreeText = Annotated[str, Meta(max_length=TEXT_LENGTH)]
TOO_LONG = N_("At most %(max)s characters.")
TOO_LARGE = N_("This number is too large.")


class TooLong(DomainError):
    """Values that do not fit their columns: each field's own limit in its
    message (``DomainError`` shares one set of parameters between fields)."""

    code = "too_long"
    message = N_("Some fields are missing or not valid.")

    def __init__(self, limits: dict[str, tuple[str, int]]) -> None:
        super().__init__(fields={name: text for name, (text, _) in limits.items()})
        self.limits = limits

    def translated(self) -> tuple[str, dict[str, str]]:
        return gettext(self.message), {name: gettext(text, max=limit) for name, (text, limit) in self.limits.items()}


def free_text(column: Text) -> Text:
    """Marks a Text column people type into (a note, a reason, a comment):
    it holds at most TEXT_LENGTH characters, checked like a varchar's
    length. Text columns the portal writes itself (job payloads, rendered
    bodies, keys) are left unmarked and hold any length."""
    column._portal_free_text = True  # type: ignore[attr-defined]
    return column


def is_free_text(column: Column) -> bool:
    return isinstance(column, Text) and getattr(column, "_portal_free_text", False)


def length_of(column: Varchar) -> int:
    """The longest text ``column`` holds (every varchar of the portal declares one)."""
    length = column.length
    if length is None:
        raise TypeError(f"{column._meta.name}: a varchar without a length")
    return length


def most(column: Varchar) -> Meta:
    """A msgspec constraint for a text field stored in ``column``."""
    return Meta(max_length=length_of(column))


def varchar_columns() -> list[Varchar]:
    """Every varchar column of the apps' tables."""
    from piccolo.conf.apps import Finder

    return [column for table in Finder().get_table_classes() for column in table._meta.columns if isinstance(column, Varchar)]


def column_limits() -> dict[str, dict[str, int]]:
    """The longest text of each varchar column, by table and column name
    (``limits.item.code``): the ``maxlength`` of a page form's input that
    fills that column, from the same source as the check of every write."""
    limits: dict[str, dict[str, int]] = {}
    for column in varchar_columns():
        limits.setdefault(column._meta.table._meta.tablename, {})[column._meta.name] = length_of(column)
    return limits


def _largest(column: Numeric) -> Decimal | None:
    """The first number ``column`` cannot hold (10^(p-s) for numeric(p, s))."""
    digits = column.digits
    return Decimal(10) ** (digits[0] - digits[1]) if digits else None


def does_not_fit(column: Column, value: Any) -> tuple[str, int] | None:
    """Why ``value`` cannot be stored in ``column`` (message, limit), or None."""
    if isinstance(column, Varchar) and column.length and isinstance(value, str) and len(value) > column.length:
        return TOO_LONG, column.length
    if is_free_text(column) and isinstance(value, str) and len(value) > TEXT_LENGTH:
        return TOO_LONG, TEXT_LENGTH
    if isinstance(column, Numeric) and isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        largest = _largest(column)
        if largest is not None and Decimal(value).is_finite() and not -largest < Decimal(value) < largest:
            return TOO_LARGE, int(largest)
    return None


def refuse_what_does_not_fit(query: Insert[Any] | Update[Any]) -> None:
    """Raise ``TooLong`` naming every column of ``query`` whose new value
    its column cannot hold."""
    if isinstance(query, Insert):
        pairs = [(column, getattr(row, column._meta.name, None)) for row in query.add_delegate._add for column in query.table._meta.columns]
    else:
        pairs = list(query.values_delegate._values.items())
    refuse_unfit(pairs)


def refuse_unfit(pairs: Iterable[tuple[Column, Any]]) -> None:
    """Raise ``TooLong`` naming every column whose value it cannot hold."""
    limits = {column._meta.name: problem for column, value in pairs if (problem := does_not_fit(column, value)) is not None}
    if limits:
        raise TooLong(limits)


def _checked(query_class: type[Insert[Any]] | type[Update[Any]]) -> None:
    validate = query_class._validate

    def checked_validate(self: Any) -> None:
        validate(self)
        refuse_what_does_not_fit(self)

    query_class._validate = checked_validate  # type: ignore[method-assign]


def install() -> None:
    """Check every INSERT and UPDATE (once per process)."""
    if not getattr(Insert, "_portal_fits_columns", False):
        _checked(Insert)
        _checked(Update)
        Insert._portal_fits_columns = True  # type: ignore[attr-defined]


install()
