"""Progress reports from the shop floor.

The rules, in one place:

- Supplier roles report on lines of their own orders that are accepted, in
  production or partly delivered; the first report on an accepted order
  moves it to "in production" (the supplier need not do that separately).
- Good + scrap may not exceed the line's open quantity (ordered - accepted
  on deliveries); scrap needs a reason.
- Exactly once: ``client_id`` is generated on the phone and unique per
  supplier. A report sent again returns the stored one; that lookup comes
  before every other check, so a retry still succeeds after the order has
  moved on since the first (answered but unheard) attempt.
- Photos follow the report one request each, up to ``photos_expected``.
  Each is a document (category photo) attached to the report, so the
  documents domain checks, stores and versions it; the same bytes sent
  again are the same photo. A report whose photos did not all arrive shows
  that to both sides until the phone sends the rest.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns.combination import WhereRaw
from piccolo.engine.postgres import PostgresEngine

from portal.audit.services import record
from portal.db import get_engine
from portal.documents.attachments import register_attachment_target
from portal.documents.intake import StagedFile
from portal.documents.services import attached_document_target, store_upload
from portal.documents.storage import Storage
from portal.documents.tables import DocumentVersion
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.i18n import N_
from portal.orders import services as orders
from portal.orders.states import RECEIVING_STATES, Event, Status
from portal.orders.tables import Order, OrderLine
from portal.pagination import InvalidCursor, Shown, read_time_cursor, time_cursor
from portal.progress.schemas import LineOut, PhotoOut, ReportIn, ReportOut, WorkOrder
from portal.progress.stages import stage_named
from portal.progress.tables import ProgressPhoto, ProgressReport
from portal.quantities import quantity_problem
from portal.rows import insert_row
from tenants.context import TenantContext, current
from tenants.prepared import prepared
from tenants.scoping import scoped
from tenants.services.members import user_names

MAX_PHOTOS = 10
MAX_TEXT = 2000
# A phone clock a little ahead is tolerated; further ahead is not believed.
CLOCK_SKEW = timedelta(minutes=5)
# Nor one that was reset (1970, 2000 after a flat battery): nothing here was
# made before the portal's first order.
EARLIEST_CLOCK = datetime(2020, 1, 1, tzinfo=UTC)
TIMELINE_LIMIT = 200
# Lines of open work a page: the phone keeps each page it showed for
# reading offline, with the report screens it links to.
WORK_PAGE = 200
API_PAGE = 100
ZERO = Decimal(0)


class InvalidReport(DomainError):
    code = "invalid_report"
    message = N_("Some fields are missing or not valid.")


class NotReporting(Conflict):
    code = "order_not_in_production"
    message = N_("Progress can be reported only on accepted orders that are in production or partly delivered.")


class PhotosComplete(Conflict):
    code = "report_photos_complete"
    message = N_("This report already has all its photos.")


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


# ---------------------------------------------------------------- reading


_LINE: Any = ProgressReport.order_line
REPORT_COLUMNS = (
    ProgressReport.all_columns(),
    ProgressReport.order.number,
    _LINE.line_no,
    _LINE.item.code,
)


async def _reports(*conditions: Any, limit: int = TIMELINE_LIMIT) -> list[ReportOut]:
    query = scoped(ProgressReport).select(*REPORT_COLUMNS)
    for condition in conditions:
        query = query.where(condition)
    rows = await query.order_by(ProgressReport.made_at, ProgressReport.id, ascending=False).limit(limit)
    if not rows:
        return []
    photos = await _photos_of([row["id"] for row in rows])
    names = await user_names({row["reported_by"] for row in rows if row["reported_by"]})
    return [
        ReportOut(
            id=row["id"],
            client_id=row["client_id"],
            order_id=row["order"],
            order_number=row["order.number"],
            order_line_id=row["order_line"],
            line_no=row["order_line.line_no"],
            item_code=row["order_line.item.code"],
            stage=row["stage"],
            stage_label=row["stage_label"],
            good_quantity=Decimal(str(row["good_quantity"])),
            scrap_quantity=Decimal(str(row["scrap_quantity"])),
            scrap_reason=row["scrap_reason"],
            note=row["note"],
            photos_expected=row["photos_expected"],
            photos_received=row["photos_received"],
            photos=photos.get(row["id"], []),
            reported_by=names.get(row["reported_by"], ""),
            made_at=row["made_at"],
            received_at=row["received_at"],
        )
        for row in rows
    ]


async def _photos_of(report_ids: list[UUID]) -> dict[UUID, list[PhotoOut]]:
    rows = await (
        scoped(ProgressPhoto)
        .select(ProgressPhoto.id, ProgressPhoto.report, ProgressPhoto.document, ProgressPhoto.position, ProgressPhoto.captured_at)
        .where(ProgressPhoto.report.is_in(report_ids))
        .order_by(ProgressPhoto.position)
    )
    if not rows:
        return {}
    versions = await (
        scoped(DocumentVersion)
        .select(DocumentVersion.id, DocumentVersion.document, DocumentVersion.preview_status)
        .where(DocumentVersion.document.is_in([row["document"] for row in rows]))
        .order_by(DocumentVersion.version)
    )
    # A photo is one version; should someone upload another, the last shows.
    latest = {row["document"]: row for row in versions}
    photos: dict[UUID, list[PhotoOut]] = defaultdict(list)
    for row in rows:
        version = latest.get(row["document"])
        if version is None:
            continue
        photos[row["report"]].append(
            PhotoOut(
                id=row["id"],
                document_id=row["document"],
                version_id=version["id"],
                preview=version["preview_status"],
                position=row["position"],
                captured_at=row["captured_at"],
            )
        )
    return photos


async def get_report(report_id: UUID | str) -> ReportOut:
    report = await scoped(ProgressReport).get(report_id)
    (out,) = await _reports(ProgressReport.id == report.id, limit=1)
    return out


async def order_timeline(order_id: UUID | str) -> list[ReportOut]:
    """Every report on an order, newest first (both sides see it)."""
    _require("progress.view")
    order = await scoped(Order).get(order_id)
    return await _reports(ProgressReport.order == order.id)


def _report_filters(order_id: UUID | None, order_line_id: UUID | None) -> list[Any]:
    conditions = []
    if order_id is not None:
        conditions.append(ProgressReport.order == order_id)
    if order_line_id is not None:
        conditions.append(ProgressReport.order_line == order_line_id)
    return conditions


async def list_reports(order_id: UUID | None = None, order_line_id: UUID | None = None) -> list[ReportOut]:
    """The latest reports, newest first, for the pages' feeds."""
    _require("progress.view")
    return await _reports(*_report_filters(order_id, order_line_id))


