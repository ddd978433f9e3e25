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
