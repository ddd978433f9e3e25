"""Statement pages: finance's list (compute, close, approve adjustments) and
a statement's page, where finance sends, answers disputes and finalizes and
the supplier admin confirms or disputes each line from a phone. Thin: parse
the form, call one service, redirect (303) or re-render with the error."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import DomainError, NotFound, PermissionDenied
from portal.forms import form_page, form_values
from portal.i18n import N_, gettext
from portal.imports.http import PageFormat, file_response
from portal.reconciliation import pdf, services
from portal.reconciliation.exporting import KIND_LABELS, export_statement
from portal.reconciliation.schemas import AdjustmentIn
from portal.reconciliation.states import LINE_STATE_LABELS, STATUS_LABELS, STEP_LABELS, Status
from tenants.guards import requires

DONE_MESSAGES = {
    "computed": N_("The statements are computed from the records."),
    "closed": N_("The period is closed for this supplier: its statements are frozen."),
    "sent": N_("Sent: the supplier is asked to confirm each line."),
    "confirmed_line": N_("Line confirmed."),
    "disputed": N_("Dispute sent to finance."),
    "answered": N_("Answer sent: the supplier looks at the line again."),
    "confirmed": N_("You confirmed the statement. Finance finalizes it next."),
    "finalized": N_("The statement is finalized and locked."),
    "adjustment": N_("The adjustment waits for someone else's approval."),
    "approved": N_("Adjustment approved: it counts when the statement is computed again."),
    "pdf": N_("The PDF is being rendered: it appears here when it is ready."),
}
VARY = {"vary": "HX-Request"}

VIEW = [requires("statements.view")]
MANAGE = [requires("statements.manage")]
APPROVE = [requires("statements.approve")]
RESPOND = [requires("statements.respond")]


def _common() -> dict[str, Any]:
    return {
        "active_nav": "statements",
        "status_labels": {status.value: gettext(label) for status, label in STATUS_LABELS.items()},
        "line_state_labels": {state.value: gettext(label) for state, label in LINE_STATE_LABELS.items()},
        "kind_labels": {kind: gettext(label) for kind, label in KIND_LABELS.items()},
        "step_labels": {step: gettext(label) for step, label in STEP_LABELS.items()},
    }


def _reraise_lookup(exc: DomainError) -> None:
    if isinstance(exc, (NotFound, PermissionDenied)):
        raise exc


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _done(message: str | None) -> str | None:
    found = DONE_MESSAGES.get(message or "")
    return gettext(found) if found else None


class StatementPages(Controller):
    path = "/statements"
    include_in_schema = False

    async def _index(
        self,
        period: str | None,
        status: str | None,
        values: dict[str, str] | None = None,
        error: DomainError | None = None,
        done: str | None = None,
    ) -> Template:
        from tenants.guards import acting

        context = acting()
        status = status if status in {s.value for s in Status} else None
        listing = await services.list_statements(period=period or None, status=status)
        manage = context.can("statements.manage")
        return form_page(
            "reconciliation/index.html",
            values=values or {"period": await services.default_period()},
            error=error,
            statements=listing.items,
            next=listing.next,
            period=period or "",
            status=status or "",
            statuses=[s for s in Status if s is not Status.DRAFT or manage],
            supplier_options=[(row.id, row.name) for row in await services.statement_suppliers()] if manage else [],
            adjustments=await services.list_adjustments() if manage else [],
            done_message=_done(done),
            **_common(),
        )

    @get("/", name="statements", guards=VIEW)
    async def show_statements(
        self, period: FromQuery[str | None] = None, status: FromQuery[str | None] = None, done: FromQuery[str | None] = None
    ) -> Template:
        return await self._index(period, status, done=done)

    async def _period_action(self, request: Request[Any, Any, Any], close: bool) -> Redirect | Template:
        values = await form_values(request)
        supplier_id = _uuid(values.get("supplier_id", ""))
        period = values.get("period", "").strip()
        try:
            if supplier_id is None:
                raise services.InvalidPeriod(fields={"supplier_id": N_("This supplier does not exist.")})
            if close:
                await services.close_period(supplier_id, period)
            else:
                await services.refresh(supplier_id, period)
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._index(None, None, values, exc)
        return Redirect(path=f"/statements?period={period}&done={'closed' if close else 'computed'}", status_code=303)

    @post("/compute", guards=MANAGE)
    async def compute_statements(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        return await self._period_action(request, close=False)

    @post("/close", guards=MANAGE)
    async def close_period(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        return await self._period_action(request, close=True)

    @post("/adjustments", guards=MANAGE)
    async def create_adjustment(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        supplier_id = _uuid(values.get("supplier_id", ""))
        try:
            if supplier_id is None:
                raise services.InvalidAdjustment(fields={"supplier_id": N_("This supplier does not exist.")})
            data = AdjustmentIn(
                supplier_id=supplier_id,
                period=values.get("period", "").strip(),
                amount=values.get("amount", ""),
                reason=values.get("reason", ""),
                currency=values.get("currency") or None,
                corrects=values.get("corrects", "").strip(),
            )
            await services.create_adjustment(data)
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._index(None, None, values, exc)
        return Redirect(path="/statements?done=adjustment", status_code=303)

    @post("/adjustments/{adjustment_id:uuid}/approve", guards=APPROVE)
    async def approve_adjustment(self, adjustment_id: FromPath[UUID]) -> Redirect | Template:
        try:
            await services.approve_adjustment(adjustment_id)
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._index(None, None, None, exc)
        return Redirect(path="/statements?done=approved", status_code=303)

    # ------------------------------------------------------------ one statement

    async def _detail(
        self, statement_id: UUID, values: dict[str, str] | None = None, error: DomainError | None = None, done: str | None = None
    ) -> Template:
        statement = await services.get_statement(statement_id)
        open_lines = [line for line in statement.lines if line.state != "confirmed"]
        return form_page(
            "reconciliation/detail.html",
            values=values,
            error=error,
            statement=statement,
            open_lines=open_lines,
            done_message=_done(done),
            **_common(),
        )

    @get("/{statement_id:uuid}", guards=VIEW)
    async def show_statement(
        self, request: Request[Any, Any, Any], statement_id: FromPath[UUID], done: FromQuery[str | None] = None
    ) -> Template:
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "statement-pdf":
            # The PDF block polls itself while the job renders.
            statement = await services.get_statement(statement_id)
            return HTMXBlockTemplate(
                template_name="reconciliation/detail.html",
                block_name="statement_pdf",
                context={"statement": statement, "values": {}, "error_message": None, "field_errors": {}, **_common()},
                headers=VARY,
            )
        page = await self._detail(statement_id, done=done)
        page.headers.update(VARY)
        return page

    @post("/{statement_id:uuid}/pdf", guards=VIEW)
    async def request_statement_pdf(self, statement_id: FromPath[UUID]) -> Redirect | Template:
        return await self._act(statement_id, "pdf", lambda: pdf.request_pdf(statement_id), anchor="#statement-pdf")

    @get("/{statement_id:uuid}/pdf", guards=VIEW, media_type="application/pdf")
    async def download_statement_pdf(self, statement_id: FromPath[UUID]) -> Response[bytes]:
        found = await pdf.download_pdf(statement_id)
        return Response(
            found.content,
            media_type="application/pdf",
            headers={"content-disposition": found.disposition, "cache-control": "private, no-store"},
        )

    @get("/{statement_id:uuid}/export", guards=VIEW, media_type="application/octet-stream")
    async def export_statement(
        self, statement_id: FromPath[UUID], fmt: PageFormat = "xlsx", part: FromQuery[str] = "lines"
    ) -> Response[bytes]:
        return file_response(await export_statement(statement_id, fmt, part))

    async def _act(
        self, statement_id: UUID, done: str, action: Any, values: dict[str, str] | None = None, anchor: str = ""
    ) -> Redirect | Template:
        try:
            await action()
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._detail(statement_id, values, exc)
        return Redirect(path=f"/statements/{statement_id}?done={done}{anchor}", status_code=303)

    @post("/{statement_id:uuid}/send", guards=MANAGE)
    async def send_statement(self, statement_id: FromPath[UUID]) -> Redirect | Template:
        return await self._act(statement_id, "sent", lambda: services.send_statement(statement_id))

    @post("/{statement_id:uuid}/confirm", guards=RESPOND)
    async def confirm_statement(self, statement_id: FromPath[UUID]) -> Redirect | Template:
        return await self._act(statement_id, "confirmed", lambda: services.confirm_statement(statement_id))

    @post("/{statement_id:uuid}/finalize", guards=MANAGE)
    async def finalize_statement(self, statement_id: FromPath[UUID]) -> Redirect | Template:
        return await self._act(statement_id, "finalized", lambda: services.finalize_statement(statement_id))

    @post("/{statement_id:uuid}/lines/{statement_line_id:uuid}/confirm", guards=RESPOND)
    async def confirm_line(self, statement_id: FromPath[UUID], statement_line_id: FromPath[UUID]) -> Redirect | Template:
        return await self._act(
            statement_id, "confirmed_line", lambda: services.confirm_line(statement_id, statement_line_id), anchor="#lines"
        )

    @post("/{statement_id:uuid}/lines/{statement_line_id:uuid}/dispute", guards=RESPOND)
    async def dispute_line(
        self, statement_id: FromPath[UUID], statement_line_id: FromPath[UUID], request: Request[Any, Any, Any]
    ) -> Redirect | Template:
        values = await form_values(request)
        values["line"] = str(statement_line_id)
        return await self._act(
            statement_id,
            "disputed",
            lambda: services.dispute_line(statement_id, statement_line_id, values.get("comment", "")),
            values,
            anchor="#lines",
        )

    @post("/{statement_id:uuid}/lines/{statement_line_id:uuid}/answer", guards=MANAGE)
    async def answer_dispute(
        self, statement_id: FromPath[UUID], statement_line_id: FromPath[UUID], request: Request[Any, Any, Any]
    ) -> Redirect | Template:
        values = await form_values(request)
        values["line"] = str(statement_line_id)
        return await self._act(
            statement_id,
            "answered",
            lambda: services.answer_dispute(statement_id, statement_line_id, values.get("comment", ""), values.get("correction", "")),
            values,
            anchor="#lines",
        )