async def report_page(
    order_id: UUID | None = None, order_line_id: UUID | None = None, cursor: str | None = None
) -> tuple[list[ReportOut], str | None]:
    """Every report, newest first, a page at a time: ``next`` continues."""
    _require("progress.view")
    conditions = _report_filters(order_id, order_line_id)
    if cursor:
        at, key = read_time_cursor(cursor)
        conditions.append((ProgressReport.made_at < at) | ((ProgressReport.made_at == at) & (ProgressReport.id < key)))
    reports = await _reports(*conditions, limit=API_PAGE + 1)
    if len(reports) <= API_PAGE:
        return reports, None
    last = reports[API_PAGE - 1]
    return reports[:API_PAGE], time_cursor(last.made_at, last.id)


def _open_quantity(line: dict[str, Any]) -> Decimal:
    return max(ZERO, Decimal(str(line["quantity"])) - Decimal(str(line["delivered_quantity"])))


LINE_COLUMNS = (
    OrderLine.id,
    OrderLine.order,
    OrderLine.line_no,
    OrderLine.operation,
    OrderLine.quantity,
    OrderLine.delivered_quantity,
    OrderLine.due_date,
    OrderLine.item.code,
    OrderLine.item.name,
    OrderLine.item.unit,
    OrderLine.order.number,
    OrderLine.order.status,
)


