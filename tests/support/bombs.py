"""Small files that take a lot of memory to render, built as an attacker
would: valid, compressing extremely well, within every size and pixel
limit the upload check applies."""

from __future__ import annotations

import struct
import zlib

_COLOR_CHANNELS = {0: 1, 2: 3, 3: 1, 6: 4}


def png(width: int, height: int, *, color_type: int = 2, bit_depth: int = 8, pattern: bool = False) -> bytes:
    """A real PNG of ``width`` x ``height`` pixels, streamed row by row (the
    image never exists in memory here). Zero-filled, or with a repeating
    ``pattern`` so the picture has something to resample."""
    row_bytes = (width * _COLOR_CHANNELS[color_type] * bit_depth + 7) // 8
    row = b"\x00" + (bytes((i * 37) & 0xFF for i in range(row_bytes)) if pattern else bytes(row_bytes))
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    palette = _chunk(b"PLTE", bytes(range(256)) * 3) if color_type == 3 else b""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + palette + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def pdf_with_inflating_page(megabytes: int = 1024) -> bytes:
    """A one-page PDF of about a thousandth of ``megabytes`` whose content
    stream inflates to ``megabytes`` of blanks when the page is drawn."""
    compressor = zlib.compressobj(9)
    blanks = b" " * (1024 * 1024)
    content = b"".join(compressor.compress(blanks) for _ in range(megabytes)) + compressor.flush()
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        ]
    )


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
