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
import math
import os
import sys
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import structlog

from portal import weasy
from portal.audit.services import record
from portal.documents.content import Kind
from portal.documents.services import Target, store_generated, version_row
from portal.documents.storage import content_disposition, process_storage
from portal.errors import Conflict
from portal.i18n import (
    N_,
    format_date,
    format_datetime,
    format_datetime_full_year,
    format_exact,
    format_money,
    format_number,
    gettext,
    use_locale,
)
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


@cache
def _environment() -> Any:
    from portal.templating import build_environment

    return build_environment()


def _last_change(statement: StatementOut) -> datetime:
    moments = [statement.computed_at, *(step.at for step in statement.steps)]
    return max(moment if moment.tzinfo else moment.replace(tzinfo=UTC) for moment in moments)


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
# The line's note prints under its item name.
NOTE_COLUMN = 4
MATERIAL_COLUMNS = (
    N_("Item code"),
    N_("Item name"),
    N_("Unit"),
    N_("Opening"),
    N_("Dispatched"),
    N_("Received by supplier"),
    N_("Consumed by accepted output"),
    N_("Scrap allowance"),
    N_("Returned"),
    N_("Scrapped"),
    N_("Closing"),
)
MATERIAL_NUMERIC_COLUMNS = frozenset(range(3, 11))
STEP_COLUMNS = (N_("When"), N_("Who"), N_("Step"), N_("Line"), N_("Comment"))
STEP_NUMERIC_COLUMNS = frozenset({3})
# The page's text width (A4 less the template's side margins) in em of the
# body's 8.5 pt (3 mm); a cell's padding (1 mm each side) and a little room.
TEXT_WIDTH_EM = (210 - 2 * 10) / 3.0
CELL_PADDING_EM = 2 / 3.0 + 0.15
NOTE_SCALE = 7.5 / 8.5
# A word longer than this (a code, or a name without spaces) breaks
# anywhere instead of widening its column further: one such text must not
# squeeze the other columns.
LONGEST_WORD_EM = 8.0
# A table whose numbers and words do not fit the page at the body's size is
# set smaller, down to this fraction of it (6.4 pt), before its words break;
# smaller still only if its numbers need it, each text column keeping
# MIN_TEXT_EM.
MIN_FONT_SCALE = 0.75
MIN_TEXT_EM = 2.0


@dataclass(frozen=True)
class PrintedLine:
    """A row of one of the PDF's tables as it prints: every cell's text,
    and a line's note."""

    cells: tuple[str, ...]
    note: str = ""


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


def word_em(text: str) -> float:
    """The width of the longest word of ``text``: the narrowest its column
    can be without breaking a word. A run of CJK counts as one word, so
    that a short Chinese name keeps to one line when there is room."""
    return max((text_em(word) for word in text.split()), default=0.0)


@dataclass(frozen=True)
class TableLayout:
    """A table's fixed column widths, in percent of the text width, and its
    font size as a fraction of the body's."""

    widths: list[float]
    scale: float


def column_widths(titles: tuple[str, ...], numeric: frozenset[int], rows: list[PrintedLine]) -> TableLayout:
    """Each column's share of the table's width, from its texts, so that no
    text leaves its cell: every text on one line when they all fit;
    otherwise the numbers keep their longest text on one line and the
    other columns give way, the widest first, down to their longest word;
    when even that does not fit, the table's font shrinks (down to
    ``MIN_FONT_SCALE``, further only as far as its numbers need), then the
    text columns give way again, the widest first, and their words break
    anywhere (the template's ``overflow-wrap``). Titles wrap at their
    spaces, numbers never.
    Computed here once so that WeasyPrint can lay the table out with fixed
    columns, each cell once (an automatic layout measures every cell's
    narrowest and widest text first: about a sixth of a long statement's
    rendering, bench/statement.py)."""
    widest = [word_em(title) for title in titles]
    narrowest = list(widest)
    for row in rows:
        for index, cell in enumerate(row.cells):
            widest[index] = max(widest[index], text_em(cell))
            narrowest[index] = max(narrowest[index], min(word_em(cell), LONGEST_WORD_EM))
        if row.note:
            widest[NOTE_COLUMN] = max(widest[NOTE_COLUMN], text_em(row.note) * NOTE_SCALE)
            narrowest[NOTE_COLUMN] = max(narrowest[NOTE_COLUMN], min(word_em(row.note) * NOTE_SCALE, LONGEST_WORD_EM))
    for index in numeric:
        narrowest[index] = widest[index]
    text_columns = [index for index in range(len(titles)) if index not in numeric]
    free = TEXT_WIDTH_EM - CELL_PADDING_EM * len(titles)
    numbers = sum(narrowest[index] for index in numeric)
    scale = min(1.0, max(MIN_FONT_SCALE, free / sum(narrowest)), free / (numbers + MIN_TEXT_EM * len(text_columns)))
    # As the template prints it: never rounded up.
    scale = math.floor(scale * 1000) / 1000
    room = free / scale
    widths = list(widest)
    if sum(widest) > room:
        if sum(narrowest) <= room:
            low, high = narrowest, widest
        else:
            low, high = [min(width, MIN_TEXT_EM) for width in narrowest], narrowest
        level = _level([low[index] for index in text_columns], [high[index] for index in text_columns], room - numbers)
        for index in text_columns:
            widths[index] = min(max(level, low[index]), high[index])
    cells = [width * scale + CELL_PADDING_EM for width in widths]
    total = sum(cells)
    return TableLayout([round(cell * 100 / total, 2) for cell in cells], scale)


