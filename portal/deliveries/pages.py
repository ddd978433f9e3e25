"""Delivery pages: the supplier's ship form and notices, the buyer's list of
deliveries to receive and the receiving form. Thin: parse the form, call
one service, redirect (303) or re-render with what was typed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.deliveries import services
from portal.deliveries.schemas import DeliveryCreate, DeliveryLineIn, ReceiptIn, ReceiptLineIn
from portal.deliveries.services import InvalidDelivery, percent, plain
from portal.deliveries.states import STATUS_LABELS, Status
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.forms import form_page, form_values
from portal.i18n import N_, gettext
from portal.orders.states import RECEIVING_STATES
from portal.orders.states import STATUS_LABELS as ORDER_STATUS_LABELS
from portal.orders.states import Status as OrderStatus
from portal.quality.gate import describe, open_requirements
from portal.quality.reasons import active_reasons
from portal.quantities import quantity_problem
from tenants.guards import acting, requires

# Messages after a redirect, keyed by ``?done=``: nothing from the query
# string is ever shown as such.
DONE_MESSAGES = {
    "created": N_("The draft is saved. Ship it when the goods leave."),
    "shipped": N_("Shipped: the buyer sees the delivery now."),
    "cancelled": N_("The delivery is cancelled."),
    "received": N_("The receipt is recorded and the order is updated."),
}


def _common() -> dict[str, Any]:
    return {
        "active_nav": "deliveries",
        "qty": plain,
        "pct": percent,
        "status_labels": {status.value: gettext(label) for status, label in STATUS_LABELS.items()},
        "order_status_labels": {status.value: gettext(label) for status, label in ORDER_STATUS_LABELS.items()},
    }


async def _receiving(order_id: UUID) -> dict[str, Any]:
    """What the receiving form shows besides the delivery: the reject
    reasons to choose from and the QC requirements that close the gate."""
    still_open = await open_requirements(order_id)
    return {
        **_common(),
        "reject_reasons": [(reason.code, gettext(reason.label)) for reason in await active_reasons()],
        "qc_open": still_open,
        "qc_open_text": describe(still_open),
    }


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _reraise_lookup(exc: DomainError) -> None:
    """Missing, foreign and forbidden answer as such, never as a form error."""
    if isinstance(exc, (NotFound, PermissionDenied)):
        raise exc


def _renumbered(exc: DomainError, form_index: dict[int, int]) -> DomainError:
    """The service numbers the lines it got; the form numbers every order
    line (lines left at zero are not sent): name the form's fields."""
    if not isinstance(exc, InvalidDelivery):
        return exc

    def rename(name: str) -> str:
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) in form_index:
            return f"lines.{form_index[int(parts[1])]}.{parts[2]}"
        return name

    exc.fields = {rename(name): text for name, text in exc.fields.items()}
    exc.field_params = {rename(name): params for name, params in exc.field_params.items()}
    return exc


# One guard per handler, not a controller guard plus a handler guard: the
# isolation matrix reads the first policy action of a route as the one that
# decides who may call it.
VIEW = [requires("deliveries.view")]
SHIP = [requires("deliveries.ship")]
RECEIVE = [requires("deliveries.receive")]


