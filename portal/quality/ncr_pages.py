"""NCR pages: the list, QA's form to open one, and the NCR page where the
supplier answers its steps (phone) and QA decides on them (tablet). A
mistake re-renders the NCR page with what was typed and the error; a
success redirects back to it."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, MediaType, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from portal.documents.config import largest_limit
from portal.documents.controllers import json_error, storage_of
from portal.documents.intake import SPOOL_OPT, read_upload_form
from portal.documents.services import new_document_target, store_upload
from portal.errors import DomainError, NotFound
from portal.forms import InvalidForm, form_page, form_values, form_version
from portal.i18n import N_, gettext
from portal.kpi import store
from portal.quality import charts, ncrs, scorecards, trace
from portal.quality.ncr_states import EVENT_LABELS, OPEN_STATES, STATUS_LABELS, STEP_STATE_LABELS, STEPS, Status
from portal.quality.ncrs import AnswerIn, DecisionIn, DispositionIn, IssueIn, NcrIn, OwnerIn, StatusFilter, StepDaysIn
from portal.quantities import plain
from tenants.context import current
from tenants.guards import requires
from tenants.services.suppliers import list_suppliers


def labels() -> dict[str, Any]:
    """What NCR templates show for the codes they hold, in the reader's language."""
    return {
        "status_labels": {status.value: gettext(label) for status, label in STATUS_LABELS.items()},
        "step_state_labels": {state.value: gettext(label) for state, label in STEP_STATE_LABELS.items()},
        "severity_labels": {key: gettext(label) for key, label in ncrs.SEVERITIES.items()},
        "disposition_labels": {key: gettext(label) for key, label in ncrs.DISPOSITIONS.items()},
        "source_labels": {key: gettext(label) for key, label in ncrs.SOURCES.items()},
        "event_labels": {event.value: gettext(label) for event, label in EVENT_LABELS.items()},
        "steps": [step.value for step in STEPS],
        "qty": plain,
    }


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text) if text.strip() else None
    except ValueError:
        return None


def _lots(text: str) -> list[str]:
    return [part for part in text.replace(",", "\n").replace(";", "\n").splitlines() if part.strip()]


def _dates(values: dict[str, str]) -> dict[str, date]:
    """Due dates typed on the issue form ("due-<step>"); one left empty keeps
    the step's default, one that is no date is refused (never replaced by
    the default behind the person's back)."""
    found, problems = {}, {}
    for step in STEPS:
        text = values.get(f"due-{step.value}", "").strip()
        if not text:
            continue
        try:
            found[step.value] = date.fromisoformat(text)
        except ValueError:
            problems[step.value] = N_("Enter a date as YYYY-MM-DD.")
    if problems:
        raise InvalidForm(fields=problems)
    return found


async def ncr_page(ncr_id: UUID | str, values: dict[str, str] | None = None, error: DomainError | None = None, form: str = "") -> Template:
    ncr = await ncrs.get_ncr(ncr_id)
    defaults = {}
    if ncr.status == Status.DRAFT.value:
        days = await ncrs.step_days()
        today = current().today()
        defaults = {step.value: date.fromordinal(today.toordinal() + days[step]).isoformat() for step in STEPS}
    owners = await ncrs.owner_choices() if current().can("ncrs.manage") and ncr.status in OPEN_STATES else []
    return form_page(
        "quality/ncr_detail.html",
        values=values,
        error=error,
        ncr=ncr,
        form=form,
        owners=owners,
        due_defaults=defaults,
        active_nav="ncrs",
        **labels(),
    )


async def _again(ncr_id: UUID, values: dict[str, str], error: DomainError, form: str) -> Template:
    """The NCR page again with what was typed and the error. ``form`` names
    the form refused, with its step for a step's forms: when someone moved
    the NCR on meanwhile, the answer typed for one step must not appear in
    the next step's form (it is kept beside the message instead). An NCR or
    step the actor may not reach is the not-found page, the same for another
    NCR's step as for a missing one."""
    if isinstance(error, NotFound):
        raise error
    return await ncr_page(ncr_id, values, error, form)


