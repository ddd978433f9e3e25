"""Approvals in the JSON API: the tenant's rules under /api/v1/settings,
the requests and their decisions under /api/v1/approvals."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from portal.approvals import services
from portal.approvals.services import DecisionIn, RequestOut, RuleIn, RuleOut
from portal.pagination import Page, page_of
from tenants.guards import requires


class ApprovalRuleApi(Controller):
    path = "/api/v1/settings/approvals"
    tags = ["approvals"]
    guards = [requires("approvals.view")]

    @get("/")
    async def list_approval_rules(self) -> Page[RuleOut]:
        """One entry per kind of action that can be held (order.issue,
        order.price_increase, ncr.concession, material.write_off): whether
        it is held (``active``), above which amount (``threshold``, for
        kinds with an amount; null: always) and which buyer role decides.
        One page: ``next`` is always null."""
        return page_of(await services.list_rules())

    @put("/", guards=[requires("approvals.configure")])
    async def set_approval_rules(self, data: JSONBody[list[RuleIn]]) -> Page[RuleOut]:
        """Save the rules given; kinds left out keep theirs."""
        return page_of(await services.set_rules(data))


class ApprovalApi(Controller):
    path = "/api/v1/approvals"
    tags = ["approvals"]
    guards = [requires("approvals.view")]

    @get("/")
    async def list_approvals(
        self,
        status: FromQuery[Literal["pending", "approved", "rejected", "withdrawn"] | None] = None,
        mine: FromQuery[bool] = False,
        cursor: FromQuery[str | None] = None,
    ) -> Page[RequestOut]:
        """Held actions, newest first; ``status`` pending, approved,
        rejected; ``mine``: those the caller's role decides."""
        found, next_cursor = await services.list_requests(status, mine, cursor)
        return page_of(found, next_cursor)

    @get("/{approval_id:uuid}")
    async def get_approval(self, approval_id: FromPath[UUID]) -> RequestOut:
        return await services.get_request(approval_id)

    @post("/{approval_id:uuid}/decision", status_code=200, guards=[requires("approvals.decide")], errors=[409])
    async def decide_approval(self, approval_id: FromPath[UUID], data: JSONBody[DecisionIn]) -> RequestOut:
        """The role the rule names approves (the held action happens now)
        or rejects with a ``comment``; anyone else gets 403, a second
        decision 409."""
        return await services.decide(approval_id, data)
