"""The first page of a PDF, rendered in a child process whose memory the
kernel bounds: ``python -m portal.documents.pdf_page FILE LIMIT``.

PDFium decodes what a page needs in its own allocator, where no estimate
made beforehand can follow it: a 1 MB PDF whose content stream inflates to
a gigabyte took the process to 2 GB. So PDFs are never rendered in the
server. The child caps its own address space (RLIMIT_AS) before PDFium is
loaded; a page that needs more makes the child fail, not the server. It
writes ``WIDTH HEIGHT\\n`` and the page's RGB bytes to stdout.
"""

from __future__ import annotations

import resource
import sys

# Exit codes the parent tells apart.
UNREADABLE = 3
NO_PAGES = 4


def render(path: str, longest_side: int) -> tuple[int, int, bytes]:
    import pypdfium2  # type: ignore[import-untyped]

    document = pypdfium2.PdfDocument(path)
    try:
        if len(document) == 0:
            raise SystemExit(NO_PAGES)
        page = document[0]
        width, height = page.get_size()
        scale = min(longest_side / max(width, height, 1.0), 4.0)
        image = page.render(scale=scale).to_pil().convert("RGB")
        page.close()
        return image.width, image.height, image.tobytes()
    finally:
        document.close()


def main(argv: list[str]) -> int:
    path, limit, longest_side = argv[1], int(argv[2]), int(argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        width, height, pixels = render(path, longest_side)
    except (SystemExit, MemoryError):
        raise
    except Exception as exc:  # PDFium errors on untrusted bytes
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return UNREADABLE
    sys.stdout.buffer.write(f"{width} {height}\n".encode() + pixels)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
