"""The approver's pages: what waits, one request with its decision form."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.approvals import services
from portal.approvals.services import DecisionIn
from portal.errors import DomainError
from portal.forms import form_page, form_values
from tenants.guards import acting, requires


class ApprovalPages(Controller):
    path = "/approvals"
    include_in_schema = False
    guards = [requires("approvals.view")]

    @get("/", name="approvals")
    async def show_approvals(self) -> Template:
        waiting = await services.waiting_for_me()
        recent, _ = await services.list_requests()
        return form_page("approvals/index.html", waiting=waiting, recent=recent, statuses=services.STATUS_LABELS, active_nav="approvals")

    @get("/{approval_id:uuid}")
    async def show_approval(self, approval_id: FromPath[UUID]) -> Template:
        return await _detail(approval_id)

    @post("/{approval_id:uuid}/decision", guards=[requires("approvals.decide")])
    async def decide_approval(self, approval_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Template | Redirect:
        values = await form_values(request)
        try:
            await services.decide(approval_id, DecisionIn(approve=values.get("decision") == "approve", comment=values.get("comment", "")))
        except DomainError as exc:
            return await _detail(approval_id, values, exc)
        return Redirect(path=f"/approvals/{approval_id}", status_code=303)


async def _detail(approval_id: UUID, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
    found = await services.get_request(approval_id)
    context = acting()
    may_decide = (
        found.status == "pending"
        and context.can("approvals.decide")
        and context.role.value == found.approver_role
        and found.requested_by_id != context.user_id
    )
    return form_page(
        "approvals/detail.html",
        values=values,
        error=error,
        request_=found,
        kinds=services.KINDS,
        statuses=services.STATUS_LABELS,
        may_decide=may_decide,
        active_nav="approvals",
    )
