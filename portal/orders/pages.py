"""Order pages: the buyer's board, an order, the order form, the supplier's
inbox. Thin: every rule lives in the services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.configuration.services import choices as category_choices
from portal.deliveries.services import deliveries_to_receive, list_deliveries
from portal.errors import DomainError
from portal.forms import form_page, form_values, form_version
from portal.i18n import gettext
from portal.items.services import list_items
from portal.materials.services import dispatches_to_confirm
from portal.orders import services
from portal.orders.board_rows import board_rows
from portal.orders.forms import line_errors, lines_from_form, posted_answers, posted_lines
from portal.orders.schemas import BOARD_SORTS, OrderCreate, OrderUpdate
from portal.orders.states import BUYER_EVENTS, RECEIVING_STATES, SUPPLIER_EVENTS, TRANSITIONS, Event, Status
from portal.progress.services import order_timeline
from portal.quality.services import order_checklist, qc_todo
from portal.quantities import plain
from portal.reconciliation.services import todo as statements_todo
from tenants.guards import acting, requires
from tenants.services.suppliers import list_suppliers

DUE_SOON_DAYS = 7


def status_options() -> list[tuple[str, str]]:
    return [("", gettext("All statuses"))] + [(status.value, gettext(status.label)) for status in Status]


def available_events(status: str) -> list[Event]:
    """What the acting person may do to an order in ``status`` now."""
    context = acting()
    events = []
    for (state, event), _target in TRANSITIONS.items():
        if state != status or event not in BUYER_EVENTS | SUPPLIER_EVENTS:
            continue
        needed = "orders.manage" if event in BUYER_EVENTS else "orders.respond" if event in {Event.ACCEPT, Event.REJECT} else "orders.start"
        if context.can(needed):
            events.append(event)
    return events


async def _form_context() -> dict[str, Any]:
    return {
        "suppliers": [s for s in await list_suppliers() if s.status == "active"],
        "items": [i for i in await list_items(kind="part", limit=500) if i.active],
        "active_nav": "orders",
    }


class OrderPages(Controller):
    path = "/orders"
    include_in_schema = False
    guards = [requires("orders.view")]

    @get("/", name="orders")
    async def show_board(
        self,
        request: Request[Any, Any, Any],
        status: FromQuery[str | None] = None,
        supplier_id: FromQuery[UUID | None] = None,
        overdue: FromQuery[bool] = False,
        q: FromQuery[str] = "",
        cursor: FromQuery[str | None] = None,
        sort: FromQuery[str] = "",
        dir: FromQuery[str] = "asc",
    ) -> Template:
        # The whole list sorted as the URL says (an unknown key: by due date),
        # the phone's cards and the desktop table alike.
        key = sort if sort in BOARD_SORTS else "due"
        board = await services.board(status or None, supplier_id, None, overdue, q, cursor, sort=key, descending=dir == "desc")
        context = {
            "board": board,
            "orders": board.items,
            "rows": await board_rows([order.id for order in board.items]),
            "sort": {"key": key, "dir": "desc" if dir == "desc" else "asc", "sortable": BOARD_SORTS},
            "filters": {"status": status or "", "supplier_id": str(supplier_id or ""), "overdue": overdue, "q": q},
            "status_options": status_options(),
            "suppliers": [] if acting().is_supplier else await list_suppliers(),
            "active_nav": "orders",
        }
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "order-list":
            return HTMXBlockTemplate(template_name="orders/board.html", block_name="order_list", context=context)
        return Template(template_name="orders/board.html", context=context)

    @get("/new", guards=[requires("orders.manage")])
    async def show_new(self) -> Template:
        tomorrow = date.today() + timedelta(days=14)
        return form_page("orders/form.html", lines=[{"due_date": tomorrow.isoformat()}], row_errors={}, order=None, **await _form_context())

    @get("/new/line", guards=[requires("orders.manage")])
    async def new_line(self, index: FromQuery[int] = 0) -> Template:
        """One more empty line row, appended by htmx."""
        return Template(
            template_name="orders/_line.html",
            context={"index": index, "line": {}, "errors": {}, **await _form_context()},
        )

    @post("/new", guards=[requires("orders.manage")])
    async def create(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        rows = posted_lines(values)
        try:
            order = await services.create_order(
                OrderCreate(
                    supplier_id=UUID(values.get("supplier_id") or "00000000-0000-0000-0000-000000000000"),
                    lines=lines_from_form(rows),
                    notes_shared=values.get("notes_shared", ""),
                    notes_internal=values.get("notes_internal", ""),
                    number=values.get("number") or None,
                )
            )
        except (DomainError, ValueError) as exc:
            error = exc if isinstance(exc, DomainError) else services.InvalidOrder()
            return form_page(
                "orders/form.html",
                values=values,
                error=error,
                lines=rows,
                row_errors=line_errors(error),
                order=None,
                **await _form_context(),
            )
        return Redirect(path=f"/orders/{order.id}", status_code=303)

    @get("/{order_id:uuid}", name="order")
    async def show_order(self, order_id: FromPath[UUID]) -> Template:
        return await self._detail(order_id)

    async def _detail(self, order_id: UUID, error: DomainError | None = None, values: dict[str, str] | None = None) -> Template:
        order = await services.get_order(order_id)
        context = acting()
        drawings = await services.order_item_drawings(order_id)
        items = {line.item_id: line for line in order.lines if not line.removed}
        return form_page(
            "orders/detail.html",
            item_documents=[(line, drawings[item_id]) for item_id, line in items.items() if item_id in drawings],
            category_labels=dict(category_choices(include_inactive=True)),
            deliveries=(await list_deliveries(order_id=order_id)).items,
            can_ship=context.can("deliveries.ship") and order.status in RECEIVING_STATES,
            can_report=context.can("progress.report") and order.status in RECEIVING_STATES,
            values=values,
            error=error,
            order=order,
            revisions=await services.list_revisions(order_id),
            progress=await order_timeline(order_id),
            qc=await order_checklist(order_id),
            events=available_events(order.status),
            needs_reason={Event.REJECT.value, Event.CANCEL.value},
            can_edit=acting().can("orders.manage") and order.status not in ("closed", "cancelled", "delivered"),
            can_acknowledge=acting().can("orders.respond"),
            can_answer_lines=acting().can("orders.respond") and order.status == Status.ISSUED.value and len(order.lines) > 1,
            active_nav="orders",
        )

    @post("/{order_id:uuid}/transitions")
    async def transition(self, order_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await services.fire(order_id, values.get("event", ""), values.get("reason", ""), form_version(values))
        except DomainError as exc:
            return await self._detail(order_id, exc, values)
        return Redirect(path=f"/orders/{order_id}", status_code=303)

    @post("/{order_id:uuid}/answers", guards=[requires("orders.respond")])
    async def answer_lines(self, order_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await services.answer_lines(order_id, posted_answers(values))
        except DomainError as exc:
            return await self._detail(order_id, exc, values)
        return Redirect(path=f"/orders/{order_id}", status_code=303)

    @post("/{order_id:uuid}/revisions/{revision_id:uuid}/acknowledge")
    async def acknowledge(self, order_id: FromPath[UUID], revision_id: FromPath[UUID]) -> Redirect:
        await services.acknowledge_revision(order_id, revision_id)
        return Redirect(path=f"/orders/{order_id}", status_code=303)

    @get("/{order_id:uuid}/edit", guards=[requires("orders.manage")])
    async def show_edit(self, order_id: FromPath[UUID]) -> Template:
        order = await services.get_order(order_id)
        lines = [
            {
                "id": str(line.id),
                "item_id": str(line.item_id),
                "operation": line.operation,
                "quantity": str(plain(line.quantity)),
                "unit_price": str(plain(line.unit_price)),
                "due_date": line.due_date.isoformat(),
            }
            for line in order.lines
            if not line.removed
        ]
        values = {"notes_shared": order.notes_shared, "notes_internal": order.notes_internal or "", "version": str(order.version)}
        return form_page("orders/form.html", values=values, lines=lines, row_errors={}, order=order, **await _form_context())

    @post("/{order_id:uuid}/edit", guards=[requires("orders.manage")])
    async def edit(self, order_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        rows = posted_lines(values)
        try:
            await services.update_order(
                order_id,
                OrderUpdate(
                    version=form_version(values) or 0,
                    lines=lines_from_form(rows),
                    notes_shared=values.get("notes_shared"),
                    notes_internal=values.get("notes_internal"),
                    reason=values.get("reason", ""),
                ),
            )
        except DomainError as exc:
            order = await services.get_order(order_id)
            return form_page(
                "orders/form.html",
                values=values,
                error=exc,
                lines=rows,
                row_errors=line_errors(exc),
                order=order,
                **await _form_context(),
            )
        return Redirect(path=f"/orders/{order_id}", status_code=303)


class InboxPages(Controller):
    path = "/inbox"
    include_in_schema = False
    guards = [requires("orders.view")]

    @get("/", name="inbox")
    async def show_inbox(self) -> Template | Redirect:
        """What needs the person now: orders to answer, changes to
        acknowledge, work due soon or late. A supplier's home is this list
        already, so a supplier goes there (one page, one place in the menu)."""
        if acting().is_supplier:
            return Redirect(path="/", status_code=303)
        return Template(template_name="orders/inbox.html", context={**await inbox_context(), "active_nav": "inbox"})


async def inbox_context() -> dict[str, Any]:
    return {
        "inbox": await services.inbox(DUE_SOON_DAYS),
        "dispatches": await dispatches_to_confirm(),
        "deliveries": await deliveries_to_receive(),
        "qc": await qc_todo(),
        "statements": await statements_todo(),
    }
