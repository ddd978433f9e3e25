"""Importing material dispatches from a spreadsheet: columns, grouping,
checks, saving.

Columns (header row, any order; English or Chinese labels or the keys):

| key           | label              | required | content                                          |
|---------------|--------------------|----------|--------------------------------------------------|
| reference     | Dispatch reference | no       | groups rows into dispatches (below)              |
| supplier_code | Supplier code      | yes      | an active supplier of this company               |
| order         | Order number       | no       | an issued, still open order of that supplier     |
| item_code     | Item code          | yes      | an active material or part of the item master    |
| lot           | Lot                | no       | up to 80 characters                              |
| quantity      | Quantity           | yes      | > 0, at most 6 decimals                          |
| note          | Note               | no       | the supplier sees it; one per dispatch           |

Grouping: rows with the same reference and supplier form one dispatch
(their order and note must agree: the same or left empty). Rows without a
reference form one dispatch per supplier and order. The portal numbers the
dispatches (MD-2026-00042); the reference is kept in the audit trail next
to the number it got. A dispatch has at most 200 lines. An exported dispatch
list imports again: its dispatch numbers are read as references.

Every dispatch is created as a draft through ``services.create_dispatch``
(the same rules as the form), all in the caller's transaction: one problem
anywhere and nothing is saved. Nothing reaches a supplier before the
planner sends the draft.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from portal.audit.services import record
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_
from portal.imports.errors import RowError
from portal.imports.registry import Created, Importer, Plan, register
from portal.imports.sheets import Column, Sheet
from portal.imports.templates import import_template
from portal.imports.values import number_text
from portal.imports.writers import BuiltFile
from portal.items.tables import Item
from portal.lengths import length_of
from portal.materials import services
from portal.materials.schemas import DispatchCreate, DispatchLineIn
from portal.orders.tables import Order
from portal.quantities import quantity_problem
from tenants.context import current
from tenants.scoping import scoped
from tenants.tables import Supplier

IMPORT_ACTION = "materials.dispatch"
LOOKUP_CHUNK = 500

COLUMNS = (
    Column(
        "reference",
        N_("Dispatch reference"),
        max_length=40,
        aliases=("dispatch", "dispatch_number", "ref", "发料单", "发料单号", "发料单编号", "参考号"),
        hint=N_(
            "Optional. Rows with the same reference and supplier form one dispatch."
            " Rows without a reference form one dispatch per supplier and order. The portal numbers the dispatches."
        ),
        example="SEND-0815",
    ),
    Column(
        "supplier_code",
        N_("Supplier code"),
        required=True,
        max_length=length_of(Supplier.code),
        aliases=("supplier", "供应商", "供应商代码", "供应商编码", "供应商编号"),
        hint=N_("The supplier's code, as on the Suppliers page."),
        example="S1",
    ),
    Column(
        "order",
        N_("Order number"),
        max_length=length_of(Order.number),
        aliases=("order_number", "po", "订单", "订单号", "订单编号", "采购单号"),
        hint=N_("Optional: an issued, still open order of that supplier the material is for."),
        example="WO-2026-00042",
    ),
    Column(
        "item_code",
        N_("Item code"),
        required=True,
        max_length=length_of(Item.code),
        aliases=("item", "material", "material_code", "物料", "物料编码", "物料代码", "物料号", "材料", "材料编码"),
        hint=N_("An active material or part of the item master."),
        example="M-STEEL",
    ),
    Column(
        "lot",
        N_("Lot"),
        max_length=services.MAX_LOT,
        aliases=("batch", "heat", "批次", "批号", "炉号"),
        hint=N_("Optional: the lot, batch or heat number."),
        example="H-2311",
    ),
    Column(
        "quantity",
        N_("Quantity"),
        required=True,
        max_length=40,
        aliases=("qty", "数量", "发料数量"),
        hint=N_("A number greater than zero, at most 6 decimals, in the item's unit."),
        example="250",
    ),
    Column(
        "note",
        N_("Note"),
        max_length=services.MAX_TEXT,
        aliases=("notes", "remark", "备注"),
        hint=N_("Optional; the supplier sees it. Rows of one dispatch repeat it or leave it empty."),
        example="Handle with care",
    ),
)
# What services.create_dispatch calls each field, in the import's terms.
_LINE_FIELDS = {"item_id": "item_code", "quantity": "quantity", "lot": "lot"}
_DISPATCH_FIELDS = {"supplier_id": "supplier_code", "order_id": "order", "note": "note"}


@dataclass
class PlannedLine:
    row: int
    line: DispatchLineIn


@dataclass
class PlannedDispatch:
    reference: str
    supplier_code: str
    supplier_id: UUID | None
    order_number: str
    order_id: UUID | None
    note: str
    first_row: int
    row_count: int = 0
    lines: list[PlannedLine] = field(default_factory=list)


@dataclass
class DispatchWork:
    filename: str
    dispatches: list[PlannedDispatch]


@dataclass(frozen=True)
class CreatedDispatch(Created):
    """``label`` is the portal's number; ``reference`` the file's own."""

    reference: str = ""


async def _by_code(table: Any, codes: Iterable[str], *columns: Any) -> dict[str, dict[str, Any]]:
    wanted = sorted({code for code in codes if code})
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        for row in await scoped(table).select(table.id, table.code, *columns).where(table.code.is_in(chunk)):
            found[row["code"]] = row
    return found


async def _orders_by_number(numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = sorted({number for number in numbers if number})
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        for row in await scoped(Order).select(Order.id, Order.number, Order.supplier, Order.status).where(Order.number.is_in(chunk)):
            found[row["number"]] = row
    return found


class DispatchImporter(Importer[DispatchWork]):
    name = "dispatches"
    columns = COLUMNS
    action = IMPORT_ACTION

    async def plan(self, sheet: Sheet) -> Plan[DispatchWork]:
        """Every check ``create_dispatch`` makes, row by row, plus the
        import's own: known codes and orders, an active supplier, one order
        and one note per dispatch, at most 200 lines. Writes nothing."""
        if not current().can(IMPORT_ACTION):
            raise PermissionDenied()
        errors: list[RowError] = []
        flagged = {(error.row, error.column) for error in sheet.errors}

        def problem(row: int, column: str | None, message: str, **params: Any) -> None:
            if (row, column) not in flagged:
                flagged.add((row, column))
                errors.append(RowError(row, column, message, params))

        suppliers = await _by_code(Supplier, (row.get("supplier_code") for row in sheet.rows), Supplier.status)
        items = await _by_code(Item, (row.get("item_code") for row in sheet.rows), Item.active, Item.kind)
        orders = await _orders_by_number(row.get("order") for row in sheet.rows)
        groups: dict[tuple[str, str, str], PlannedDispatch] = {}
        for row in sheet.rows:
            reference, supplier_code = row.get("reference"), row.get("supplier_code")
            order_number, item_code = row.get("order"), row.get("item_code")
            supplier, item, order = suppliers.get(supplier_code), items.get(item_code), orders.get(order_number)
            supplier_id = supplier["id"] if supplier else None
            if supplier_code and supplier is None:
                problem(row.number, "supplier_code", N_("Unknown supplier code %(code)s."), code=supplier_code)
            elif supplier is not None and supplier["status"] != "active":
                problem(row.number, "supplier_code", N_("This supplier is not active."))
            if item_code and item is None:
                problem(row.number, "item_code", N_("Unknown item code %(code)s."), code=item_code)
            elif item is not None and (not item["active"] or item["kind"] not in services.DISPATCHABLE_KINDS):
                problem(row.number, "item_code", N_("%(code)s is not an active material or part."), code=item_code)
            if order_number:
                if order is None:
                    problem(row.number, "order", N_("Unknown order number %(number)s."), number=order_number)
                elif supplier_id is not None and order["supplier"] != supplier_id:
                    problem(row.number, "order", N_("This order belongs to another supplier."))
                elif order["status"] not in services.ORDER_STATES_FOR_DISPATCH:
                    problem(row.number, "order", N_("This order is not open: issue it first, or choose another."))
            quantity = None
            if row.get("quantity"):
                quantity, message = quantity_problem(number_text(row.get("quantity")))
                if message:
                    problem(row.number, "quantity", message)
            # Without a reference the order decides the grouping; with one,
            # the rows must agree on it (checked below).
            key = (reference, supplier_code, "" if reference else order_number)
            group = groups.get(key)
            if group is None:
                order_id = order["id"] if order else None
                group = PlannedDispatch(reference, supplier_code, supplier_id, order_number, order_id, row.get("note"), row.number)
                groups[key] = group
            else:
                if order_number and not group.order_number:
                    group.order_number, group.order_id = order_number, order["id"] if order else None
                elif order_number and order_number != group.order_number:
                    problem(row.number, "order", N_("The rows of dispatch %(reference)s name different orders."), reference=reference)
                note = row.get("note")
                if note and not group.note:
                    group.note = note
                elif note and note != group.note:
                    problem(row.number, "note", N_("The rows of one dispatch must have the same note, or leave it empty."))
            group.row_count += 1
            if group.row_count > services.MAX_LINES:
                problem(
                    row.number,
                    "reference",
                    N_("A dispatch has at most %(max)s lines: give these rows a reference of their own."),
                    max=services.MAX_LINES,
                )
            if item is not None and quantity is not None:
                group.lines.append(PlannedLine(row.number, DispatchLineIn(item_id=item["id"], quantity=quantity, lot=row.get("lot"))))
        work = DispatchWork(sheet.filename, list(groups.values()))
        return Plan(rows=len(sheet.rows), groups=len(groups), errors=errors, work=work)

    async def save(self, work: DispatchWork) -> tuple[list[Created], list[RowError]]:
        """Each dispatch through ``services.create_dispatch`` (a draft), in
        file order; the service's own refusals come back as row errors."""
        created: list[Created] = []
        problems: list[RowError] = []
        for dispatch in work.dispatches:
            assert dispatch.supplier_id is not None, "a planned dispatch with errors is never saved"
            data = DispatchCreate(
                supplier_id=dispatch.supplier_id,
                order_id=dispatch.order_id,
                note=dispatch.note,
                lines=[planned.line for planned in dispatch.lines],
            )
            try:
                out = await services.create_dispatch(data)
            except DomainError as exc:
                problems += _row_errors(dispatch, exc)
                continue
            created.append(CreatedDispatch(out.id, out.number, dispatch.reference))
        if not problems:
            await record(
                "dispatch.import",
                entity_type="import",
                entity_id=uuid4(),
                after={
                    "file": work.filename,
                    "dispatches": [
                        {"number": item.label, "reference": dispatch.reference}
                        for item, dispatch in zip(created, work.dispatches, strict=True)
                    ],
                    "lines": sum(len(dispatch.lines) for dispatch in work.dispatches),
                },
            )
        return created, problems


def _row_errors(dispatch: PlannedDispatch, exc: DomainError) -> list[RowError]:
    """``lines.3.quantity`` of the service -> the row of line 3, column quantity."""
    if not exc.fields:
        return [RowError(dispatch.first_row, None, exc.message, dict(exc.params))]
    errors = []
    for name, message in exc.fields.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(dispatch.lines):
            errors.append(RowError(dispatch.lines[int(parts[1])].row, _LINE_FIELDS.get(parts[2]), message, dict(exc.params)))
        else:
            errors.append(RowError(dispatch.first_row, _DISPATCH_FIELDS.get(name), message, dict(exc.params)))
    return errors


DISPATCHES = register(DispatchImporter())


def template_file(fmt: str) -> BuiltFile:
    """An empty import file in the reader's language."""
    return import_template(fmt, COLUMNS, title=N_("Dispatches"), stem="dispatches-import-template")
