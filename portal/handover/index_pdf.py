"""Render the handover package's index parts to PDF, in a process of its
own: ``python -m portal.handover.index_pdf PART.html ...`` turns each
part into ``PART.pdf`` beside it.

WeasyPrint's import and its font subsetting cost tens of megabytes that
Python does not give back; in the package job's process they came on top of
the portal's own modules (a 10,000-row index peaked at 316 MB). This
process holds WeasyPrint alone, renders one part at a time and returns all
of it when it ends; the job starts a fresh one every ``PARTS_PER_PROCESS``
parts, as WeasyPrint's caches still grow from part to part. It fetches nothing (no URL but ``data:``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from portal import weasy

PARTS_PER_PROCESS = 20


def render(parts: list[Path]) -> None:
    for part in parts:
        weasy.html(part.read_text(encoding="utf-8")).write_pdf(part.with_suffix(".pdf"))


if __name__ == "__main__":
    render([Path(name) for name in sys.argv[1:]])