def _level(low: list[float], high: list[float], room: float) -> float:
    """The highest common width at which columns held between ``low`` and
    ``high`` take at most ``room``: the columns wider than it give way to
    it, the others keep their width."""
    bottom, top = 0.0, max(high)
    for _ in range(40):
        middle = (bottom + top) / 2
        if sum(min(max(middle, lowest), highest) for lowest, highest in zip(low, high, strict=True)) > room:
            top = middle
        else:
            bottom = middle
    return bottom


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
            format_datetime_full_year(line.occurred_at, zone) if line.occurred_at else "",
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


def printed_materials(statement: StatementOut) -> list[PrintedLine]:
    """The material section's rows, in the current locale."""
    return [
        PrintedLine(
            (
                material.item_code,
                material.item_name,
                material.unit,
                *(
                    format_exact(value)
                    for value in (
                        material.opening,
                        material.dispatched,
                        material.received,
                        material.consumed,
                        material.scrap_allowance,
                        material.returned,
                        material.scrapped,
                        material.closing,
                    )
                ),
            )
        )
        for material in statement.materials
    ]


def printed_steps(statement: StatementOut, zone: str) -> list[PrintedLine]:
    """The confirmation records' rows, in the current locale and ``zone``."""
    labels = {step: gettext(label) for step, label in states.STEP_LABELS.items()}
    rows = []
    for step in statement.steps:
        comment = step.comment
        if step.amount is not None:
            comment = f"{comment} ({format_money(step.amount, statement.currency)})"
        cells = (format_datetime_full_year(step.at, zone), step.by, labels.get(step.event, step.event), str(step.line_no or ""), comment)
        rows.append(PrintedLine(cells))
    return rows


def period_range(start: datetime, end: datetime, zone: str) -> str:
    """The period's first and last day in ``zone``, both included (its end
    is the first instant of the next period); with a cut-off within a day,
    its first and last second."""
    local_start, local_end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    if local_start.time() == local_end.time() == time(0):
        first, last = format_date(local_start.date()), format_date(local_end.date() - timedelta(days=1))
    else:
        first, last = format_datetime(start, zone), format_datetime(end - timedelta(seconds=1), zone)
    return gettext("%(first)s – %(last)s, %(zone)s time", first=first, last=last, zone=zone)


@dataclass(frozen=True)
class Table:
    title: str
    rows: list[PrintedLine]
    layout: TableLayout
    titles: tuple[str, ...]
    numeric: frozenset[int]


def _table(title: str, columns: tuple[str, ...], numeric: frozenset[int], rows: list[PrintedLine]) -> Table:
    """A table of the current locale's column titles and ``rows``."""
    titles = tuple(gettext(column) for column in columns)
    return Table(gettext(title), rows, column_widths(titles, numeric, rows), titles, numeric)


def statement_html(statement: StatementOut, tenant: Tenant, supplier: Supplier) -> str:
    """The statement as the HTML WeasyPrint lays out, in the tenant's
    language and time zone. Nothing in it depends on when it is made."""
    with use_locale(tenant.locale):
        zone = tenant.time_zone

        def when(value: datetime | None) -> str:
            return format_datetime_full_year(value, zone) if value else ""

        sections = (
            (N_("Accepted deliveries"), [line for line in statement.lines if line.kind == "delivery"]),
            (N_("Deductions"), [line for line in statement.lines if line.kind in ("scrap", "ncr")]),
            (N_("Adjustments"), [line for line in statement.lines if line.kind not in ("delivery", "scrap", "ncr")]),
        )
        tables = [_table(title, LINE_COLUMNS, NUMERIC_COLUMNS, printed_lines(statement, lines, zone)) for title, lines in sections if lines]
        materials = _table(N_("Material section"), MATERIAL_COLUMNS, MATERIAL_NUMERIC_COLUMNS, printed_materials(statement))
        steps = _table(N_("Confirmation records"), STEP_COLUMNS, STEP_NUMERIC_COLUMNS, printed_steps(statement, zone))
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
                materials=materials,
                steps=steps,
                period=period_range(statement.period_start, statement.period_end, zone),
                when=when,
                money=lambda amount: format_money(amount, statement.currency),
                capital=capital_amount(statement.total) if statement.currency == "CNY" else "",
                status_labels={status.value: gettext(label) for status, label in states.STATUS_LABELS.items()},
                tax_percent=format_number(statement.tax_rate * 100),
                running_header=weasy.css_string(header),
                running_footer=weasy.css_string(
                    f"{gettext('Version')} {statement.version} · {gettext(states.STATUS_LABELS[states.Status(statement.status)])}"
                ),
                page_counter=weasy.page_counter(gettext("Page %(page)s of %(pages)s")),
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
