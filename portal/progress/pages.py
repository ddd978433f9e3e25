"""Progress pages: the supplier's open work, the report screen of one order
line (also what the offline outbox posts to), the buyer's feed of recent
reports and the stage settings. Thin: parse, call one service, answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.documents.controllers import json_error, wants_json
from portal.errors import DomainError
from portal.forms import form_page, form_values
from portal.i18n import N_, gettext
from portal.progress import services
from portal.progress.photos import PHOTO_ROUTE, parse_time, photo_response
from portal.progress.schemas import ReportIn
from portal.progress.services import MAX_PHOTOS, InvalidReport
from portal.progress.stages import active_stages, save_stages
from tenants.guards import acting, requires


def _decimal(value: str | None, *, required: bool = False) -> Decimal:
    # Unreadable input becomes NaN, which the service refuses with
    # "Enter a number." on the right field; so does a required field left
    # empty (the good quantity: empty is not "none made").
    text = (value or "").strip().replace(",", ".")
    if not text:
        return Decimal("NaN") if required else Decimal(0)
    try:
        return Decimal(text)
    except ArithmeticError:
        return Decimal("NaN")


def _report_from(values: dict[str, str], line_id: UUID) -> ReportIn:
    try:
        client_id = UUID(values.get("client_id", ""))
        photos = int(values.get("photos_expected") or 0)
    except ValueError:
        raise InvalidReport(fields={"client_id": N_("This value is missing or not valid.")}) from None
    return ReportIn(
        client_id=client_id,
        order_line_id=line_id,
        stage=values.get("stage", ""),
        good_quantity=_decimal(values.get("good_quantity"), required=True),
        scrap_quantity=_decimal(values.get("scrap_quantity")),
        scrap_reason=values.get("scrap_reason", ""),
        note=values.get("note", ""),
        photos_expected=photos,
        made_at=parse_time(values.get("made_at")),
    )


class ProgressPages(Controller):
    path = "/progress"
    include_in_schema = False
    guards = [requires("progress.view")]

    @get("/", name="progress")
    async def show_work(self, cursor: FromQuery[str | None] = None) -> Template:
        """Supplier: the open order lines to report on. Buyer: the reports
        of all suppliers, newest first. Both a page at a time: ``next``
        links to the rest."""
        if acting().is_supplier:
            work, next_cursor = await services.open_work(cursor)
            context: dict[str, Any] = {"work": work}
        else:
            reports, next_cursor = await services.report_page(cursor=cursor)
            context = {"reports": reports}
        return Template(
            template_name="progress/work.html", context={**context, "next": next_cursor, "first": not cursor, "active_nav": "progress"}
        )

    @get("/lines/{line_id:uuid}", name="progress_line")
    async def show_line(self, line_id: FromPath[UUID]) -> Template:
        return await self._form(line_id)

    async def _form(self, line_id: UUID, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
        line = await services.report_line(line_id)
        last = line.last_report
        defaults = {
            "client_id": str(uuid4()),
            "stage": last.stage if last else "",
            "good_quantity": f"{last.good_quantity.normalize():f}" if last else "",
            "scrap_quantity": "0",
        }
        return form_page(
            "progress/report.html",
            values=values or defaults,
            error=error,
            line=line,
            stages=await active_stages(),
            history=(await services.list_reports(order_line_id=line_id))[:5],
            can_report=acting().can("progress.report"),
            max_photos=MAX_PHOTOS,
            active_nav="progress",
        )

    @post("/lines/{line_id:uuid}", guards=[requires("progress.report")])
    async def report(self, request: Request[Any, Any, Any], line_id: FromPath[UUID]) -> Response[Any] | Template | Redirect:
        """The report form, and the outbox's first request (Accept: JSON):
        201 when stored, 200 when this client id was stored before."""
        values = await form_values(request)
        try:
            report, created = await services.create_report(_report_from(values, line_id))
        except DomainError as exc:
            if wants_json(request):
                return json_error(exc)
            return await self._form(line_id, values, exc)
        if wants_json(request):
            return Response(report, status_code=201 if created else 200, media_type=MediaType.JSON)
        return Redirect(path="/progress", status_code=303)

    @post("/reports/{report_id:uuid}/photos", **PHOTO_ROUTE)
    async def add_photo(self, request: Request[Any, Any, Any], report_id: FromPath[UUID]) -> Response[Any]:
        """The outbox's next requests: one photo each."""
        try:
            return await photo_response(request, report_id)
        except DomainError as exc:
            return json_error(exc)


class StagePages(Controller):
    path = "/admin/progress-stages"
    include_in_schema = False
    guards = [requires("progress.configure")]

    @get("/", name="progress_stages")
    async def show_stages(self, saved: FromQuery[bool] = False) -> Template:
        labels = "\n".join(gettext(stage.label) for stage in await active_stages())
        return form_page("progress/stages.html", values={"stages": labels}, saved=saved, active_nav="settings")

    @post("/")
    async def save(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        try:
            await save_stages(values.get("stages", "").splitlines())
        except DomainError as exc:
            return form_page("progress/stages.html", values=values, error=exc, saved=False, active_nav="settings")
        return Redirect(path="/admin/progress-stages?saved=1", status_code=303)
