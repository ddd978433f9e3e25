"""The import flow every domain shares, and the importers by name.

A domain implements ``Importer``: ``plan`` turns the parsed rows into the
work to do (looking codes up, grouping rows) and reports every problem with
its row and column without writing anything; ``save`` does the work through
the domain's own services. ``run_import`` is dry run or all-or-nothing: a
save runs only when the plan has no error, and if the save itself finds a
problem it raises ``ImportRejected``, so the caller's transaction rolls
back everything the save wrote.

A second importer (material dispatches) plugs in by subclassing
``Importer`` in its own package and calling ``register``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

import anyio.to_thread

from portal.errors import DomainError
from portal.i18n import N_
from portal.imports.errors import RowError, file_error
from portal.imports.sheets import Column, Sheet, read_sheet

W = TypeVar("W")
# Enough to fix a file by; a file with more problems gets a count of the rest.
MAX_REPORTED_ERRORS = 500


@dataclass
class Plan(Generic[W]):
    """What the rows would do: ``groups`` records (orders, dispatches) from
    ``rows`` rows, the problems, and the work for ``save``."""

    rows: int
    groups: int
    errors: list[RowError]
    work: W


@dataclass(frozen=True)
class Created:
    id: UUID
    label: str


@dataclass
class Report:
    rows: int
    groups: int
    errors: list[RowError] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)


class ImportRejected(DomainError):
    """Nothing was saved; ``report`` says why, row by row."""

    status_code = 400
    code = "import_rejected"
    message = N_("Nothing was imported: the file has %(count)s problems. Fix them and import it again.")

    def __init__(self, report: Report) -> None:
        super().__init__(count=len(report.errors))
        self.report = report


class Importer(ABC, Generic[W]):
    name: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    # The permission policy action needed to import.
    action: ClassVar[str]

    @abstractmethod
    async def plan(self, sheet: Sheet) -> Plan[W]:
        """Check every row and build the work; never writes."""

    @abstractmethod
    async def save(self, work: W) -> tuple[list[Created], list[RowError]]:
        """Do the work through the domain's services; return what was
        created and the problems the services found (mapped to rows)."""


_IMPORTERS: dict[str, Importer[Any]] = {}


def register(importer: Importer[W]) -> Importer[W]:
    _IMPORTERS[importer.name] = importer
    return importer


def importer_named(name: str) -> Importer[Any]:
    return _IMPORTERS[name]


def registered() -> Sequence[str]:
    return sorted(_IMPORTERS)


async def read_upload(importer: Importer[Any], data: bytes, filename: str) -> Sheet:
    """Parse the upload in a worker thread: XLSX parsing is CPU work that
    must not stall the event loop."""
    return await anyio.to_thread.run_sync(read_sheet, data, filename, importer.columns)


def _limited(errors: list[RowError]) -> list[RowError]:
    errors = sorted(errors, key=lambda error: error.sort_key)
    if len(errors) <= MAX_REPORTED_ERRORS:
        return errors
    rest = len(errors) - MAX_REPORTED_ERRORS
    return [*errors[:MAX_REPORTED_ERRORS], file_error(N_("%(count)s more problems are not listed."), count=rest)]


async def run_import(importer: Importer[Any], sheet: Sheet, *, dry_run: bool) -> Report:
    """Dry run: the report of what would be created and every problem.
    Otherwise all rows are saved, or nothing: ``ImportRejected`` carries the
    report and must roll the caller's transaction back."""
    if sheet.errors and not sheet.rows:
        report = Report(rows=0, groups=0, errors=_limited(sheet.errors))
        if dry_run:
            return report
        raise ImportRejected(report)
    plan = await importer.plan(sheet)
    errors = [*sheet.errors, *plan.errors]
    report = Report(rows=plan.rows, groups=plan.groups, errors=_limited(errors))
    if dry_run:
        return report
    if errors:
        raise ImportRejected(report)
    created, problems = await importer.save(plan.work)
    if problems:
        raise ImportRejected(Report(rows=plan.rows, groups=plan.groups, errors=_limited(problems)))
    report.created = created
    return report
