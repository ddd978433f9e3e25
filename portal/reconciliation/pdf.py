"""Statement PDFs, rendered only by the ``statements.pdf`` job.

Asking for the PDF of a statement queues one rendering of its current
version (finalizing queues the final one); the job lays out
``templates/reconciliation/statement_pdf.html`` with WeasyPrint on a thread
of its own at a lower CPU priority (requests come first), in a child
process of the job runner (the job is ``cpu_bound``), moves the
rendering's progress as it goes (the statement page
polls it), and archives the bytes as an immutable document with their
SHA-256. Downloads serve those archived bytes, checked against the hash, so
a finalized statement's PDF is the same file on every download.

A version's content never changes, so one rendering per version is all
there is. The render is deterministic as well: the PDF's dates are the
statement's last change and its file identifier derives from the statement
and version, never from the clock or chance (WeasyPrint writes no dates of
its own and no identifier unless told), so rendering the same version again
gives the same bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any
from uuid import UUID, uuid4

import structlog

from portal import weasy
from portal.audit.services import record
from portal.documents.content import Kind
from portal.documents.services import Target, store_generated, version_row
from portal.documents.storage import content_disposition, process_storage
from portal.errors import Conflict
from portal.i18n import N_, format_datetime, format_exact, format_money, format_number, gettext, use_locale
from portal.jobs import enqueue
from portal.reconciliation import services, states
from portal.reconciliation.capital import capital_amount
from portal.reconciliation.exporting import KIND_LABELS
from portal.reconciliation.schemas import LineOut, PdfOut, StatementOut
from portal.reconciliation.tables import Statement, StatementPdf
from tenants.context import current, operator_context, system_scope, tenant_scope
from tenants.scoping import scoped
from tenants.tables import Supplier, Tenant

log = structlog.get_logger(__name__)

QUEUED, RENDERING, READY, FAILED = "queued", "rendering", "ready", "failed"
TEMPLATE = "reconciliation/statement_pdf.html"
FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans CJK", sans-serif'
# How much lower the rendering thread's CPU priority is than the process's.
RENDER_NICENESS = 10


def _lower_priority() -> None:
    """A rendering takes a core for tens of seconds; requests served on the
    same cores (by this process's other threads or by another process)
    must come first. On Linux the nice value belongs to the thread, so only
    the renderer yields; other systems render at the process's priority."""
    if sys.platform.startswith("linux"):
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + RENDER_NICENESS)


# One rendering at a time per process: a 5,000-line statement takes a core
# for tens of seconds, and the process has other work.
_RENDERERS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="statement-pdf", initializer=_lower_priority)


class PdfNotRendered(Conflict):
    code = "pdf_not_rendered"
    message = N_("The PDF of this statement is not rendered yet: ask for it, then download it when it is ready.")


class PdfRendering(Conflict):
    code = "pdf_rendering"
    message = N_("The PDF of this statement is being rendered (%(progress)s %%). Try again in a moment.")


class PdfFailed(Conflict):
    code = "pdf_failed"
    message = N_("The PDF of this statement could not be rendered. Ask for it again.")


class PdfDamaged(Conflict):
    status_code = 500
    code = "pdf_damaged"
    message = N_("The archived PDF does not match its recorded hash. Ask for it again.")


def _out(row: dict[str, Any] | None, version: int) -> PdfOut:
    if row is None:
        return PdfOut(status="none", statement_version=version)
    return PdfOut(
        status=row["status"],
        statement_version=row["statement_version"],
        progress=row["progress"],
        pages=row["pages"],
        size=row["size"],
        sha256=row["sha256"],
        requested_at=row["requested_at"],
        rendered_at=row["rendered_at"],
    )


async def _rendering(statement_id: UUID, version: int) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await scoped(StatementPdf).select().where(StatementPdf.statement == statement_id, StatementPdf.statement_version == version).first()
    )
    return row


async def pdf_of(statement: Statement) -> PdfOut:
    return _out(await _rendering(statement.id, statement.version), statement.version)


