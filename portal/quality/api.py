"""Quality JSON API: QC checklists of orders and reviews of documents, the
same services as the pages."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from portal.i18n import gettext
from portal.kpi import store
from portal.lengths import most
from portal.pagination import Page, page_of
from portal.quality import reasons, scorecards, services, templates, trace
from portal.quality.scorecards import Scorecard
from portal.quality.services import RequirementIn, RequirementOut, RequirementState, ReviewIn, ReviewOut, WaiveIn
from portal.quality.tables import RejectReason
from portal.quality.templates import TemplateIn, TemplateOut
from portal.quality.trace import LotTrace
from tenants.guards import requires


class QcRequirementApi(Controller):
    path = "/api/v1/qc-requirements"
    tags = ["quality"]
    guards = [requires("quality.view")]

    @get("/")
    async def list_requirements(
        self,
        status: FromQuery[RequirementState | None] = None,
        order_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Page[RequirementOut]:
        """Newest first, each with its ``state`` (missing, pending, rejected,
        approved, waived; filter with ``status``) and the documents that count for it. Supplier users
        see those of their issued orders."""
        items, next_cursor = await services.list_requirements(state=status, order_id=order_id, cursor=cursor)
        return page_of(items, next_cursor)

    @get("/{requirement_id:uuid}")
    async def get_requirement(self, requirement_id: FromPath[UUID]) -> RequirementOut:
        return await services.get_requirement(requirement_id)

    @post("/{requirement_id:uuid}/waive", guards=[requires("quality.require")], status_code=200)
    async def waive_requirement(self, requirement_id: FromPath[UUID], data: JSONBody[WaiveIn]) -> RequirementOut:
        """Waive with a reason (3-1000 characters), once (409
        ``qc_requirement_waived`` after); it stays on the checklist."""
        return await services.waive_requirement(requirement_id, data)


class OrderQcApi(Controller):
    path = "/api/v1/orders/{order_id:uuid}/qc-requirements"
    tags = ["quality"]
    guards = [requires("quality.view")]

    @get("/")
    async def show_checklist(self, order_id: FromPath[UUID]) -> Page[RequirementOut]:
        """The order's QC checklist, oldest requirement first."""
        return page_of(await services.order_checklist(order_id))

    @post("/", guards=[requires("quality.require")])
    async def add_requirement(self, order_id: FromPath[UUID], data: JSONBody[RequirementIn]) -> RequirementOut:
        """Require a document category (see the documents' categories) on an
        order that is not closed or cancelled; one open requirement per
        category."""
        return await services.add_requirement(order_id, data)


class DocumentReviewApi(Controller):
    path = "/api/v1/documents/{document_id:uuid}/reviews"
    tags = ["quality"]
    guards = [requires("quality.view")]

    @get("/")
    async def list_reviews(self, document_id: FromPath[UUID]) -> Page[ReviewOut]:
        """Every QA decision on the document, newest first."""
        return page_of(await services.list_reviews(document_id))

    @post(
        "/",
        guards=[requires("quality.review")],
        error_descriptions={
            409: "`error.code` `stale_version`: a newer version arrived since the `version` sent; `already_reviewed`: that"
            " version was decided already (the same decision sent again included); `nothing_to_review`: withdrawn or no file."
        },
    )
    async def review_document(self, document_id: FromPath[UUID], data: JSONBody[ReviewIn]) -> ReviewOut:
        """Approve, or reject with a reason, the current version, once. Send
        the ``version`` you looked at: 409 when a newer one arrived since,
        and 409 when that version was already decided (whichever decision
        came first stays; the same one sent again is refused too). A new
        version from the supplier is pending again."""
        return await services.review_document(document_id, data)


class ItemQcTemplateApi(Controller):
    path = "/api/v1/items/{item_id:uuid}/qc-templates"
    tags = ["quality"]

    @get("/", guards=[requires("items.view")])
    async def list_templates(self, item_id: FromPath[UUID]) -> Page[TemplateOut]:
        """What issuing an order of this item adds to its QC checklist: per
        document category, how many, at which stage (first_article,
        in_process, before_delivery) and a note for the supplier."""
        return page_of(await templates.item_templates(item_id))

    @put("/", guards=[requires("quality.require")])
    async def replace_templates(self, item_id: FromPath[UUID], data: JSONBody[list[TemplateIn]]) -> list[TemplateOut]:
        """Replace the item's templates (one per category, at most 20).
        Orders already issued keep their checklists."""
        return await templates.set_item_templates(item_id, data)


class RejectReasonOut(msgspec.Struct, frozen=True):
    code: str
    label: str


class RejectReasonsIn(msgspec.Struct, frozen=True):
    labels: list[Annotated[str, most(RejectReason.label)]]


def _reasons_out(found: list[reasons.Reason]) -> list[RejectReasonOut]:
    return [RejectReasonOut(code=reason.code, label=gettext(reason.label)) for reason in found]


class RejectReasonApi(Controller):
    path = "/api/v1/reject-reasons"
    tags = ["quality"]

    @get("/", guards=[requires("quality.view")])
    async def list_reject_reasons(self) -> Page[RejectReasonOut]:
        """The tenant's reasons for rejecting goods on receipt, in order,
        labels in the caller's language; ``other`` is always there. A
        receipt line names one by ``reject_code``."""
        return page_of(_reasons_out(await reasons.active_reasons()))

    @put("/", guards=[requires("quality.configure")])
    async def replace_reject_reasons(self, data: JSONBody[RejectReasonsIn]) -> list[RejectReasonOut]:
        """Replace the list (1-30 labels). Reasons kept keep their code;
        reasons left out are retired, and lines that name them keep them."""
        return _reasons_out(await reasons.save_reasons(data.labels))


class ScorecardApi(Controller):
    path = "/api/v1/scorecards"
    tags = ["quality"]
    guards = [requires("quality.view")]

    @get("/")
    async def list_scorecards(
        self, period: FromQuery[str | None] = None, supplier_id: FromQuery[UUID | None] = None, cursor: FromQuery[str | None] = None
    ) -> Page[Scorecard]:
        """One scorecard per supplier the caller may see (a supplier user:
        its own) for ``period``, a month ``2026-11`` or a quarter
        ``2026-Q4`` in the tenant's time zone (default: the current month).
        ``on_time_rate``, ``first_pass_yield`` and ``qc_rejection_rate``
        are fractions from 0 to 1, null where nothing was there to count;
        buyers get the suppliers ranked (``rank`` 1 is best). Formulas and
        edge cases: docs/kpi.md. Read from the figures a job keeps
        (``computed_at`` says when): when a record a past period counts
        changed since, its kept figures come with ``stale`` true and their
        refresh is queued as a job; the running month and quarter are at
        most 15 minutes old. A period never computed (or a supplier new
        to it) is not computed for the answer either: those cards come
        with ``pending`` true, ``stale`` true, ``computed_at`` null and
        every figure null while a job computes them; ask again shortly."""
        cards = await store.cards(period or scorecards.current_month(), supplier_id)
        items, next_cursor = scorecards.page(cards, cursor)
        return page_of(items, next_cursor)


class LotTraceApi(Controller):
    path = "/api/v1/lot-trace"
    tags = ["quality"]
    guards = [requires("quality.view")]

    @get("/")
    async def trace_lot(self, lot: FromQuery[str] = "") -> LotTrace:
        """Everything the caller may see that carries ``lot`` (dispatch
        lines, returns and scrap, delivery lines) and what it went into or
        came from, linked through the orders the material was sent for; and
        the NCRs naming it. One trace, not a list."""
        return await trace.trace_lot(lot)