def _line_out(row: dict[str, Any], today: date, last: ReportOut | None) -> LineOut:
    open_quantity = _open_quantity(row)
    return LineOut(
        id=row["id"],
        order_id=row["order"],
        order_number=row["order.number"],
        order_status=row["order.status"],
        line_no=row["line_no"],
        item_code=row["item.code"],
        item_name=row["item.name"],
        unit=row["item.unit"],
        operation=row["operation"],
        quantity=Decimal(str(row["quantity"])),
        delivered_quantity=Decimal(str(row["delivered_quantity"])),
        open_quantity=open_quantity,
        due_date=row["due_date"],
        overdue=open_quantity > 0 and row["due_date"] < today,
        last_report=last,
    )


async def _last_reports(line_ids: list[UUID]) -> dict[UUID, ReportOut]:
    latest: dict[UUID, ReportOut] = {}
    if line_ids:
        for report in await _reports(ProgressReport.order_line.is_in(line_ids), limit=len(line_ids) * 20):
            latest.setdefault(report.order_line_id, report)
    return latest


async def report_line(line_id: UUID | str) -> LineOut:
    """The line a report screen is about, with its last report (the
    defaults of the next one)."""
    context = _require("progress.view")
    line = await scoped(OrderLine).get(line_id)
    rows = await scoped(OrderLine).select(*LINE_COLUMNS).where(OrderLine.id == line.id)
    last = await _last_reports([line.id])
    return _line_out(rows[0], context.today(), last.get(line.id))


def _still_open() -> WhereRaw:
    """ordered > delivered, in the query: closed lines never take a place
    on a page. SQLite keeps these columns as text (portal.decimals), so
    there the numbers are compared as REAL, which may call two values
    equal that differ past its 15 digits: ``>=`` keeps those, and
    ``_open_quantity`` drops the ones that are truly closed (a shorter
    page, never a lost line: the cursor is the last row read)."""
    table = OrderLine._meta.tablename
    ordered, delivered = f'"{table}"."quantity"', f'"{table}"."delivered_quantity"'
    if isinstance(get_engine(), PostgresEngine):
        return WhereRaw(f"{ordered} > {delivered}")
    return WhereRaw(f"CAST({ordered} AS REAL) >= CAST({delivered} AS REAL) AND {ordered} <> {delivered}")


def _open_lines(query: Any, *conditions: Any) -> Any:
    """``query`` (a select or a count) narrowed to the open lines the actor
    may report on, and to ``conditions``."""
    states = [status.value for status in RECEIVING_STATES]
    conditions = (OrderLine.order.status.is_in(states), OrderLine.removed == False, _still_open(), *conditions)  # noqa: E712
    for condition in conditions:
        query = query.where(condition)
    return query


async def _work_after(cursor: str) -> Any:
    """Where the page after ``cursor`` (the id of the last line of the page
    before) starts. The line is read through the scoping layer: a line of
    another tenant or supplier is refused exactly as an id that never
    existed, so a cursor reveals nothing."""
    try:
        key = UUID(cursor)
    except ValueError:
        raise InvalidCursor(fields={"cursor": N_("This page link is not valid.")}) from None
    rows = await scoped(OrderLine).select(OrderLine.order.due_date, OrderLine.order.number, OrderLine.line_no).where(OrderLine.id == key)
    if not rows:
        raise InvalidCursor(fields={"cursor": N_("This page link is not valid.")})
    due, number, line_no = rows[0]["order.due_date"], rows[0]["order.number"], rows[0]["line_no"]
    order: Any = OrderLine.order
    return (
        (order.due_date > due)
        | ((order.due_date == due) & (order.number > number))
        | ((order.due_date == due) & (order.number == number) & (OrderLine.line_no > line_no))
    )