async def pdf_status(statement_id: UUID | str) -> PdfOut:
    """The rendering of the statement's current version, if asked for."""
    services._require("statements.view")
    statement = await scoped(Statement).get(statement_id)
    return _out(await _rendering(statement.id, statement.version), statement.version)


async def request_pdf(statement_id: UUID | str) -> PdfOut:
    """Queue the rendering of the statement's current version, once: asking
    again while it is queued, rendering or ready changes nothing; a failed
    rendering is queued again."""
    context = services._require("statements.view")
    statement = await scoped(Statement).get(statement_id)
    return await _queue(statement, context.user_id)


async def _queue(statement: Statement, user_id: UUID | None) -> PdfOut:
    row = await _rendering(statement.id, statement.version)
    if row is not None and row["status"] != FAILED:
        return _out(row, statement.version)
    if row is None:
        pdf_id = uuid4()
        asked = scoped(StatementPdf).new(
            id=pdf_id, statement=statement.id, supplier=statement.supplier, statement_version=statement.version, requested_by=user_id
        )
        # Asked for twice at once (a double tap): the second insert waits for
        # the first to commit and stores nothing; that rendering is the one.
        stored = await (
            StatementPdf.insert(asked)
            .on_conflict(target=(StatementPdf.tenant, StatementPdf.statement, StatementPdf.statement_version), action="DO NOTHING")
            .returning(StatementPdf.id)
        )
        if not stored:
            return _out(await _rendering(statement.id, statement.version), statement.version)
    else:
        pdf_id = row["id"]
        retried = (
            await scoped(StatementPdf)
            .update({StatementPdf.status: QUEUED, StatementPdf.progress: 0, StatementPdf.error: "", StatementPdf.requested_by: user_id})
            .where(StatementPdf.id == pdf_id, StatementPdf.status == FAILED)
            .returning(StatementPdf.id)
        )
        if not retried:
            return _out(await _rendering(statement.id, statement.version), statement.version)
    await enqueue("statements.pdf", {"pdf_id": pdf_id}, tenant=current().tenant_id)
    return _out(await _rendering(statement.id, statement.version), statement.version)


async def queue_final_pdf(statement_id: UUID) -> None:
    """Finalizing renders the final PDF (in the finalizing transaction: the
    job exists exactly when the statement is final)."""
    statement = await scoped(Statement).get(statement_id)
    await _queue(statement, current().user_id)


@dataclass(frozen=True)
class PdfFile:
    content: bytes
    filename: str
    sha256: str

    @property
    def disposition(self) -> str:
        return content_disposition("attachment", self.filename)


async def download_pdf(statement_id: UUID | str) -> PdfFile:
    """The archived PDF of the statement's current version, exactly the
    bytes whose hash was recorded; a conflict naming the rendering's state
    when there is none yet."""
    services._require("statements.view")
    statement = await scoped(Statement).get(statement_id)
    row = await _rendering(statement.id, statement.version)
    if row is None:
        raise PdfNotRendered()
    if row["status"] in (QUEUED, RENDERING):
        raise PdfRendering(progress=row["progress"])
    if row["status"] != READY or row["document"] is None:
        raise PdfFailed()
    version = await version_row(row["document"])
    data = await process_storage().read_bytes(version.storage_key)
    if data is None or hashlib.sha256(data).hexdigest() != row["sha256"]:
        log.error("statement_pdf_damaged", statement=str(statement.id), document=str(row["document"]))
        raise PdfDamaged()
    return PdfFile(data, version.original_name, row["sha256"])


# ---------------------------------------------------------------- the job


