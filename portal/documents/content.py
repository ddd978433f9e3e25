"""Checks by content, not by name: what a file really is, whether it may be
kept, and a safe name for it.

Everything here is synchronous and reads from a seekable binary stream (a
local file, or ranged reads of an S3 object): call it in a worker thread.
Each refusal is a ``FileRefused`` with a catalog message, translated where
the user sees it.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any

from portal.errors import DomainError
from portal.i18n import N_

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 64 * 1024
# Pillow refuses at twice its own limit; ours is checked first, before any
# pixel is decoded. 120 MP covers the largest phone cameras in use.
MAX_IMAGE_PIXELS = 120_000_000
MAX_NAME_LENGTH = 255
SAFE_NAME_LENGTH = 120
# A PDF whose object graph is larger than this is refused rather than walked.
PDF_OBJECT_BUDGET = 200_000
OOXML_MAX_ENTRIES = 20_000
CONTENT_TYPES_MAX_BYTES = 1024 * 1024


class Kind(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIC = "heic"
    PDF = "pdf"
    XLSX = "xlsx"
    DOCX = "docx"
    DXF = "dxf"
    DWG = "dwg"
    STEP = "step"


@dataclass(frozen=True)
class KindInfo:
    content_type: str
    extensions: tuple[str, ...]
    # MIME types a browser or client may declare for this kind. An empty or
    # generic declaration (application/octet-stream) is accepted for any
    # kind: browsers send it for drawings they do not know.
    declared: tuple[str, ...]
    label: str


KINDS: dict[Kind, KindInfo] = {
    Kind.JPEG: KindInfo("image/jpeg", ("jpg", "jpeg", "jpe", "jfif"), ("image/jpeg", "image/pjpeg", "image/jpg"), "JPEG"),
    Kind.PNG: KindInfo("image/png", ("png",), ("image/png", "image/x-png"), "PNG"),
    Kind.WEBP: KindInfo("image/webp", ("webp",), ("image/webp",), "WebP"),
    Kind.HEIC: KindInfo("image/heic", ("heic", "heif"), ("image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"), "HEIC"),
    Kind.PDF: KindInfo("application/pdf", ("pdf",), ("application/pdf", "application/x-pdf"), "PDF"),
    Kind.XLSX: KindInfo(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip", "application/x-zip-compressed"),
        "XLSX",
    ),
    Kind.DOCX: KindInfo(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip", "application/x-zip-compressed"),
        "DOCX",
    ),
    Kind.DXF: KindInfo(
        "image/vnd.dxf", ("dxf",), ("image/vnd.dxf", "application/dxf", "image/x-dxf", "application/x-dxf", "text/plain"), "DXF"
    ),
    Kind.DWG: KindInfo(
        "image/vnd.dwg", ("dwg",), ("image/vnd.dwg", "application/acad", "application/dwg", "image/x-dwg", "application/x-dwg"), "DWG"
    ),
    Kind.STEP: KindInfo(
        "model/step", ("step", "stp"), ("model/step", "application/step", "application/x-step", "model/x-step", "text/plain"), "STEP"
    ),
}
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})
IMAGE_KINDS = frozenset({Kind.JPEG, Kind.PNG, Kind.WEBP, Kind.HEIC})
PHOTO_KINDS = IMAGE_KINDS
OFFICE_KINDS = frozenset({Kind.XLSX, Kind.DOCX})
CAD_KINDS = frozenset({Kind.DXF, Kind.DWG, Kind.STEP})


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    kinds: frozenset[Kind]
    limit_mb: int


_ALL = frozenset(Kind)
CATEGORIES: dict[str, Category] = {
    category.key: category
    for category in (
        Category("drawing", N_("Drawing"), CAD_KINDS | {Kind.PDF, Kind.PNG, Kind.JPEG, Kind.WEBP}, 200),
        Category("spec", N_("Specification"), frozenset({Kind.PDF, Kind.DOCX, Kind.XLSX}), 50),
        Category("material_certificate", N_("Material certificate"), PHOTO_KINDS | {Kind.PDF}, 25),
        Category("inspection_report", N_("Inspection report"), PHOTO_KINDS | OFFICE_KINDS | {Kind.PDF}, 50),
        Category("photo", N_("Photo"), PHOTO_KINDS, 25),
        Category("packing_list", N_("Packing list"), PHOTO_KINDS | OFFICE_KINDS | {Kind.PDF}, 25),
        Category("invoice", N_("Invoice"), PHOTO_KINDS | {Kind.PDF, Kind.XLSX}, 25),
        Category("other", N_("Other"), _ALL, 50),
    )
}


# -- refusals -----------------------------------------------------------------


class FileRefused(DomainError):
    status_code = 422
    code = "file_refused"
    message = N_("This file cannot be accepted.")


class EmptyFile(FileRefused):
    code = "file_empty"
    message = N_("The file is empty.")


class FileTooLarge(FileRefused):
    status_code = 413
    code = "file_too_large"
    message = N_("The file is larger than %(limit)s MB, the limit for this category.")


class UnknownFileType(FileRefused):
    code = "file_type_unknown"
    message = N_("This kind of file is not accepted. Use JPEG, PNG, WebP, HEIC, PDF, XLSX, DOCX, DXF, DWG or STEP.")


class TypeNotAllowed(FileRefused):
    code = "file_type_not_allowed"
    message = N_("A %(kind)s file is not accepted in this category.")


class TypeMismatch(FileRefused):
    code = "file_type_mismatch"
    message = N_("The file says it is %(declared)s, but its content is %(kind)s.")


class ExtensionMismatch(FileRefused):
    code = "file_name_mismatch"
    message = N_("The file name ends in .%(extension)s, but its content is %(kind)s. Rename the file and try again.")


class ActiveContent(FileRefused):
    code = "file_active_content"
    message = N_("The file contains scripts or active content, which are not accepted.")


class PolyglotFile(FileRefused):
    code = "file_polyglot"
    message = N_("The file contains a second, hidden file of another type, which is not accepted.")


class ImageTooLarge(FileRefused):
    code = "image_too_large"
    message = N_("The image is too large to process (more than %(megapixels)s megapixels).")


class DamagedFile(FileRefused):
    code = "file_damaged"
    message = N_("The file is damaged or not a valid %(kind)s file.")


class EncryptedFile(FileRefused):
    code = "file_encrypted"
    message = N_("The file is password-protected. Upload a copy without a password.")


class BadFileName(FileRefused):
    code = "file_name_invalid"
    message = N_("The file name contains folder names or control characters. Rename the file and try again.")


# -- names --------------------------------------------------------------------


@dataclass(frozen=True)
class FileName:
    original: str  # for display; never used as a path or in a header
    safe: str  # for Content-Disposition and anything file-system-like


# Cc: control characters; Cf: format characters, including the bidi
# overrides that make "invoice\u202egpj.exe" read as "invoiceexe.jpg".
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_UNSAFE_CHARACTERS = re.compile(r'[<>:"|?*;,%\'`$&{}\[\]=+#]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def check_name(name: str) -> FileName:
    """Refuse names that try to be paths (separators, ``..``) or carry
    control characters; make a safe name from everything else."""
    original = unicodedata.normalize("NFC", name or "").strip()
    if len(original) > MAX_NAME_LENGTH:
        raise BadFileName(N_("The file name is longer than %(max)s characters. Rename the file and try again."), max=MAX_NAME_LENGTH)
    if not original:
        raise BadFileName()
    if "/" in original or "\\" in original or original in (".", ".."):
        raise BadFileName()
    if any(unicodedata.category(character) in _FORBIDDEN_CATEGORIES for character in original):
        raise BadFileName()
    return FileName(original=original, safe=safe_name(original))


def safe_name(original: str) -> str:
    stem, dot, extension = original.rpartition(".")
    if not dot or not stem:
        stem, extension = original, ""
    extension = re.sub(r"[^A-Za-z0-9]", "", extension)[:10].lower()
    stem = _UNSAFE_CHARACTERS.sub("_", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" .")
    if not stem or _WINDOWS_RESERVED.match(stem):
        stem = "file" if not stem else f"file_{stem}"
    room = SAFE_NAME_LENGTH - (len(extension) + 1 if extension else 0)
    stem = stem[:room].rstrip(" .") or "file"
    return f"{stem}.{extension}" if extension else stem


def extension_of(name: str) -> str:
    _, dot, extension = name.rpartition(".")
    return extension.lower() if dot else ""


# -- detection ----------------------------------------------------------------

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"})
_DWG = re.compile(rb"^AC1(0[0-3][0-9]|01[0-9])")
_STEP = re.compile(rb"^(\xef\xbb\xbf)?\s*ISO-10303-21\s*;")
_DXF_ASCII = re.compile(rb"^(\xef\xbb\xbf)?\s*0\s*\r?\n\s*SECTION\s*\r?\n")
_DXF_BINARY = b"AutoCAD Binary DXF\r\n\x1a\x00"
# Markup a browser would run. Every pattern is long enough (6+ fixed bytes)
# that compressed image data matches it by chance less than once in 10^5
# large photos. Searched on lower-cased bytes: each marker is first found
# with a plain substring search (fast), then the pattern is checked there.
_MARKUP = re.compile(
    rb"<(script|iframe|object|embed)[\s>/]|<html[\s>]|<!doctype\s+html|<\?xml-stylesheet|javascript:"
    rb"|<svg[^>]{0,256}?(xmlns|\son\w+\s*=)|\son(error|load|click|mouseover|focus)\s*="
)
_MARKERS = (
    b"<script",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<html",
    b"<!doctype",
    b"<?xml-stylesheet",
    b"javascript:",
    b"<svg",
    b"onerror",
    b"onload",
    b"onclick",
    b"onmouseover",
    b"onfocus",
)


def has_markup(data: bytes) -> bool:
    lowered = data.lower()
    for marker in _MARKERS:
        position = lowered.find(marker)
        while position != -1:
            # The event-handler patterns start with the whitespace before them.
            if _MARKUP.match(lowered, position) or (position and _MARKUP.match(lowered, position - 1)):
                return True
            position = lowered.find(marker, position + 1)
    return False


_PDF_HEADER = b"%PDF-"
# PDF readers look for their header anywhere in the first kilobyte.
PDF_HEADER_WINDOW = 1024


def detect(head: bytes) -> Kind | None:
    """The kind of file these first bytes start, by magic number only."""
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Kind.WEBP
    if head[4:8] == b"ftyp" and _heif_brand(head):
        return Kind.HEIC
    if head.startswith(_PDF_HEADER):
        return Kind.PDF
    if head.startswith(b"PK\x03\x04"):
        return Kind.DOCX  # refined to DOCX or XLSX from the archive's parts
    if _DWG.match(head):
        return Kind.DWG
    if head.startswith(_DXF_BINARY) or _DXF_ASCII.match(head[:4096]):
        return Kind.DXF
    if _STEP.match(head[:4096]):
        return Kind.STEP
    return None


def _heif_brand(head: bytes) -> bool:
    (box_size,) = struct.unpack(">I", head[:4]) if len(head) >= 4 else (0,)
    if box_size < 16 or box_size > len(head):
        return head[8:12] in _HEIF_BRANDS
    brands = [head[8:12]] + [head[offset : offset + 4] for offset in range(16, box_size, 4)]
    return any(brand in _HEIF_BRANDS for brand in brands)


def looks_like_markup(head: bytes) -> bool:
    """SVG, HTML and XML documents: what a browser would render as a page."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    return start.startswith((b"<", b"<?xml")) or has_markup(head[:4096])


