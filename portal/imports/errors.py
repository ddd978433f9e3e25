"""What is wrong with an imported file, row by row.

A ``RowError`` keeps a catalog message id and its parameters; it is
translated only when reported, in the language of whoever reads it (the
same rule as ``portal.errors.DomainError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from portal.errors import DomainError
from portal.i18n import N_, gettext

MB = 1024 * 1024


class RowErrorOut(msgspec.Struct, frozen=True):
    """``row`` is the row number as the spreadsheet shows it (the header is
    a row too); null for a problem with the file as a whole. ``column`` is
    the column key (``supplier_code``); null for the whole row or file."""

    row: int | None
    column: str | None
    message: str


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None
    message: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def translated(self) -> RowErrorOut:
        return RowErrorOut(row=self.row, column=self.column, message=gettext(self.message, **self.params))

    @property
    def sort_key(self) -> tuple[int, str]:
        return (-1 if self.row is None else self.row, self.column or "")


def file_error(message: str, **params: Any) -> RowError:
    return RowError(None, None, message, params)


class InvalidImport(DomainError):
    code = "invalid_import"
    message = N_("Choose a CSV or Excel (.xlsx) file to import.")


class ImportFileTooLarge(DomainError):
    status_code = 413
    code = "import_too_large"
    message = N_("The file is larger than %(limit)s MB. Split it into smaller files.")