class DeliveryPages(Controller):
    path = "/deliveries"
    include_in_schema = False

    @get("/", name="deliveries", guards=VIEW)
    async def show_deliveries(self, status: FromQuery[str | None] = None, cursor: FromQuery[str | None] = None) -> Template:
        context = acting()
        status = status if status in {s.value for s in Status} else None
        listing = await services.list_deliveries(status=status, cursor=cursor or None)
        return Template(
            template_name="deliveries/index.html",
            context={
                **_common(),
                "deliveries": listing.items,
                "next": listing.next,
                "status": status or "",
                "statuses": [s for s in Status if s is not Status.DRAFT or context.is_supplier],
                "to_ship": await services.orders_to_ship() if context.can("deliveries.ship") else [],
                "to_receive": await services.deliveries_to_receive() if context.can("deliveries.receive") and not status else [],
            },
        )

    # ------------------------------------------------------------ supplier

    async def _ship_page(self, order_id: UUID, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
        form = await services.shipping_form(order_id)
        return form_page(
            "deliveries/ship.html",
            values=values,
            error=error,
            form=form,
            receiving=form.status in {s.value for s in RECEIVING_STATES},
            order_status=gettext(OrderStatus(form.status).label),
            **_common(),
        )

    @get("/ship/{order_id:uuid}", guards=SHIP)
    async def show_ship_form(self, order_id: FromPath[UUID]) -> Template:
        return await self._ship_page(order_id)

    @post("/ship/{order_id:uuid}", guards=SHIP)
    async def ship_from_order(self, order_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        """Lines left empty or at zero are not part of this delivery."""
        form = await services.shipping_form(order_id)
        values = await form_values(request)
        problems: dict[str, tuple[str, dict[str, Any]]] = {}
        lines: list[DeliveryLineIn] = []
        form_index: dict[int, int] = {}
        for index in range(len(form.lines)):
            raw = values.get(f"lines.{index}.quantity", "").strip()
            quantity, problem = quantity_problem(raw or "0", allow_zero=True)
            if quantity is not None and quantity == 0:
                continue
            order_line_id = _uuid(values.get(f"lines.{index}.order_line_id", ""))
            if problem or quantity is None:
                problems[f"lines.{index}.quantity"] = (problem or N_("Enter a number."), {})
                continue
            if order_line_id is None:
                problems[f"lines.{index}.quantity"] = (N_("This line is not on the order."), {})
                continue
            form_index[len(lines)] = index
            lines.append(DeliveryLineIn(order_line_id=order_line_id, quantity=quantity, lot=values.get(f"lines.{index}.lot", "")))
        if not lines and not problems:
            problems["lines"] = (N_("Enter the quantity you ship on at least one line."), {})
        if problems:
            return await self._ship_page(order_id, values, InvalidDelivery(problems))
        data = DeliveryCreate(order_id=order_id, lines=lines, note=values.get("note", ""), ship=values.get("action") != "draft")
        try:
            delivery = await services.create_delivery(data)
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._ship_page(order_id, values, _renumbered(exc, form_index))
        done = "shipped" if data.ship else "created"
        return Redirect(path=f"/deliveries/{delivery.id}?done={done}", status_code=303)

    async def _detail_page(self, delivery_id: UUID, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
        delivery = await services.get_delivery(delivery_id)
        return form_page("deliveries/detail.html", values=values, error=error, delivery=delivery, **_common())

    @get("/{delivery_id:uuid}", guards=VIEW)
    async def show_delivery(self, delivery_id: FromPath[UUID], done: FromQuery[str | None] = None) -> Template:
        delivery = await services.get_delivery(delivery_id)
        message = DONE_MESSAGES.get(done or "")
        return form_page("deliveries/detail.html", delivery=delivery, done_message=gettext(message) if message else None, **_common())

    @post("/{delivery_id:uuid}/ship", guards=SHIP)
    async def ship_draft(self, delivery_id: FromPath[UUID]) -> Redirect | Template:
        try:
            await services.ship_delivery(delivery_id)
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._detail_page(delivery_id, error=exc)
        return Redirect(path=f"/deliveries/{delivery_id}?done=shipped", status_code=303)

    @post("/{delivery_id:uuid}/cancel", guards=SHIP)
    async def cancel(self, delivery_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        values = await form_values(request)
        try:
            await services.cancel_delivery(delivery_id, values.get("reason", ""))
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._detail_page(delivery_id, values, exc)
        return Redirect(path=f"/deliveries/{delivery_id}?done=cancelled", status_code=303)

    # ------------------------------------------------------------ buyer

    async def _receive_page(self, delivery_id: UUID, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
        delivery = await services.get_delivery(delivery_id)
        return form_page("deliveries/receive.html", values=values, error=error, delivery=delivery, **await _receiving(delivery.order_id))

    @get("/{delivery_id:uuid}/receive", guards=RECEIVE)
    async def show_receive_form(self, delivery_id: FromPath[UUID]) -> Template | Redirect:
        delivery = await services.get_delivery(delivery_id)
        if delivery.status != Status.SHIPPED.value:
            return Redirect(path=f"/deliveries/{delivery_id}", status_code=303)
        return form_page("deliveries/receive.html", delivery=delivery, **await _receiving(delivery.order_id))

    @post("/{delivery_id:uuid}/receive", guards=RECEIVE)
    async def receive(self, delivery_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        delivery = await services.get_delivery(delivery_id)
        values = await form_values(request)
        problems: dict[str, tuple[str, dict[str, Any]]] = {}
        lines: list[ReceiptLineIn] = []
        for index, line in enumerate(delivery.lines):
            parsed = {}
            for name, default in (("accepted_quantity", ""), ("rejected_quantity", "0")):
                quantity, problem = quantity_problem(values.get(f"lines.{index}.{name}", "").strip() or default, allow_zero=True)
                if problem or quantity is None:
                    problems[f"lines.{index}.{name}"] = (problem or N_("Enter a number."), {})
                parsed[name] = quantity
            accepted, rejected = parsed["accepted_quantity"], parsed["rejected_quantity"]
            if accepted is not None and rejected is not None:
                lines.append(
                    ReceiptLineIn(
                        line_id=line.id,
                        accepted_quantity=accepted,
                        rejected_quantity=rejected,
                        reject_reason=values.get(f"lines.{index}.reject_reason", ""),
                        reject_code=values.get(f"lines.{index}.reject_code", "") if rejected else "",
                    )
                )
        if problems:
            return await self._receive_page(delivery_id, values, InvalidDelivery(problems))
        receipt = ReceiptIn(lines=lines, note=values.get("note", ""), qc_override_reason=values.get("qc_override_reason", ""))
        try:
            await services.receive_delivery(delivery_id, receipt)
        except DomainError as exc:
            _reraise_lookup(exc)
            return await self._receive_page(delivery_id, values, exc)
        return Redirect(path=f"/deliveries/{delivery_id}?done=received", status_code=303)