def has_zip_trailer(tail: bytes) -> bool:
    """A valid ZIP end-of-central-directory record ending exactly at the end
    of the file: the mark of a ZIP archive glued behind another file."""
    position = tail.rfind(b"PK\x05\x06")
    while position != -1:
        if len(tail) - position >= 22:
            (comment_length,) = struct.unpack("<H", tail[position + 20 : position + 22])
            if position + 22 + comment_length == len(tail):
                return True
        position = tail.rfind(b"PK\x05\x06", 0, position)
    return False


# -- inspection ---------------------------------------------------------------


@dataclass(frozen=True)
class Inspection:
    kind: Kind
    content_type: str
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.kind in IMAGE_KINDS


def check_size(size: int, category: str, limits: dict[str, int]) -> None:
    if size <= 0:
        raise EmptyFile()
    limit = limits[category]
    if size > limit:
        raise FileTooLarge(limit=limit // (1024 * 1024))


def check_declaration(kind: Kind, declared_type: str, name: FileName, category: str) -> None:
    """The content decides; the declared type and the name's extension must
    agree with it, and the category must allow it."""
    info = KINDS[kind]
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in GENERIC_TYPES and declared not in info.declared:
        raise TypeMismatch(declared=declared, kind=info.label)
    extension = extension_of(name.original)
    if extension not in info.extensions:
        raise ExtensionMismatch(extension=extension or "-", kind=info.label)
    if kind not in CATEGORIES[category].kinds:
        raise TypeNotAllowed(kind=info.label)


def expected_kind(declared_type: str, name: str) -> Kind | None:
    """The kind a declaration promises (used to refuse early, before any byte
    is uploaded); None when it promises nothing we accept."""
    extension = extension_of(name)
    declared = (declared_type or "").split(";")[0].strip().lower()
    for kind, info in KINDS.items():
        if extension in info.extensions and (declared in GENERIC_TYPES or declared in info.declared):
            return kind
    return None


def inspect(stream: IO[bytes], size: int, *, declared_type: str, name: FileName, category: str) -> Inspection:
    """Decide what the file is and refuse it unless it is safe to keep.

    What is read: the first 64 KiB (type by magic number; markup), the last
    64 KiB (a ZIP archive glued behind; markup), and what the format's check
    needs: images entirely (markup hidden anywhere makes a polyglot; header
    and structure), PDFs their cross-reference table and the objects of the
    catalog, pages, annotations, names, outlines and forms (not page
    content, fonts or images), XLSX/DOCX their central directory and
    [Content_Types].xml. Nothing else: the same on local files and on
    ranged reads of S3 objects. Downloads are never rendered by a browser
    (attachment, exact type, nosniff, sandbox), so markup deep inside a
    drawing or a PDF is inert; at its start it would be a page, and is
    refused.
    """
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    if not head:
        raise EmptyFile()
    kind = detect(head)
    if kind is None:
        if looks_like_markup(head):
            raise ActiveContent()
        raise UnknownFileType()
    if kind == Kind.DOCX:
        kind = _office_kind(stream)
    check_declaration(kind, declared_type, name, category)
    _scan_for_hidden_content(stream, size, kind, head, whole=kind in IMAGE_KINDS)
    if kind in IMAGE_KINDS:
        return _inspect_image(stream, kind)
    if kind == Kind.PDF:
        _inspect_pdf(stream)
    return Inspection(kind=kind, content_type=KINDS[kind].content_type)


def _every_chunk(stream: IO[bytes]) -> Iterator[bytes]:
    """All the bytes, in overlapping chunks, so a marker across a boundary is found."""
    overlap = 64
    stream.seek(0)
    previous = b""
    while chunk := stream.read(1024 * 1024):
        yield previous + chunk
        previous = chunk[-overlap:]


def _scan_for_hidden_content(stream: IO[bytes], size: int, kind: Kind, head: bytes, *, whole: bool) -> None:
    if kind != Kind.PDF and _PDF_HEADER in head[:PDF_HEADER_WINDOW]:
        raise PolyglotFile()
    if kind in OFFICE_KINDS:
        return  # the parts of an Office file are compressed XML: nothing to scan
    stream.seek(max(0, size - TAIL_BYTES - 22))
    tail = stream.read(TAIL_BYTES + 22)
    if has_zip_trailer(tail):
        raise PolyglotFile()
    for chunk in _every_chunk(stream) if whole else (head, tail):
        if has_markup(chunk):
            raise PolyglotFile() if kind in IMAGE_KINDS else ActiveContent()


def _office_kind(stream: IO[bytes]) -> Kind:
    """XLSX or DOCX from the archive's part names; refuses macros and
    ActiveX (active content) and archives that are neither. Reads the
    central directory and [Content_Types].xml, never the other parts."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > OOXML_MAX_ENTRIES:
                raise DamagedFile(kind="XLSX/DOCX")
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names:
                raise UnknownFileType()
            lowered = {name.lower() for name in names}
            if any(name.endswith("vbaproject.bin") or "/activex/" in name or name.endswith(".bin") for name in lowered):
                raise ActiveContent()
            with archive.open("[Content_Types].xml") as part:
                content_types = part.read(CONTENT_TYPES_MAX_BYTES + 1)
    except zipfile.BadZipFile:
        raise DamagedFile(kind="XLSX/DOCX") from None
    if len(content_types) > CONTENT_TYPES_MAX_BYTES or b"macroenabled" in content_types.lower():
        raise ActiveContent()
    if "word/document.xml" in names:
        return Kind.DOCX
    if "xl/workbook.xml" in names:
        return Kind.XLSX
    raise UnknownFileType()


def _inspect_image(stream: IO[bytes], kind: Kind) -> Inspection:
    from PIL import Image, UnidentifiedImageError

    from portal.documents import imaging

    imaging.setup(kind)
    stream.seek(0)
    label = KINDS[kind].label
    try:
        with Image.open(stream, formats=[imaging.PIL_FORMATS[kind]]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageTooLarge(megapixels=MAX_IMAGE_PIXELS // 1_000_000)
            # Structure and checksums, without decoding the pixels: the
            # decode happens when the preview is rendered, off the request.
            image.verify()
    except Image.DecompressionBombError:
        raise ImageTooLarge(megapixels=MAX_IMAGE_PIXELS // 1_000_000) from None
    except FileRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError):
        raise DamagedFile(kind=label) from None
    return Inspection(kind=kind, content_type=KINDS[kind].content_type, width=width, height=height)


# Keys that never lead to an action but may hold large streams (page
# content, fonts, images, metadata, embedded file data, structure trees).
_PDF_SKIP_KEYS = frozenset(
    {"/Parent", "/Contents", "/Resources", "/Thumb", "/Metadata", "/FontFile", "/FontFile2", "/FontFile3", "/EF", "/StructTreeRoot"}
)
_PDF_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute"})
_PDF_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/XFA", "/RichMedia"})


def _inspect_pdf(stream: IO[bytes]) -> None:
    """Parse the PDF and refuse JavaScript, launch actions, XFA forms and
    rich media anywhere in its object graph (catalog, names, outlines,
    pages, annotations, form fields), without reading page content."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    stream.seek(0)
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedFile()
        _walk_pdf(reader.trailer["/Root"])
    except FileRefused:
        raise
    except (PdfReadError, PyPdfError, KeyError, ValueError, TypeError, AttributeError, IndexError, RecursionError, OSError, struct.error):
        raise DamagedFile(kind="PDF") from None
    except NotImplementedError:
        # pypdf knows no decoder for this encryption: we cannot check it.
        raise EncryptedFile() from None


def _walk_pdf(root: Any) -> None:
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    seen: set[tuple[int, int]] = set()
    pending: list[Any] = [root]
    visited = 0
    while pending:
        node = pending.pop()
        if isinstance(node, IndirectObject):
            reference = (node.idnum, node.generation)
            if reference in seen:
                continue
            seen.add(reference)
            node = node.get_object()
        visited += 1
        if visited > PDF_OBJECT_BUDGET:
            raise DamagedFile(kind="PDF")
        if isinstance(node, DictionaryObject):
            keys = set(node.keys())
            if keys & _PDF_ACTIVE_KEYS or str(node.get("/S", "")) in _PDF_ACTIVE_ACTIONS:
                raise ActiveContent()
            pending.extend(value for key, value in node.items() if key not in _PDF_SKIP_KEYS)
        elif isinstance(node, ArrayObject):
            pending.extend(node)
