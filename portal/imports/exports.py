"""What every list export shares: the refusals, the size cap and the step
from checked rows to a file.

A domain's exporter reads its rows through its own services (the same
filters and scoping as its list), inside the request's transaction (on
PostgreSQL the row-level security settings live only as long as it), and
hands them here; the file is built in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import anyio.to_thread

from portal.errors import DomainError
from portal.i18n import N_, gettext
from portal.imports.writers import FORMATS, BuiltFile, Cell, TableSheet, build_file
from tenants.context import current

# More than this many rows is a request for a backup, not an export.
MAX_EXPORT_ROWS = 50_000


class InvalidExport(DomainError):
    code = "invalid_export"
    message = N_("Some fields are missing or not valid.")


class ExportTooLarge(DomainError):
    code = "export_too_large"
    message = N_("More than %(max)s lines match: narrow the filters and export again.")


def check_format(fmt: str) -> None:
    """Refused before any row is read: csv or xlsx only."""
    if fmt not in FORMATS:
        raise InvalidExport(fields={"format": N_("Choose csv or xlsx.")})


def check_size(count: int, limit: int = MAX_EXPORT_ROWS) -> None:
    if count > limit:
        raise ExportTooLarge(max=limit)


def local_time(value: datetime | None) -> datetime | None:
    """A stored UTC time as the tenant's wall clock, to the minute (what the
    pages show), without a zone: spreadsheets have none."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current().time_zone)).replace(tzinfo=None, second=0, microsecond=0)


async def export_file(
    fmt: str, *, title: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Cell]], stem: str, widths: dict[str, int]
) -> BuiltFile:
    """One sheet: ``title`` and ``columns`` (key, catalog label) translated
    for the reader, the file named ``<stem>-<tenant's date and time>``."""
    check_format(fmt)
    sheet = TableSheet(
        title=gettext(title),
        header=[gettext(label) for _, label in columns],
        rows=list(rows),
        widths=[widths.get(key, 14) for key, _ in columns],
    )
    name = f"{stem}-{datetime.now(ZoneInfo(current().time_zone)):%Y%m%d-%H%M}"
    return await anyio.to_thread.run_sync(build_file, fmt, [sheet], name)
