"""Files for document tests, generated in code: good ones of every accepted
kind and a corpus of hostile ones (polyglots, mislabeled types, bombs,
active content). Nothing here is downloaded or stored in the repository."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 20)).save(out, format="JPEG", quality=85)
    return out.getvalue()


def webp(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 160, 60)).save(out, format="WEBP")
    return out.getvalue()


def heic(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 90, 200)).save(out, format="HEIF")
    return out.getvalue()


def pdf(pages: int = 1) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    """Document-level JavaScript in the catalog's names tree."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Names [(startup) 5 0 R] >>",
        b"<< /S /JavaScript /JS (app.alert\\('hello'\\);) >>",
    ]
    return _raw_pdf(objects)


def pdf_with_open_action_javascript() -> bytes:
    """An /OpenAction that runs JavaScript, its name hex-escaped in the file
    (``/J#61vaScript``) so that a byte search for "/JavaScript" misses it."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Type /Action /S /J#61vaScript /JS (app.alert\\(1\\)) >>",
    ]
    return _raw_pdf(objects)


def pdf_with_launch_action_in_annotation() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [4 0 R] >>",
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A << /S /Launch /F (cmd.exe) >> >>",
    ]
    return _raw_pdf(objects)


def _raw_pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _ooxml(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">%s</Types>'


def docx() -> bytes:
    main = (
        b'<Override PartName="/word/document.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    )
    return _ooxml({"[Content_Types].xml": _TYPES % main, "word/document.xml": b"<w:document/>"})


def xlsx() -> bytes:
    main = (
        b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    )
    return _ooxml({"[Content_Types].xml": _TYPES % main, "xl/workbook.xml": b"<workbook/>"})


def xlsm() -> bytes:
    """A macro workbook wearing an .xlsx name."""
    main = b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
    return _ooxml({"[Content_Types].xml": _TYPES % main, "xl/workbook.xml": b"<workbook/>", "xl/vbaProject.bin": b"\x00" * 64})


def dxf() -> bytes:
    return b"  0\r\nSECTION\r\n  2\r\nHEADER\r\n  9\r\n$ACADVER\r\n  1\r\nAC1015\r\n  0\r\nENDSEC\r\n  0\r\nEOF\r\n"


def dwg() -> bytes:
    return b"AC1032" + b"\x00" * 6 + bytes(range(256)) * 4


def step(size: int = 0) -> bytes:
    header = (
        b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('bracket'),'2;1');\nFILE_NAME('bracket.stp','2026-11-21',(''),(''),'','','');\n"
        b"FILE_SCHEMA(('AUTOMOTIVE_DESIGN'));\nENDSEC;\nDATA;\n"
    )
    body = bytearray(header)
    number = 1
    while len(body) < size:
        body += b"#%d=CARTESIAN_POINT('',(%d.0,%d.5,0.));\n" % (number, number % 997, number % 89)
        number += 1
    return bytes(body) + b"ENDSEC;\nEND-ISO-10303-21;\n"


def svg_with_script() -> bytes:
    return b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


def html_page() -> bytes:
    return b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me')</script></body></html>"


def jpeg_html_polyglot() -> bytes:
    """A real JPEG whose comment segment carries a script."""
    image = jpeg()
    comment = b"<script>alert(document.domain)</script>"
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return image[:2] + segment + image[2:]


def pdf_zip_polyglot() -> bytes:
    """A PDF with a ZIP archive glued to its end (both readers open it)."""
    archive = _ooxml({"payload.html": b"<html><script>alert(1)</script></html>"})
    return pdf() + archive


def png_pdf_polyglot() -> bytes:
    """A PNG with a PDF header in its first kilobyte (a text chunk)."""
    image = png()
    data = b"Comment\x00%PDF-1.7 1 0 obj << >> endobj"
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)
    return image[:33] + chunk + image[33:]


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels."""
    signature = b"\x89PNG\r\n\x1a\n"
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * 16
    idat = zlib.compress(row * 16, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return signature + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@dataclass(frozen=True)
class Hostile:
    label: str
    data: bytes
    name: str
    declared: str
    category: str
    code: str  # the refusal's error code


def hostile_corpus() -> list[Hostile]:
    """Every file here must be refused, each with its own reason."""
    return [
        Hostile("jpeg+html polyglot", jpeg_html_polyglot(), "photo.jpg", "image/jpeg", "photo", "file_polyglot"),
        Hostile("pdf+zip polyglot", pdf_zip_polyglot(), "spec.pdf", "application/pdf", "spec", "file_polyglot"),
        Hostile("png+pdf polyglot", png_pdf_polyglot(), "scan.png", "image/png", "photo", "file_polyglot"),
        Hostile("png named .pdf", png(), "certificate.pdf", "application/octet-stream", "material_certificate", "file_name_mismatch"),
        Hostile("png declared as pdf", png(), "certificate.png", "application/pdf", "material_certificate", "file_type_mismatch"),
        Hostile("pdf in the photo category", pdf(), "photo.pdf", "application/pdf", "photo", "file_type_not_allowed"),
        Hostile("decompression bomb", png_bomb(), "huge.png", "image/png", "photo", "image_too_large"),
        Hostile("svg with script", svg_with_script(), "drawing.svg", "image/svg+xml", "drawing", "file_active_content"),
        Hostile("html page", html_page(), "report.html", "text/html", "other", "file_active_content"),
        Hostile("html named .pdf", html_page(), "report.pdf", "application/pdf", "other", "file_active_content"),
        Hostile("pdf with javascript", pdf_with_javascript(), "spec.pdf", "application/pdf", "spec", "file_active_content"),
        Hostile(
            "pdf with open-action javascript",
            pdf_with_open_action_javascript(),
            "spec.pdf",
            "application/pdf",
            "spec",
            "file_active_content",
        ),
        Hostile(
            "pdf with launch action", pdf_with_launch_action_in_annotation(), "spec.pdf", "application/pdf", "spec", "file_active_content"
        ),
        Hostile("macro workbook named .xlsx", xlsm(), "prices.xlsx", "", "other", "file_active_content"),
        Hostile("truncated pdf", pdf()[:200], "spec.pdf", "application/pdf", "spec", "file_damaged"),
        Hostile("truncated png", png()[:60], "photo.png", "image/png", "photo", "file_damaged"),
        Hostile("unknown binary", b"\x7fELF" + b"\x00" * 200, "tool.pdf", "application/pdf", "other", "file_type_unknown"),
        Hostile("empty file", b"", "empty.pdf", "application/pdf", "other", "file_empty"),
        Hostile("traversal name", pdf(), "../../etc/passwd.pdf", "application/pdf", "spec", "file_name_invalid"),
        Hostile("windows traversal name", pdf(), "..\\..\\boot.pdf", "application/pdf", "spec", "file_name_invalid"),
        Hostile("control character name", pdf(), "spec\r\nX-Injected: 1.pdf", "application/pdf", "spec", "file_name_invalid"),
        Hostile("bidi override name", jpeg(), "invoice\u202egpj.exe.jpg", "image/jpeg", "photo", "file_name_invalid"),
        Hostile("nul in name", pdf(), "spec\x00.pdf", "application/pdf", "spec", "file_name_invalid"),
    ]


def good_files() -> list[tuple[str, bytes, str, str, str]]:
    """(label, data, name, declared type, category) that must be accepted."""
    return [
        ("png photo", png(), "photo.png", "image/png", "photo"),
        ("jpeg photo", jpeg(), "IMG_0001.JPG", "image/jpeg", "photo"),
        ("webp photo", webp(), "shot.webp", "image/webp", "photo"),
        ("heic photo", heic(), "IMG_0002.HEIC", "image/heic", "photo"),
        ("pdf spec", pdf(2), "spec.pdf", "application/pdf", "spec"),
        ("docx spec", docx(), "spec.docx", "", "spec"),
        ("xlsx report", xlsx(), "report.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "inspection_report"),
        ("dxf drawing", dxf(), "part.dxf", "", "drawing"),
        ("dwg drawing", dwg(), "part.dwg", "application/octet-stream", "drawing"),
        ("step drawing", step(), "part.step", "", "drawing"),
        ("stp drawing", step(), "part.stp", "model/step", "drawing"),
        ("chinese name", pdf(), "检验报告 2026.pdf", "application/pdf", "inspection_report"),
    ]


def stage(storage: Any, data: bytes, name: str, declared: str) -> Any:
    """A file as the upload intake leaves it: in the storage's staging folder,
    measured and hashed (for seeding through the services)."""
    import hashlib
    import uuid

    from portal.documents.intake import StagedFile

    path = storage.staging_dir() / f"upload-{uuid.uuid4()}"
    path.write_bytes(data)
    return StagedFile(
        path=path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        filename=name,
        declared_type=declared,
    )


async def seed_document(supplier_id: Any, *, render_preview: bool = True) -> tuple[Any, Any]:
    """A photo shared with ``supplier_id``, stored through the services in the
    acting tenant (and its preview rendered); returns (document id, version id)."""
    from portal.documents import previews
    from portal.documents.services import new_document_target, store_upload
    from portal.documents.storage import open_storage
    from portal.settings import get_settings

    storage = open_storage(get_settings())
    target = await new_document_target("supplier", supplier_id, "photo", "Seeded photo")
    document = await store_upload(storage, target, stage(storage, png(), "photo.png", "image/png"))
    assert document.current is not None
    if render_preview:
        await previews.render_preview(storage, document.current.id)
    return document.id, document.current.id