async def render_job(payload: dict[str, Any]) -> None:
    """The ``statements.pdf`` job: one rendering. Runs again harmlessly: a
    rendering already ready is left alone, and of two runs racing only the
    first to finish archives its bytes."""
    pdf_id = UUID(str(payload["pdf_id"]))
    async with system_scope("statement-pdf"):
        row = await StatementPdf.objects().where(StatementPdf.id == pdf_id).first()
        tenant = await Tenant.objects().where(Tenant.id == row.tenant).first() if row else None
    if row is None or tenant is None or row.status == READY:
        return
    context = operator_context(tenant, "statement-pdf")
    try:
        await _render(row, tenant, context)
    except Exception as exc:
        async with tenant_scope(context):
            await _move(pdf_id, status=FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise


async def _move(pdf_id: UUID, **values: Any) -> bool:
    columns = {getattr(StatementPdf, name): value for name, value in values.items()}
    moved = (
        await scoped(StatementPdf).update(columns).where(StatementPdf.id == pdf_id, StatementPdf.status != READY).returning(StatementPdf.id)
    )
    return bool(moved)


async def _render(row: StatementPdf, tenant: Tenant, context: Any) -> None:
    async with tenant_scope(context):
        statement = await services.get_statement(row.statement)
        if statement.version != row.statement_version:
            # The statement moved on: this version's PDF is of no use.
            await _move(row.id, status=FAILED, error="superseded by a later version of the statement")
            return
        supplier = await scoped(Supplier).get(statement.supplier_id)
        await _move(row.id, status=RENDERING, progress=5)
    html = statement_html(statement, tenant, supplier)
    loop = asyncio.get_running_loop()
    document = await loop.run_in_executor(_RENDERERS, layout, html)
    async with tenant_scope(context):
        await _move(row.id, progress=60, pages=len(document.pages))
    data = await loop.run_in_executor(_RENDERERS, write, document, identifier(statement))
    sha256 = hashlib.sha256(data).hexdigest()
    async with tenant_scope(context):
        await _move(row.id, progress=90)
    async with tenant_scope(context):
        # Claims the rendering first: of two racing runs, the second stops here.
        if not await _move(row.id, status=READY, progress=100, sha256=sha256, size=len(data), rendered_at=datetime.now(UTC)):
            return
        supplier_id = await services.statement_attachment_supplier(statement.id)
        title = gettext_in(tenant.locale, N_("Statement %(period)s"), period=statement.period)
        target = Target(
            uuid4(), True, "statement", statement.id, supplier_id, "other", f"{title} · {statement.currency} · v{statement.version}"
        )
        archived = await store_generated(process_storage(), target, _filename(statement, supplier), data, Kind.PDF)
        await scoped(StatementPdf).update({StatementPdf.document: archived.id}).where(StatementPdf.id == row.id)
        if statement.status == states.Status.FINALIZED.value:
            await (
                scoped(Statement)
                .update({Statement.pdf_document: archived.id, Statement.pdf_sha256: sha256})
                .where(Statement.id == statement.id)
            )
        await record(
            "statement.pdf",
            entity_type="statement",
            entity_id=statement.id,
            after={"version": statement.version, "document": str(archived.id), "sha256": sha256, "size": len(data)},
        )
    log.info("statement_pdf_rendered", statement=str(statement.id), version=statement.version, size=len(data), pages=len(document.pages))


def _filename(statement: StatementOut, supplier: Supplier) -> str:
    code = "".join(character if character.isalnum() or character in "-_" else "_" for character in supplier.code)
    return f"statement-{statement.period}-{code}-{statement.currency}.pdf"


def gettext_in(locale: str, message: str, **params: Any) -> str:
    with use_locale(locale):
        return gettext(message, **params)


def identifier(statement: StatementOut) -> bytes:
    """The PDF's file identifier: the same for every render of one version."""
    return hashlib.sha256(f"statement:{statement.id}:{statement.version}".encode()).hexdigest()[:32].encode()


# ---------------------------------------------------------------- the document


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


@cache
def _environment() -> Any:
    from portal.templating import build_environment

    return build_environment()


def _last_change(statement: StatementOut) -> datetime:
    times = [statement.computed_at, *(step.at for step in statement.steps)]
    return max(time if time.tzinfo else time.replace(tzinfo=UTC) for time in times)


# The line tables' columns, in order; the numbers align right.
LINE_COLUMNS = (
    N_("Line"),
    N_("Date"),
    N_("Reference"),
    N_("Item code"),
    N_("Item name"),
    N_("Quantity"),
    N_("Unit"),
    N_("Unit price"),
    N_("Amount"),
    N_("Agreement"),
)
NUMERIC_COLUMNS = frozenset({0, 5, 7, 8})
# The columns whose text may wrap when the table is too narrow for every
# text on one line, the first to give way first: reference, item name, date.
WRAPPING_COLUMNS = (2, 4, 1)
# The page's text width (A4 less the template's side margins) in em of the
# body's 8.5 pt (3 mm); a cell's padding (1 mm each side) and a little room.
TEXT_WIDTH_EM = (210 - 2 * 10) / 3.0
CELL_PADDING_EM = 2 / 3.0 + 0.15
# A wrapping column is never narrowed below this.
MIN_WRAPPING_EM = 6.0
NOTE_SCALE = 7.5 / 8.5


@dataclass(frozen=True)
class PrintedLine:
    """A statement line as its PDF row prints it: every cell's text."""

    cells: tuple[str, ...]
    note: str


# Advance widths (per mille of the em) of Noto Sans CJK's printable ASCII,
# space (32) to tilde (126), from the font's hmtx table.
ASCII_WIDTHS = (
    224, 323, 474, 555, 555, 921, 680, 278, 338, 338, 467, 555, 278, 347, 278, 392, 555, 555, 555, 555,
    555, 555, 555, 555, 555, 555, 278, 278, 555, 555, 555, 474, 946, 608, 657, 638, 688, 589, 552, 689,
    728, 293, 535, 646, 543, 812, 723, 742, 633, 742, 635, 596, 599, 721, 575, 878, 573, 531, 603, 338,
    392, 338, 555, 559, 606, 563, 618, 510, 620, 554, 325, 564, 607, 275, 275, 552, 284, 926, 610, 606,
    620, 620, 388, 468, 377, 607, 521, 802, 498, 521, 475, 338, 270, 338, 555,
)  # fmt: skip


@lru_cache(maxsize=4096)
def text_em(text: str) -> float:
    """The width of ``text`` on one line in em of the PDF's font: ASCII from
    the font's own widths, a wide (CJK) character 1 em, anything else
    (¥, ·) about the width of a digit."""
    width = 0
    for character in text:
        code = ord(character)
        if 32 <= code < 127:
            width += ASCII_WIDTHS[code - 32]
        elif unicodedata.east_asian_width(character) in ("W", "F"):
            width += 1000
        else:
            width += 600
    return width / 1000


def _title_em(title: str) -> float:
    # A title wraps at its spaces: its longest word must fit.
    return max((text_em(word) for word in title.split()), default=0.0)


def column_widths(titles: tuple[str, ...], rows: list[PrintedLine]) -> list[float]:
    """Each column's share of the table's width in percent, from its longest
    text: every text on one line when they fit, like an automatic table
    layout; when they do not, the reference wraps, then the item name, then
    the date.
    Computed here once so that WeasyPrint can lay the table out with fixed
    columns, each cell once (an automatic layout measures every cell's
    narrowest and widest text first: about a sixth of a long statement's
    rendering, bench/statement.py)."""
    need = [_title_em(title) for title in titles]
    for row in rows:
        for index, cell in enumerate(row.cells):
            width = text_em(cell)
            if index == 4 and row.note:
                width = max(width, text_em(row.note) * NOTE_SCALE)
            if width > need[index]:
                need[index] = width
    need = [width + CELL_PADDING_EM for width in need]
    excess = sum(need) - TEXT_WIDTH_EM
    for index in WRAPPING_COLUMNS:
        if excess <= 0:
            break
        given = min(excess, max(need[index] - MIN_WRAPPING_EM, 0.0))
        need[index] -= given
        excess -= given
    total = sum(need)
    return [round(width * 100 / total, 2) for width in need]


def printed_lines(statement: StatementOut, lines: list[LineOut], zone: str) -> list[PrintedLine]:
    """The rows of one line table, in the current locale and ``zone``."""
    draft = statement.status == states.Status.DRAFT.value
    kinds = {kind: gettext(label) for kind, label in KIND_LABELS.items()}
    agreements = {state.value: gettext(label) for state, label in states.LINE_STATE_LABELS.items()}
    rows = []
    for line in lines:
        name = line.item_name
        if line.kind != "delivery":
            kind = kinds.get(line.kind, line.kind)
            name = f"{name} · {kind}" if name else kind
        cells = (
            str(line.line_no),
            format_datetime(line.occurred_at, zone, "short") if line.occurred_at else "",
            line.reference,
            line.item_code,
            name,
            format_exact(line.quantity) if line.quantity is not None else "",
            line.unit,
            format_exact(line.unit_price) if line.unit_price is not None else "",
            format_money(line.amount, statement.currency),
            "" if draft else agreements.get(line.state, line.state),
        )
        rows.append(PrintedLine(cells, line.description))
    return rows


@dataclass(frozen=True)
class LineTable:
    title: str
    rows: list[PrintedLine]
    widths: list[float]


def statement_html(statement: StatementOut, tenant: Tenant, supplier: Supplier) -> str:
    """The statement as the HTML WeasyPrint lays out, in the tenant's
    language and time zone. Nothing in it depends on when it is made."""
    with use_locale(tenant.locale):
        zone = tenant.time_zone

        def when(value: datetime | None) -> str:
            return format_datetime(value, zone, "short") if value else ""

        titles = tuple(gettext(title) for title in LINE_COLUMNS)
        sections = (
            (N_("Accepted deliveries"), [line for line in statement.lines if line.kind == "delivery"]),
            (N_("Deductions"), [line for line in statement.lines if line.kind in ("scrap", "ncr")]),
            (N_("Adjustments"), [line for line in statement.lines if line.kind not in ("delivery", "scrap", "ncr")]),
        )
        tables = []
        for title, lines in sections:
            if lines:
                rows = printed_lines(statement, lines, zone)
                tables.append(LineTable(gettext(title), rows, column_widths(titles, rows)))
        header = f"{tenant.name} · {gettext('Statement %(period)s', period=statement.period)} · {supplier.name}"
        changed = _last_change(statement).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return str(
            _environment()
            .get_template(TEMPLATE)
            .render(
                s=statement,
                tenant=tenant,
                supplier=supplier,
                line_tables=tables,
                line_titles=titles,
                numeric_columns=NUMERIC_COLUMNS,
                when=when,
                money=lambda amount: format_money(amount, statement.currency),
                number=format_exact,
                capital=capital_amount(statement.total) if statement.currency == "CNY" else "",
                status_labels={status.value: gettext(label) for status, label in states.STATUS_LABELS.items()},
                step_labels={step: gettext(label) for step, label in states.STEP_LABELS.items()},
                tax_percent=format_number(statement.tax_rate * 100),
                running_header=css_string(header),
                running_footer=css_string(
                    f"{gettext('Version')} {statement.version} · {gettext(states.STATUS_LABELS[states.Status(statement.status)])}"
                ),
                page_counter=page_counter(gettext("Page %(page)s of %(pages)s")),
                font_family=FONT_FAMILY,
                changed=changed,
                lang=tenant.locale.replace("_", "-"),
            )
        )


def layout(html: str) -> Any:
    # The template links nothing; portal.weasy reads data: URLs only, so no
    # URL a name might smuggle in is fetched.
    return weasy.html(html).render()


def write(document: Any, pdf_identifier: bytes) -> bytes:
    data: bytes = document.write_pdf(pdf_identifier=pdf_identifier)
    return data


def render_pdf(html: str, pdf_identifier: bytes) -> bytes:
    """Lay out and write in one go (benchmarks and tests)."""
    return write(layout(html), pdf_identifier)