async def open_work(cursor: str | None = None, limit: int = WORK_PAGE) -> tuple[list[WorkOrder], str | None]:
    """The supplier's orders that can take progress reports, with their
    open lines, soonest due order first, ``limit`` lines a page; the second
    value continues the list (None: this page ends it). The list the phone
    starts from, and keeps offline page by page."""
    context = _require("progress.view")
    after = [await _work_after(cursor)] if cursor else []
    query = _open_lines(scoped(OrderLine).select(*LINE_COLUMNS, OrderLine.order.due_date), *after)
    rows = await query.order_by(OrderLine.order.due_date).order_by(OrderLine.order.number).order_by(OrderLine.line_no).limit(limit + 1)
    next_cursor = str(rows[limit - 1]["id"]) if len(rows) > limit else None
    rows = [row for row in rows[:limit] if _open_quantity(row) > 0]
    last = await _last_reports([row["id"] for row in rows])
    today = context.today()
    work: dict[UUID, WorkOrder] = {}
    for row in rows:
        order = work.get(row["order"])
        if order is None:
            order = work[row["order"]] = WorkOrder(
                id=row["order"], number=row["order.number"], status=row["order.status"], due_date=row["order.due_date"], lines=[]
            )
        order.lines.append(_line_out(row, today, last.get(row["id"])))
    return list(work.values()), next_cursor


async def lines_due(within_days: int, limit: int = WORK_PAGE) -> Shown[LineOut]:
    """Open lines due within ``within_days`` or late, soonest first: the
    first ``limit``, and the count of all (the home page says when it
    shows fewer, and links to the whole open work)."""
    context = _require("progress.view")
    horizon = context.today() + timedelta(days=within_days)
    soon = OrderLine.due_date <= horizon
    query = _open_lines(scoped(OrderLine).select(*LINE_COLUMNS, OrderLine.order.due_date), soon)
    rows = await query.order_by(OrderLine.due_date).order_by(OrderLine.order.number).order_by(OrderLine.line_no).limit(limit + 1)
    total = len(rows) if len(rows) <= limit else await _open_lines(scoped(OrderLine).count(), soon)
    rows = [row for row in rows[:limit] if _open_quantity(row) > 0]
    last = await _last_reports([row["id"] for row in rows])
    today = context.today()
    return Shown([_line_out(row, today, last.get(row["id"])) for row in rows], total)


# ---------------------------------------------------------------- writing


async def _existing(context: TenantContext, client_id: UUID) -> UUID | None:
    """The id of this supplier's report sent with ``client_id``, if stored."""
    rows = await prepared(
        "progress.existing",
        lambda slot: (
            scoped(ProgressReport)
            .select(ProgressReport.id)
            .where((ProgressReport.supplier == slot["supplier"]) & (ProgressReport.client_id == slot["client_id"]))
        ),
        supplier=context.supplier_id,
        client_id=client_id,
    )
    return rows[0]["id"] if rows else None