class NcrPages(Controller):
    path = "/ncrs"
    include_in_schema = False
    guards = [requires("ncrs.view")]

    @get("/", name="ncrs")
    async def show_ncrs(
        self,
        request: Request[Any, Any, Any],
        status: FromQuery[StatusFilter | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        order_id: FromQuery[UUID | None] = None,
        delivery_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template | HTMXBlockTemplate:
        """The list; for htmx, the rows alone, which the order, the delivery
        and the homes embed (filtered by ``order_id`` / ``delivery_id``)."""
        items, next_cursor = await ncrs.list_ncrs(
            status=status, supplier_id=supplier_id, order_id=order_id, delivery_id=delivery_id, cursor=cursor
        )
        context = {
            "ncrs": items,
            "next_cursor": next_cursor,
            "status": status or "",
            "supplier_id": supplier_id,
            "order_id": order_id,
            "delivery_id": delivery_id,
            "filters": ["open", *(state.value for state in Status)],
            "active_nav": "ncrs",
            **labels(),
        }
        headers = {"vary": "HX-Request"}
        if request.headers.get("hx-request") and not request.headers.get("hx-boosted"):
            return HTMXBlockTemplate(template_name="quality/ncrs.html", block_name="ncr_panel", context=context, headers=headers)
        context["suppliers"] = [] if current().is_supplier else await list_suppliers()
        return Template(template_name="quality/ncrs.html", context=context, headers=headers)

    @get("/new", guards=[requires("ncrs.manage")])
    async def show_new_ncr(
        self,
        delivery_line_id: FromQuery[UUID | None] = None,
        document_id: FromQuery[UUID | None] = None,
        order_line_id: FromQuery[UUID | None] = None,
    ) -> Template:
        values = {
            "delivery_line_id": str(delivery_line_id or ""),
            "document_id": str(document_id or ""),
            "order_line_id": str(order_line_id or ""),
        }
        return await self._new_form(values)

    async def _new_form(self, values: dict[str, str], error: DomainError | None = None) -> Template:
        source = await ncrs.describe_source(
            _uuid(values.get("delivery_line_id", "")), _uuid(values.get("document_id", "")), _uuid(values.get("order_line_id", ""))
        )
        suppliers = [] if source else await list_suppliers()
        return form_page(
            "quality/ncr_new.html", values=values, error=error, source=source, suppliers=suppliers, active_nav="ncrs", **labels()
        )

    @post("/", guards=[requires("ncrs.manage")])
    async def open_ncr(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        data = NcrIn(
            title=values.get("title", ""),
            description=values.get("description", ""),
            severity=values.get("severity", ""),
            supplier_id=_uuid(values.get("supplier_id", "")),
            delivery_line_id=_uuid(values.get("delivery_line_id", "")),
            document_id=_uuid(values.get("document_id", "")),
            order_line_id=_uuid(values.get("order_line_id", "")),
            lots=_lots(values["lots"]) if values.get("lots", "").strip() else None,
            quantity=values.get("quantity", ""),
        )
        try:
            ncr = await ncrs.open_ncr(data)
        except DomainError as exc:
            return await self._new_form(values, exc)
        return Redirect(path=f"/ncrs/{ncr.id}", status_code=303)

    @get("/{ncr_id:uuid}")
    async def show_ncr(self, ncr_id: FromPath[UUID]) -> Template:
        return await ncr_page(ncr_id)

    @post("/{ncr_id:uuid}/issue", guards=[requires("ncrs.manage")])
    async def issue_ncr(self, request: Request[Any, Any, Any], ncr_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await ncrs.issue_ncr(ncr_id, IssueIn(version=form_version(values), due_dates=_dates(values)))
        except DomainError as exc:
            return await _again(ncr_id, values, exc, "issue")
        return Redirect(path=f"/ncrs/{ncr_id}", status_code=303)

    @post(
        "/{ncr_id:uuid}/steps/{step_id:uuid}/answer",
        guards=[requires("ncrs.answer")],
        opt={SPOOL_OPT: True},
        request_max_body_size=None,
    )
    async def answer_step(
        self, request: Request[Any, Any, Any], ncr_id: FromPath[UUID], step_id: FromPath[UUID]
    ) -> Redirect | Template | Response[Any]:
        """The answer form: text and maybe one photo, which becomes evidence
        on the step. The phone's outbox (static/js/outbox.js) posts the same
        form asking for JSON, with the ``client_id`` made when it was written:
        200 once stored (now or before), or the error, so that it knows
        whether to keep the answer queued."""
        wants_json = "application/json" in request.headers.get("accept", "")
        # The scoped lookup first: another supplier's NCR answers 404 before the body is read.
        await ncrs.get_ncr(ncr_id)
        upload = None
        if request.content_type[0] == "multipart/form-data":
            storage = storage_of(request)
            upload = await read_upload_form(request, storage.staging_dir(), largest_limit())
            values = dict(upload.fields)
        else:
            values = await form_values(request)
        try:
            try:
                data = AnswerIn(text=values.get("text", ""), version=form_version(values), client_id=_uuid(values.get("client_id", "")))
                if await ncrs.check_answer(ncr_id, step_id, data) and upload is not None and upload.file is not None:
                    category = "photo" if str(upload.file.declared_type).startswith("image/") else "other"
                    await store_upload(storage, await new_document_target("ncr_step", step_id, category, ""), upload.file)
                await ncrs.answer_step(ncr_id, step_id, data)
            except DomainError as exc:
                if wants_json:
                    return json_error(exc)
                return await _again(ncr_id, values, exc, f"answer:{step_id}")
        finally:
            if upload is not None:
                upload.discard()
        if wants_json:
            return Response({"id": str(ncr_id)}, status_code=200, media_type=MediaType.JSON)
        return Redirect(path=f"/ncrs/{ncr_id}", status_code=303)

    @post("/{ncr_id:uuid}/steps/{step_id:uuid}/accept", guards=[requires("ncrs.manage")])
    async def accept_step(self, request: Request[Any, Any, Any], ncr_id: FromPath[UUID], step_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await ncrs.accept_step(ncr_id, step_id, DecisionIn(comment=values.get("comment", ""), version=form_version(values)))
        except DomainError as exc:
            return await _again(ncr_id, values, exc, f"accept:{step_id}")
        return Redirect(path=f"/ncrs/{ncr_id}", status_code=303)

    @post("/{ncr_id:uuid}/steps/{step_id:uuid}/return", guards=[requires("ncrs.manage")])
    async def return_step(self, request: Request[Any, Any, Any], ncr_id: FromPath[UUID], step_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await ncrs.return_step(ncr_id, step_id, DecisionIn(comment=values.get("comment", ""), version=form_version(values)))
        except DomainError as exc:
            return await _again(ncr_id, values, exc, f"decide:{step_id}")
        return Redirect(path=f"/ncrs/{ncr_id}", status_code=303)

    @post("/{ncr_id:uuid}/close", guards=[requires("ncrs.manage")])
    async def close_ncr(self, request: Request[Any, Any, Any], ncr_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await ncrs.close_ncr(ncr_id, DecisionIn(comment=values.get("comment", ""), version=form_version(values)))
        except DomainError as exc:
            return await _again(ncr_id, values, exc, "close")
        return Redirect(path=f"/ncrs/{ncr_id}", status_code=303)

    @post("/{ncr_id:uuid}/cancel", guards=[requires("ncrs.manage")])
    async def cancel_ncr(self, request: Request[Any, Any, Any], ncr_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await ncrs.cancel_ncr(ncr_id, DecisionIn(comment=values.get("reason", ""), version=form_version(values)))
        except DomainError as exc:
            if exc.fields and "comment" in exc.fields:
                exc.fields = {"reason": exc.fields["comment"]}
            return await _again(ncr_id, values, exc, "cancel")
        return Redirect(path=f"/ncrs/{ncr_id}", status_code=303)

    @post("/{ncr_id:uuid}/owner", guards=[requires("ncrs.manage")])
    async def change_owner(self, request: Request[Any, Any, Any], ncr_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await ncrs.change_owner(ncr_id, OwnerIn(owner_id=_uuid(values.get("owner_id", ""))))
        except DomainError as exc:
            return await _again(ncr_id, values, exc, "owner")
        return Redirect(path=f"/ncrs/{ncr_id}", status_code=303)

    @post("/{ncr_id:uuid}/dispositions", guards=[requires("ncrs.manage")])
    async def add_disposition(self, request: Request[Any, Any, Any], ncr_id: FromPath[UUID]) -> Redirect | Template:
        values = await form_values(request)
        data = DispositionIn(
            kind=values.get("kind", ""),
            quantity=values.get("quantity", ""),
            chargeable=values.get("chargeable") == "yes",
            amount=values.get("amount", "") or "0",
            note=values.get("note", ""),
        )
        try:
            await ncrs.add_disposition(ncr_id, data)
        except DomainError as exc:
            return await _again(ncr_id, values, exc, "disposition")
        return Redirect(path=f"/ncrs/{ncr_id}#dispositions", status_code=303)


class NcrSettingsPages(Controller):
    path = "/admin/ncr-steps"
    include_in_schema = False
    guards = [requires("ncrs.configure")]

    @get("/", name="ncr_steps")
    async def show_step_days(self, saved: FromQuery[bool] = False) -> Template:
        days = await ncrs.get_step_days()
        values = {step.value: str(getattr(days, step.value)) for step in STEPS}
        return form_page("quality/ncr_steps.html", values=values, saved=saved, active_nav="ncrs", **labels())

    @post("/")
    async def save_step_days(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        numbers = {
            step.value: int(text) if (text := values.get(step.value, "").strip()).isdigit() and len(text) < 5 else 0 for step in STEPS
        }
        try:
            await ncrs.set_step_days(StepDaysIn(**numbers))
        except DomainError as exc:
            return form_page("quality/ncr_steps.html", values=values, error=exc, saved=False, active_nav="ncrs", **labels())
        return Redirect(path="/admin/ncr-steps?saved=1", status_code=303)


METRICS = {
    "on_time_rate": N_("On-time delivery, last 12 months"),
    "first_pass_yield": N_("First-pass yield, last 12 months"),
    "qc_rejection_rate": N_("QC documents rejected, last 12 months"),
}
Metric = Literal["on_time_rate", "first_pass_yield", "qc_rejection_rate"]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


class ScorecardPages(Controller):
    path = "/scorecards"
    include_in_schema = False
    guards = [requires("quality.view")]

    @get("/", name="scorecards")
    async def show_scorecards(self, period: FromQuery[str | None] = None) -> Template:
        """Every supplier's card, ranked, for buyers; a supplier's own card."""
        chosen = (period or "").strip() or scorecards.current_month()
        try:
            cards = await store.cards(chosen)
        except DomainError as exc:
            return form_page("quality/scorecards.html", error=exc, cards=[], period=chosen, pct=_percent, hours=_hours, active_nav="ncrs")
        return form_page("quality/scorecards.html", cards=cards, period=chosen, pct=_percent, hours=_hours, active_nav="ncrs")

    @get("/trend.svg", media_type="image/svg+xml")
    async def show_trend(self, metric: FromQuery[Metric] = "on_time_rate") -> Response[str]:
        """A 12-month line of one figure over the suppliers the caller sees,
        drawn as SVG for the boards' <img> tags."""
        points = await store.trend()
        values = [getattr(point, metric) for point in points]
        svg = charts.line_chart(gettext(METRICS[metric]), [point.period for point in points], values)
        # A month still being computed: the next view asks again.
        cache = "no-cache" if any(point.pending for point in points) else "private, max-age=300"
        return Response(content=svg, media_type="image/svg+xml", headers={"cache-control": cache})


# The trace's sections as its page names them (trace.LotTrace.cut).
TRACE_SECTIONS = {
    "material": N_("Material of this lot"),
    "movements": N_("Returns and scrap"),
    "delivered": N_("Deliveries of this lot"),
    "consumed_by": N_("Deliveries and reports that used it"),
    "reports": N_("Progress reports"),
    "made_from": N_("Made from material lots"),
    "ncrs": N_("NCRs"),
}


class LotTracePages(Controller):
    path = "/lots"
    include_in_schema = False
    guards = [requires("quality.view")]

    @get("/", name="lot_trace")
    async def show_lot_trace(self, lot: FromQuery[str] = "") -> Template:
        """A search box, and the lot's trace once one is named."""
        if not lot.strip():
            return form_page("quality/lots.html", found=None, lot="", active_nav="ncrs", **labels())
        try:
            found = await trace.trace_lot(lot)
        except DomainError as exc:
            return form_page("quality/lots.html", error=exc, found=None, lot=lot, active_nav="ncrs", **labels())
        cut = ", ".join(gettext(TRACE_SECTIONS[name]) for name in found.cut)
        return form_page(
            "quality/lots.html", found=found, lot=lot, cut_sections=cut, trace_limit=trace.LIMIT, active_nav="ncrs", **labels()
        )
