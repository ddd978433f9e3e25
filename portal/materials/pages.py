"""Materials pages: dispatch list, new dispatch (htmx "add line"), dispatch
detail with the supplier's receipt form, returns and scrap, balances.
Thin: parse the form, call one service, answer or re-render with what the
user typed."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import DomainError
from portal.forms import form_page, read_form
from portal.i18n import gettext
from portal.items.tables import Item
from portal.materials import services
from portal.materials.schemas import DispatchCreate, DispatchLineIn, DispatchOut, MovementCreate, ReceiptIn, ReceiptLineIn
from portal.materials.states import STATUS_LABELS, Status
from portal.quantities import plain
from tenants.guards import acting, requires

NIL = UUID(int=0)
EMPTY_ROW = {"item_id": "", "lot": "", "quantity": ""}
REPORT_PAGE_SIZE = 20


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def _optional_uuid(value: str) -> UUID | None:
    """An optional id: empty is none; anything else that is no id is one no
    object has (the service refuses it like a missing one), never "none"."""
    return _uuid(value) or (NIL if value.strip() else None)


def _decimal(value: str | None) -> Decimal:
    """What the user typed, as a Decimal; anything unreadable becomes NaN,
    which the services refuse with "Enter a number." on the right field."""
    try:
        return Decimal((value or "").strip().replace(",", "."))
    except ArithmeticError:
        return Decimal("NaN")


async def _form(request: Request[Any, Any, Any]) -> Any:
    return await read_form(request)


def status_options() -> list[tuple[str, str]]:
    return [("", gettext("All"))] + [(state.value, gettext(state.label)) for state in Status]


def _labels() -> dict[str, str]:
    return {state.value: gettext(label) for state, label in STATUS_LABELS.items()}


# ---------------------------------------------------------------- new dispatch (buyer)


async def _new_dispatch_page(values: dict[str, Any], rows: list[dict[str, str]], error: DomainError | None = None) -> Template:
    suppliers, orders = await services.dispatch_targets()
    items = await services.dispatchable_items()
    return form_page(
        "materials/new_dispatch.html",
        values=values,
        error=error,
        rows=rows or [dict(EMPTY_ROW)],
        supplier_options=[("", "—")] + [(str(row.id), f"{row.code} · {row.name}") for row in suppliers],
        order_options=[("", gettext("No order"))] + [(str(row["id"]), f"{row['number']} · {row['supplier.code']}") for row in orders],
        item_options=_item_options(items),
        orders_shown=orders,
        items_shown=items,
        active_nav="materials",
    )


def _item_options(items: Iterable[Item]) -> list[tuple[str, str]]:
    return [("", "—")] + [(str(item.id), f"{item.code} · {item.name} ({item.unit})") for item in items]


class DispatchFormPages(Controller):
    """Pages only buyers who dispatch may open (the isolation matrix reads
    the controller's guard as the page's policy)."""

    path = "/materials/dispatches/new"
    include_in_schema = False
    guards = [requires("materials.dispatch")]

    @get("/", name="materials_new_dispatch")
    async def show_new_dispatch(self, supplier_id: FromQuery[str | None] = None, order_id: FromQuery[str | None] = None) -> Template:
        return await _new_dispatch_page({"supplier_id": supplier_id or "", "order_id": order_id or ""}, [])

    @get("/line")
    async def show_dispatch_line(self) -> Template:
        """One more empty line for the form (htmx "add line")."""
        return HTMXBlockTemplate(
            template_name="materials/new_dispatch.html",
            block_name="dispatch_line",
            context={
                "row": dict(EMPTY_ROW),
                "index": None,
                "item_options": _item_options(await services.dispatchable_items()),
                "field_errors": {},
            },
        )


# ---------------------------------------------------------------- everything else


class MaterialPages(Controller):
    path = "/materials"
    include_in_schema = False
    guards = [requires("materials.view")]

    @get("/dispatches", name="materials_dispatches")
    async def show_dispatches(self, status: FromQuery[str | None] = None, cursor: FromQuery[str | None] = None) -> Template:
        items, next_cursor = await services.list_dispatches(status=status or None, cursor=cursor)
        return Template(
            template_name="materials/dispatches.html",
            context={
                "dispatches": items,
                "next_cursor": next_cursor,
                "status": status or "",
                "status_options": status_options(),
                "status_labels": _labels(),
                "active_nav": "materials",
            },
        )

    @post("/dispatches", guards=[requires("materials.dispatch")])
    async def create_dispatch(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        form = await _form(request)
        values = {key: str(form.get(key, "")) for key in ("supplier_id", "order_id", "note")}
        rows = [
            {"item_id": str(item), "lot": str(lot), "quantity": str(quantity)}
            for item, lot, quantity in zip(form.getall("item_id", []), form.getall("lot", []), form.getall("quantity", []), strict=False)
        ]
        # Lines left empty are not lines.
        rows = [row for row in rows if any(value.strip() for value in row.values())]
        if form.get("add_line"):
            # Without JavaScript the "add line" button submits the form.
            return await _new_dispatch_page(values, [*rows, dict(EMPTY_ROW)])
        data = DispatchCreate(
            supplier_id=_uuid(values["supplier_id"]) or NIL,
            order_id=_optional_uuid(values["order_id"]),
            note=values["note"],
            lines=[
                DispatchLineIn(item_id=_uuid(row["item_id"]) or NIL, lot=row["lot"], quantity=_decimal(row["quantity"])) for row in rows
            ],
        )
        try:
            dispatch = await services.create_dispatch(data)
        except DomainError as exc:
            return await _new_dispatch_page(values, rows, exc)
        return Redirect(path=f"/materials/dispatches/{dispatch.id}", status_code=303)

    @get("/dispatches/{dispatch_id:uuid}")
    async def show_dispatch(self, dispatch_id: FromPath[UUID]) -> Template:
        return _dispatch_page(await services.get_dispatch(dispatch_id))

    @post("/dispatches/{dispatch_id:uuid}/send", guards=[requires("materials.dispatch")])
    async def send_dispatch(self, dispatch_id: FromPath[UUID]) -> Redirect | Template:
        try:
            await services.send_dispatch(dispatch_id)
        except DomainError as exc:
            return _dispatch_page(await services.get_dispatch(dispatch_id), error=exc)
        return Redirect(path=f"/materials/dispatches/{dispatch_id}?sent=1", status_code=303)

    @post("/dispatches/{dispatch_id:uuid}/receipt", guards=[requires("materials.confirm")])
    async def confirm_receipt(self, dispatch_id: FromPath[UUID], request: Request[Any, Any, Any]) -> Redirect | Template:
        # The dispatch first: a foreign id is a 404 whatever the form holds.
        dispatch = await services.get_dispatch(dispatch_id)
        form = await _form(request)
        values = {}
        entries = []
        for line in dispatch.lines:
            received, reason = str(form.get(f"received-{line.id}", "")), str(form.get(f"reason-{line.id}", ""))
            values[f"received-{line.id}"], values[f"reason-{line.id}"] = received, reason
            entries.append(ReceiptLineIn(line_id=line.id, received_quantity=_decimal(received), reason=reason))
        try:
            await services.confirm_receipt(dispatch_id, ReceiptIn(lines=entries))
        except DomainError as exc:
            return _dispatch_page(dispatch, values=values, error=exc)
        return Redirect(path=f"/materials/dispatches/{dispatch_id}?received=1", status_code=303)

    @get("/reports", name="materials_reports")
    async def show_reports(self) -> Template:
        return await _reports_page()

    @post("/reports", guards=[requires("materials.report")])
    async def report_material(self, request: Request[Any, Any, Any]) -> Redirect | Template:
        form = await _form(request)
        values = {key: str(form.get(key, "")) for key in ("kind", "item_id", "lot", "quantity", "reason")}
        kind = values["kind"]
        data = MovementCreate(
            item_id=_uuid(values["item_id"]) or NIL, quantity=_decimal(values["quantity"]), lot=values["lot"], reason=values["reason"]
        )
        try:
            await services.report_movement(kind, data)
        except DomainError as exc:
            return await _reports_page(values, exc)
        return Redirect(path=f"/materials/reports?reported={kind}", status_code=303)

    @get("/balances", name="materials_balances")
    async def show_balances(self, supplier_id: FromQuery[str | None] = None) -> Template:
        chosen = _uuid(supplier_id)
        rows = await services.balances(supplier_id=chosen)
        # Buyers filter by supplier; a supplier user sees only its own.
        suppliers = await services.balance_suppliers()
        supplier_options = [("", gettext("All suppliers")), *((str(row.id), f"{row.code} · {row.name}") for row in suppliers)]
        return Template(
            template_name="materials/balances.html",
            context={
                "balances": rows,
                "supplier_id": str(chosen or ""),
                "supplier_options": supplier_options if suppliers else [],
                "flagged": sum(1 for row in rows if row.flagged),
                "active_nav": "materials",
            },
        )


def _dispatch_page(dispatch: DispatchOut, *, values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
    context = acting()
    can_confirm = dispatch.status == Status.SENT.value and context.can("materials.confirm")
    return form_page(
        "materials/dispatch.html",
        values=values,
        error=error,
        dispatch=dispatch,
        status_label=gettext(Status(dispatch.status).label),
        can_send=dispatch.status == Status.DRAFT.value and context.can("materials.dispatch"),
        can_confirm=can_confirm,
        tolerance_percent=plain(dispatch.tolerance * 100),
        active_nav="materials",
    )


async def _reports_page(values: dict[str, str] | None = None, error: DomainError | None = None) -> Template:
    context = acting()
    returns, _ = await services.list_movements(services.RETURN, limit=REPORT_PAGE_SIZE)
    scrap, _ = await services.list_movements(services.SCRAP, limit=REPORT_PAGE_SIZE)
    can_report = context.can("materials.report")
    materials = await services.received_materials() if can_report else []
    return form_page(
        "materials/reports.html",
        values=values,
        error=error,
        returns=returns,
        scrap=scrap,
        can_report=can_report,
        item_options=[
            ("", "—"),
            *((str(row["item"]), f"{row['item.code']} · {row['item.name']} ({row['item.unit']})") for row in materials),
        ],
        active_nav="materials",
    )