def _made_at(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the calendar
        return now
    return now if value > now + CLOCK_SKEW or value < EARLIEST_CLOCK else value


def _check(data: ReportIn, open_quantity: Decimal, unit: str) -> tuple[Decimal, Decimal, dict[str, str], dict[str, Any]]:
    problems: dict[str, str] = {}
    good, problem = quantity_problem(data.good_quantity, allow_zero=True)
    if problem:
        problems["good_quantity"] = problem
    scrap, problem = quantity_problem(data.scrap_quantity, allow_zero=True)
    if problem:
        problems["scrap_quantity"] = problem
    if scrap and not data.scrap_reason.strip():
        problems["scrap_reason"] = N_("Say why pieces were scrapped.")
    if good is not None and scrap is not None and good + scrap > open_quantity:
        problems["good_quantity"] = N_("Good and scrap together may not exceed the open quantity of this line: %(open)s %(unit)s.")
    if len(data.note) > MAX_TEXT or len(data.scrap_reason) > MAX_TEXT:
        problems["note"] = N_("Use at most 2000 characters.")
    if not 0 <= data.photos_expected <= MAX_PHOTOS:
        problems["photos"] = N_("Add at most %(max)s photos.")
    params = {"open": f"{open_quantity.normalize():f}", "unit": unit, "max": MAX_PHOTOS}
    return good or ZERO, scrap or ZERO, problems, params


async def _line_to_report(line_id: UUID) -> dict[str, Any]:
    # Built once per scope (tenants.prepared): the phone's most frequent
    # write spent more CPU building this select's scoping than running it.
    rows = await prepared(
        "progress.line_to_report",
        lambda slot: scoped(OrderLine).select(*LINE_COLUMNS, OrderLine.removed).where(OrderLine.id == slot["line"]),
        line=line_id,
    )
    if not rows:
        raise NotFound()
    line: dict[str, Any] = rows[0]
    return line


async def _lock_order_of(line_id: UUID) -> None:
    """Lock the order of a line the caller reaches (scoped, PostgreSQL)."""
    await prepared(
        "progress.lock_order",
        lambda slot: (
            scoped(Order)
            .select(Order.id)
            .where(Order.id.is_in(scoped(OrderLine).select(OrderLine.order).where(OrderLine.id == slot["line"])))
            .lock_rows()
        ),
        line=line_id,
    )


async def create_report(data: ReportIn) -> tuple[ReportOut, bool]:
    """Store a report once; the second value says whether this call stored
    it (False: it was there already)."""
    context = _require("progress.report")
    if isinstance(get_engine(), PostgresEngine):
        # Reports on one order wait for each other: the one that starts
        # production does it alone, and a retry racing its first attempt
        # finds the stored report once that commits. The lock comes first,
        # so the report and the line are read once, as they are after it.
        await _lock_order_of(data.order_line_id)
    existing = await _existing(context, data.client_id)
    if existing is not None:
        return await get_report(existing), False
    line = await _line_to_report(data.order_line_id)
    if line["removed"] or line["order.status"] not in RECEIVING_STATES:
        raise NotReporting()
    stage = await stage_named(data.stage)
    good, scrap, problems, params = _check(data, _open_quantity(line), line["item.unit"])
    if stage is None:
        problems["stage"] = N_("Choose a stage.")
    if problems or stage is None:
        raise InvalidReport(fields=problems, **params)
    if line["order.status"] == Status.ACCEPTED.value:
        await orders.fire(line["order"], Event.START.value)
    now = datetime.now(UTC)
    report = scoped(ProgressReport).new(
        id=uuid4(),
        supplier=context.supplier_id,
        order=line["order"],
        order_line=line["id"],
        client_id=data.client_id,
        stage=stage.code,
        stage_label=stage.label,
        good_quantity=good,
        scrap_quantity=scrap,
        scrap_reason=data.scrap_reason.strip(),
        note=data.note.strip(),
        photos_expected=data.photos_expected,
        reported_by=context.user_id,
        made_at=_made_at(data.made_at, now),
        received_at=now,
    )
    stored = await insert_row(report, unless=(ProgressReport.tenant, ProgressReport.supplier, ProgressReport.client_id))
    if not stored:
        # The same report, sent twice at once: the other request stored it.
        raced = await _existing(context, data.client_id)
        assert raced is not None
        return await get_report(raced), False
    await record(
        "progress.report",
        entity_type="progress_report",
        entity_id=report.id,
        after={
            "order_line_id": line["id"],
            "client_id": data.client_id,
            "stage": stage.code,
            "good_quantity": str(good),
            "scrap_quantity": str(scrap),
            "photos_expected": data.photos_expected,
        },
    )
    # Everything is known here: the phone's most frequent request reads
    # nothing back.
    return (
        ReportOut(
            id=report.id,
            client_id=data.client_id,
            order_id=line["order"],
            order_number=line["order.number"],
            order_line_id=line["id"],
            line_no=line["line_no"],
            item_code=line["item.code"],
            stage=stage.code,
            stage_label=stage.label,
            good_quantity=good,
            scrap_quantity=scrap,
            scrap_reason=report.scrap_reason,
            note=report.note,
            photos_expected=data.photos_expected,
            photos_received=0,
            photos=[],
            reported_by=context.user_name,
            made_at=report.made_at,
            received_at=now,
        ),
        True,
    )


@dataclass(frozen=True)
class PhotoTarget:
    """What a photo upload needs of its report."""

    id: UUID
    supplier: UUID
    photos_expected: int
    photos_received: int


async def report_for_photo(report_id: UUID | str) -> PhotoTarget:
    """The report a photo is for (scoped: NotFound for a foreign one). On
    PostgreSQL its row stays locked to the end of the transaction, so photo
    uploads of one report take turns (SQLite runs one writer at a time):
    the duplicate check and the count stay exact. The lock and the read
    are one statement, the count read after the lock; built once per
    scope (tenants.prepared)."""
    try:
        key = report_id if isinstance(report_id, UUID) else UUID(str(report_id))
    except ValueError:
        raise NotFound() from None
    locks = isinstance(get_engine(), PostgresEngine)

    def build(slot: Any) -> Any:
        query = (
            scoped(ProgressReport)
            .select(ProgressReport.id, ProgressReport.supplier, ProgressReport.photos_expected, ProgressReport.photos_received)
            .where(ProgressReport.id == slot["report"])
        )
        return query.lock_rows() if locks else query

    rows = await prepared(("progress.report_for_photo", locks), build, report=key)
    if not rows:
        raise NotFound()
    return PhotoTarget(**rows[0])


async def add_photo(
    storage: Storage, report_id: UUID | str, staged: StagedFile, captured_at: datetime | None, *, report: PhotoTarget | None = None
) -> tuple[PhotoOut, bool]:
    """Attach one photo; the same bytes again return the stored photo.
    ``report``: the row ``report_for_photo`` returned in this transaction,
    when the caller looked it up already.

    The answer is built from what this call wrote, not read back: the
    phone sends one of these per photo, twenty reporters at once, and on
    SQLite every statement here is made while the others wait to write."""
    _require("progress.report")
    if report is None or report.id != report_id:
        report = await report_for_photo(report_id)
    existing = await prepared(
        "progress.photo_of",
        lambda slot: (
            scoped(ProgressPhoto)
            .select(ProgressPhoto.id)
            .where((ProgressPhoto.report == slot["report"]) & (ProgressPhoto.sha256 == slot["sha256"]))
        ),
        report=report.id,
        sha256=staged.sha256,
    )
    if existing:
        photos = await _photos_of([report.id])
        return next(p for p in photos[report.id] if p.id == existing[0]["id"]), False
    if report.photos_received >= report.photos_expected:
        raise PhotosComplete()
    target = await attached_document_target("progress_report", report.id, report.supplier, "photo", "")
    document = await store_upload(storage, target, staged)
    assert document.current is not None
    photo = scoped(ProgressPhoto).new(
        id=uuid4(),
        supplier=report.supplier,
        report=report.id,
        document=document.id,
        sha256=staged.sha256,
        position=report.photos_received + 1,
        captured_at=_made_at(captured_at, datetime.now(UTC)) if captured_at else None,
    )
    await insert_row(photo)
    await prepared(
        "progress.photo_received",
        lambda slot: (
            scoped(ProgressReport)
            .update({ProgressReport.photos_received: ProgressReport.photos_received + 1})
            .where(ProgressReport.id == slot["report"])
        ),
        report=report.id,
    )
    out = PhotoOut(
        id=photo.id,
        document_id=document.id,
        version_id=document.current.id,
        preview=document.current.preview,
        position=photo.position,
        captured_at=photo.captured_at,
    )
    return out, True


async def report_attachment_supplier(report_id: UUID) -> UUID | None:
    report = await scoped(ProgressReport).get(report_id)
    supplier: UUID = report.supplier
    return supplier


register_attachment_target("progress_report", report_attachment_supplier, table=ProgressReport)
