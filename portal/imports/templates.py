"""The empty import file an importer offers for download."""

from __future__ import annotations

from collections.abc import Sequence

from portal.i18n import gettext
from portal.imports.sheets import Column
from portal.imports.writers import BuiltFile, TableSheet, build_file


def import_template(fmt: str, columns: Sequence[Column], *, title: str, stem: str) -> BuiltFile:
    """The header row in the reader's language (``title`` is a catalog id)
    and, in XLSX, a second sheet explaining each column."""
    header = [gettext(column.label) for column in columns]
    widths = [max(14, len(label) * 2 + 4) for label in header]
    sheets = [TableSheet(title=gettext(title), header=header, widths=widths)]
    if fmt == "xlsx":
        yes, no = gettext("Yes"), gettext("No")
        help_rows: list[list[str | None]] = [
            [gettext(column.label), yes if column.required else no, gettext(column.hint), column.example] for column in columns
        ]
        sheets.append(
            TableSheet(
                title=gettext("Help"),
                header=[gettext("Column"), gettext("Required"), gettext("What to enter"), gettext("Example")],
                rows=list(help_rows),
                widths=[18, 10, 90, 18],
            )
        )
    return build_file(fmt, sheets, stem)
