"""Orders JSON API: the same services as the pages."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from portal.orders import services
from portal.orders.schemas import BoardOut, BoardSort, LineAnswersIn, OrderCreate, OrderOut, OrderUpdate, RevisionOut, TransitionIn
from portal.orders.states import Status
from portal.pagination import Page, page_of
from tenants.guards import requires


class OrderApi(Controller):
    path = "/api/v1/orders"
    tags = ["orders"]
    guards = [requires("orders.view")]

    @get("/")
    async def list_orders(
        self,
        status: FromQuery[Status | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        due_before: FromQuery[date | None] = None,
        overdue: FromQuery[bool] = False,
        q: FromQuery[str] = "",
        cursor: FromQuery[str | None] = None,
        sort: FromQuery[BoardSort] = "due",
        dir: FromQuery[Literal["asc", "desc"]] = "asc",
    ) -> BoardOut:
        """Soonest due first unless ``sort`` names another key (number,
        supplier, status, late: late first), ``dir=desc`` reversing it; the
        whole filtered list is sorted and ``next`` pages through it in that
        order (a cursor of another sort answers 400). ``counts`` has the
        number of orders per status. Supplier users see only their own,
        issued orders."""
        return await services.board(
            status.value if status else None, supplier_id, due_before, overdue, q, cursor, sort=sort, descending=dir == "desc"
        )

    @post("/", guards=[requires("orders.manage")], errors=[409])
    async def create_order(self, data: JSONBody[OrderCreate]) -> OrderOut:
        """A draft; issue it with the ``issue`` transition. Each line's
        ``due_date`` is at most ten years ahead (400 naming the line)."""
        return await services.create_order(data)

    @get("/{order_id:uuid}")
    async def get_order(self, order_id: FromPath[UUID]) -> OrderOut:
        return await services.get_order(order_id)

    @patch("/{order_id:uuid}", guards=[requires("orders.manage")])
    async def update_order(self, order_id: FromPath[UUID], data: JSONBody[OrderUpdate]) -> OrderOut:
        """Send the whole set of lines and the ``version`` you read. After
        issue a ``reason`` is required and the change becomes a revision.
        Due dates: at most ten years ahead; a new one not in the past once
        issued."""
        return await services.update_order(order_id, data)

    @post("/{order_id:uuid}/transitions", status_code=200)
    async def fire_transition(self, order_id: FromPath[UUID], data: JSONBody[TransitionIn]) -> OrderOut:
        """``event``: issue, accept, reject, reissue, start, close or cancel
        (reject and cancel need a ``reason``). Cancel answers 409
        ``deliveries_in_transit`` while goods shipped against the order are
        not received (receive them, or the supplier cancels the notice)."""
        return await services.fire(order_id, data.event, data.reason, data.version)

    @post("/{order_id:uuid}/answers", status_code=200, guards=[requires("orders.respond")], errors=[409])
    async def answer_lines(self, order_id: FromPath[UUID], data: JSONBody[LineAnswersIn]) -> OrderOut:
        """The supplier's answer to an issued order, line by line: one entry
        per line (``accept``; a declined line needs a ``reason``). All
        accepted accepts the order, all declined rejects it, some of each
        accepts it without the declined lines (event ``accept_in_part``)."""
        return await services.answer_lines(order_id, data)

    @get("/{order_id:uuid}/revisions")
    async def list_revisions(self, order_id: FromPath[UUID]) -> Page[RevisionOut]:
        return page_of(await services.list_revisions(order_id))

    @post("/{order_id:uuid}/revisions/{revision_id:uuid}/acknowledge", status_code=200)
    async def acknowledge_revision(self, order_id: FromPath[UUID], revision_id: FromPath[UUID]) -> RevisionOut:
        return await services.acknowledge_revision(order_id, revision_id)
