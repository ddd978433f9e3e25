"""NCR JSON API: the same services as the pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Response

from portal.openapi import also_answers
from portal.pagination import Page, page_of
from portal.quality import ncrs
from portal.quality.ncrs import (
    AnswerIn,
    ConcessionHeld,
    DecisionIn,
    DispositionIn,
    DispositionOut,
    IssueIn,
    NcrIn,
    NcrOut,
    NcrRow,
    OwnerChoice,
    OwnerIn,
    StatusFilter,
    StepDaysIn,
    StepDaysOut,
)
from tenants.guards import requires


class NcrApi(Controller):
    path = "/api/v1/ncrs"
    tags = ["quality"]
    guards = [requires("ncrs.view")]

    @get("/")
    async def list_ncrs(
        self,
        status: FromQuery[StatusFilter | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        order_id: FromQuery[UUID | None] = None,
        delivery_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Page[NcrRow]:
        """Newest first. ``status``: draft, containment, root_cause,
        corrective_action, verification, verified, closed, cancelled, or
        ``open`` for any but closed and cancelled. Supplier users see their
        own issued NCRs only."""
        items, next_cursor = await ncrs.list_ncrs(
            status=status, supplier_id=supplier_id, order_id=order_id, delivery_id=delivery_id, cursor=cursor
        )
        return page_of(items, next_cursor)

    @post("/", guards=[requires("ncrs.manage")])
    async def open_ncr(self, data: JSONBody[NcrIn]) -> NcrOut:
        """Open a draft NCR from a rejected delivery line (``delivery_line_id``),
        a rejected QC document (``document_id``), an order line or a supplier.
        ``quantity`` is a decimal string; lots and quantity default to the
        source's. Attach photos with attached_type ``ncr``, then issue it."""
        return await ncrs.open_ncr(data)

    @get("/{ncr_id:uuid}")
    async def get_ncr(self, ncr_id: FromPath[UUID]) -> NcrOut:
        """The NCR with ``status``, ``step_state`` (waiting: for the
        supplier; answered: for QA), ``supplier_id``, its steps with due
        dates, what was said on them and its dispositions."""
        return await ncrs.get_ncr(ncr_id)

    @post("/{ncr_id:uuid}/issue", guards=[requires("ncrs.manage")], status_code=200)
    async def issue_ncr(self, ncr_id: FromPath[UUID], data: JSONBody[IssueIn]) -> NcrOut:
        """Send a draft to the supplier; the steps start. ``due_dates``
        (step -> date) replace the tenant's default days; past dates, and a
        step due before the one it follows, are refused."""
        return await ncrs.issue_ncr(ncr_id, data)

    @post("/{ncr_id:uuid}/steps/{step_id:uuid}/answer", guards=[requires("ncrs.answer")], status_code=200)
    async def answer_step(self, ncr_id: FromPath[UUID], step_id: FromPath[UUID], data: JSONBody[AnswerIn]) -> NcrOut:
        """The supplier answers the step the NCR stands at (3-4000
        characters); documents attached to the step (attached_type
        ``ncr_step``) become its evidence. Another step: 409."""
        return await ncrs.answer_step(ncr_id, step_id, data)

    @post("/{ncr_id:uuid}/steps/{step_id:uuid}/accept", guards=[requires("ncrs.manage")], status_code=200)
    async def accept_step(self, ncr_id: FromPath[UUID], step_id: FromPath[UUID], data: JSONBody[DecisionIn]) -> NcrOut:
        """QA accepts the answer; send the ``version`` you decided on: 409
        when someone moved the NCR since, or when there is no answer to decide."""
        return await ncrs.accept_step(ncr_id, step_id, data)

    @post("/{ncr_id:uuid}/steps/{step_id:uuid}/return", guards=[requires("ncrs.manage")], status_code=200)
    async def return_step(self, ncr_id: FromPath[UUID], step_id: FromPath[UUID], data: JSONBody[DecisionIn]) -> NcrOut:
        """QA sends the answer back with a ``comment`` (3-4000 characters)."""
        return await ncrs.return_step(ncr_id, step_id, data)

    @post("/{ncr_id:uuid}/close", guards=[requires("ncrs.manage")], status_code=200)
    async def close_ncr(self, ncr_id: FromPath[UUID], data: JSONBody[DecisionIn]) -> NcrOut:
        """Close a verified NCR (QA accepted its verification step); 409 before."""
        return await ncrs.close_ncr(ncr_id, data)

    @post("/{ncr_id:uuid}/cancel", guards=[requires("ncrs.manage")], status_code=200)
    async def cancel_ncr(self, ncr_id: FromPath[UUID], data: JSONBody[DecisionIn]) -> NcrOut:
        """Cancel an open NCR with a reason (``comment``)."""
        return await ncrs.cancel_ncr(ncr_id, data)

    @post("/{ncr_id:uuid}/owner", guards=[requires("ncrs.manage")], status_code=200)
    async def change_owner(self, ncr_id: FromPath[UUID], data: JSONBody[OwnerIn]) -> NcrOut:
        """Hand an open NCR to another owner (``owner_id``: a user who may
        manage NCRs, see ``GET /api/v1/ncrs/owners``); audited, and the new
        and the former owner are notified."""
        return await ncrs.change_owner(ncr_id, data)

    @get("/owners", guards=[requires("ncrs.manage")])
    async def list_owner_choices(self) -> Page[OwnerChoice]:
        """Who may own an NCR (``id``: the user's, for ``owner_id``): the
        active members of QA and the admins, in one page."""
        return page_of(await ncrs.owner_choices(), None)

    @post(
        "/{ncr_id:uuid}/dispositions",
        guards=[requires("ncrs.manage")],
        status_code=201,
        responses={
            201: also_answers(DispositionOut, "The disposition is recorded."),
            202: also_answers(
                ConcessionHeld,
                "A concession (use_as_is) waits for the approver the tenant's ``ncr.concession`` rule names.",
            ),
        },
    )
    async def add_disposition(self, ncr_id: FromPath[UUID], data: JSONBody[DispositionIn]) -> Response[Any]:
        """What becomes of the goods: ``kind`` rework, return, scrap or
        use_as_is (``note``: the concession), ``quantity`` (together at most
        the NCR's, two sent at once included: 409 ``ncr_quantity_exceeded``),
        ``chargeable`` with its ``amount`` (decimal strings).
        When the tenant holds concessions for approval, a use_as_is answers
        202 with the approval request; approving it records the disposition."""
        result = await ncrs.add_disposition(ncr_id, data)
        return Response(result, status_code=202 if isinstance(result, ConcessionHeld) else 201)


class NcrSettingsApi(Controller):
    path = "/api/v1/settings/ncr-steps"
    tags = ["quality"]
    guards = [requires("ncrs.configure")]

    @get("/")
    async def show_step_days(self) -> StepDaysOut:
        """Days from issue to each NCR step's due date."""
        return await ncrs.get_step_days()

    @put("/")
    async def replace_step_days(self, data: JSONBody[StepDaysIn]) -> StepDaysOut:
        """1-365 days per step; no step due before the one it follows.
        NCRs already issued keep their due dates."""
        return await ncrs.set_step_days(data)
