"""The one place WeasyPrint is imported.

Call ``html()`` in the process and thread that renders (never at module
load, never before a fork): WeasyPrint's import costs tens of megabytes.

Importing WeasyPrint sets Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` for
the whole process, so that a cut-off picture in a page still prints. The
portal's documents decode uploads with the same Pillow and must refuse a
truncated file, whatever rendered before in that process; the PDFs made
here embed no picture the portal did not make itself. So the flag is put
back to Pillow's default right after the import, here, once.

Nothing is fetched but ``data:`` URLs: no name or note that reaches a
template can make WeasyPrint open a file or the network.

The PDFs' running headers, footers and page numbers are CSS ``content`` in
``@page`` margin boxes: ``css_string`` and ``page_counter`` write it.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_importing = threading.Lock()


@functools.cache
def _weasyprint() -> tuple[Any, Any]:
    with _importing:
        from PIL import ImageFile
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher

        ImageFile.LOAD_TRUNCATED_IMAGES = False
        return HTML, URLFetcher


def html(markup: str) -> Any:
    """WeasyPrint's ``HTML`` of ``markup``, reading only ``data:`` URLs."""
    document, fetcher = _weasyprint()
    return document(string=markup, url_fetcher=fetcher(allowed_protocols=("data",)))


def css_string(text: str) -> str:
    """``text`` as a CSS string inside a <style> element (where HTML escapes
    do not apply): quotes, backslashes, line breaks and ``<`` escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return f'"{escaped}"'


def page_counter(template: str) -> str:
    """A translated "Page %(page)s of %(pages)s" as CSS ``content``: the
    placeholders become the page counters."""
    parts: list[str] = []
    rest = template
    while rest:
        positions = [(rest.find(key), key) for key in ("%(pages)s", "%(page)s") if key in rest]
        if not positions:
            parts.append(css_string(rest))
            break
        index, key = min(positions)
        if index:
            parts.append(css_string(rest[:index]))
        parts.append("counter(pages)" if key == "%(pages)s" else "counter(page)")
        rest = rest[index + len(key) :]
    return " ".join(parts)
