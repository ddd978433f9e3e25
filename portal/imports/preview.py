"""What an import page shows before anything is saved, for every importer.

The pages are stateless (see ``sealing``): the preview is a dry run, and
when it finds no problem it carries the parsed rows signed in its confirm
form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from portal.i18n import gettext
from portal.imports.errors import MB
from portal.imports.registry import Report
from portal.imports.sheets import MAX_FILE_BYTES, MAX_ROWS, Column, Sheet

PREVIEW_ROWS = 100


def column_help(columns: Sequence[Column]) -> dict[str, Any]:
    """The import page's column table and limits, in the reader's language."""
    return {
        "columns": [
            {"key": c.key, "label": gettext(c.label), "required": c.required, "hint": gettext(c.hint), "example": c.example}
            for c in columns
        ],
        "labels": {column.key: gettext(column.label) for column in columns},
        "max_mb": MAX_FILE_BYTES // MB,
        "max_rows": MAX_ROWS,
    }


def preview(sheet: Sheet, report: Report, columns: Sequence[Column], *, sealed: str | None) -> dict[str, Any]:
    """Counts, every problem (translated), and the rows: those with
    problems, or else the first ones."""
    errors = [error.translated() for error in report.errors]
    rows_with_errors = {error.row for error in errors if error.row is not None}
    shown = [row for row in sheet.rows if row.number in rows_with_errors] if rows_with_errors else sheet.rows
    return {
        "filename": sheet.filename,
        "rows": report.rows,
        "groups": report.groups,
        "errors": errors,
        "cells": {(error.row, error.column): error.message for error in errors if error.row is not None},
        "row_errors": {error.row: error.message for error in errors if error.row is not None and error.column is None},
        "shown": shown[:PREVIEW_ROWS],
        "more_rows": max(0, len(shown) - PREVIEW_ROWS),
        "columns": [column.key for column in columns if column.key in sheet.columns],
        "sealed": sealed,
    }
