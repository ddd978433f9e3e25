"""Importing orders from a spreadsheet: columns, grouping, checks, saving.

Columns (header row, any order; English or Chinese labels or the keys):

| key           | label         | required | content                                      |
|---------------|---------------|----------|----------------------------------------------|
| order         | Order number  | no       | groups rows into orders (below)              |
| supplier_code | Supplier code | yes      | a supplier of this company                   |
| item_code     | Item code     | yes      | an item of the item master                   |
| operation     | Operation     | no       | up to 200 characters                         |
| quantity      | Quantity      | yes      | > 0, at most 6 decimals                      |
| unit_price    | Unit price    | yes      | >= 0, the currency's decimals (2 for CNY)    |
| due_date      | Due date      | yes      | YYYY-MM-DD or an Excel date; not in the past, at most 10 years ahead |
| shared_note   | Shared note   | no       | the supplier sees it; one per order          |

Grouping: rows with the same order number form one order with that number
(it must not exist yet, and all its rows must name the same supplier).
Rows without an order number form one order per supplier, numbered by the
portal (WO-2026-00042). An order has at most 500 lines. Rows of one order
repeat its shared note or leave it empty.

Every order is created as a draft through ``services.create_order``, all in
the caller's transaction: one problem anywhere and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from portal.audit.services import record
from portal.days import DUE_HORIZON_YEARS, due_date_problem
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_
from portal.imports.errors import RowError
from portal.imports.registry import Created, Importer, Plan, register
from portal.imports.sheets import Column, Sheet
from portal.imports.templates import import_template
from portal.imports.values import number_text, parse_date
from portal.imports.writers import BuiltFile
from portal.items.tables import Item
from portal.lengths import length_of
from portal.orders import services
from portal.orders.schemas import OrderCreate, OrderLineIn
from portal.orders.tables import Order, OrderLine
from portal.quantities import CURRENCY_DECIMALS, price_problem, quantity_problem
from tenants.context import TenantContext, current
from tenants.scoping import scoped
from tenants.tables import Supplier

IMPORT_ACTION = "orders.import"
LOOKUP_CHUNK = 500
NOTE_LENGTH = 2000

COLUMNS = (
    Column(
        "order",
        N_("Order number"),
        max_length=length_of(Order.number),
        aliases=("order_number", "number", "po", "订单", "订单号", "单号", "订单编号", "采购单号"),
        hint=N_(
            "Optional. Rows with the same order number form one order with that number (it must be new)."
            " Rows without a number form one order per supplier, numbered by the portal."
        ),
        example="PO-2026-0815",
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
        "item_code",
        N_("Item code"),
        required=True,
        max_length=length_of(Item.code),
        aliases=("item", "part", "part_number", "物料", "物料编码", "物料代码", "物料号", "零件号", "零件编码", "图号"),
        hint=N_("The item's code in the item master."),
        example="P-100",
    ),
    Column(
        "operation",
        N_("Operation"),
        max_length=length_of(OrderLine.operation),
        aliases=("process", "工序", "工序名称", "工艺"),
        hint=N_("Optional, for example CNC or plating."),
        example="CNC",
    ),
    Column(
        "quantity",
        N_("Quantity"),
        required=True,
        max_length=40,
        aliases=("qty", "数量"),
        hint=N_("A number greater than zero, at most 6 decimals."),
        example="100",
    ),
    Column(
        "unit_price",
        N_("Unit price"),
        required=True,
        max_length=40,
        aliases=("price", "单价", "含税单价"),
        hint=N_("Zero or more, in the company's currency (2 decimals for CNY)."),
        example="12.50",
    ),
    Column(
        "due_date",
        N_("Due date"),
        required=True,
        max_length=40,
        aliases=("due", "交期", "交货期", "交货日期", "需求日期"),
        hint=N_("YYYY-MM-DD (an Excel date works too); not in the past."),
        example="2026-12-31",
    ),
    Column(
        "shared_note",
        N_("Shared note"),
        max_length=NOTE_LENGTH,
        aliases=("note", "notes", "notes_shared", "备注", "共享备注"),
        hint=N_("Optional; the supplier sees it. Rows of one order repeat it or leave it empty."),
        example="Deburr all edges",
    ),
)
# What services.create_order calls each field, in the import's terms.
_LINE_FIELDS = {
    "item_id": "item_code",
    "quantity": "quantity",
    "unit_price": "unit_price",
    "due_date": "due_date",
    "operation": "operation",
}


@dataclass
class PlannedLine:
    row: int
    line: OrderLineIn


@dataclass
class PlannedOrder:
    number: str | None
    supplier_code: str
    supplier_id: UUID | None
    note: str
    first_row: int
    row_count: int = 0
    lines: list[PlannedLine] = field(default_factory=list)


@dataclass
class OrderWork:
    filename: str
    orders: list[PlannedOrder]


def _today(context: TenantContext) -> date:
    return datetime.now(ZoneInfo(context.time_zone)).date()


async def _ids_by_code(table: Any, codes: Iterable[str]) -> dict[str, UUID]:
    wanted = sorted({code for code in codes if code})
    found: dict[str, UUID] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        for row in await scoped(table).select(table.id, table.code).where(table.code.is_in(chunk)):
            found[row["code"]] = row["id"]
    return found


async def _numbers_taken(numbers: Iterable[str]) -> set[str]:
    wanted = sorted({number for number in numbers if number})
    taken: set[str] = set()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        taken |= {row["number"] for row in await scoped(Order).select(Order.number).where(Order.number.is_in(chunk))}
    return taken


class OrderImporter(Importer[OrderWork]):
    name = "orders"
    columns = COLUMNS
    action = IMPORT_ACTION

    async def plan(self, sheet: Sheet) -> Plan[OrderWork]:
        """Every check ``create_order`` makes, row by row, plus the import's
        own: known codes, one supplier and one note per order, new numbers,
        at most 500 lines, no due date in the past. Writes nothing."""
        context = current()
        if not context.can(IMPORT_ACTION):
            raise PermissionDenied()
        errors: list[RowError] = []
        flagged = {(error.row, error.column) for error in sheet.errors}

        def problem(row: int, column: str, message: str, **params: Any) -> None:
            if (row, column) not in flagged:
                flagged.add((row, column))
                errors.append(RowError(row, column, message, params))

        suppliers = await _ids_by_code(Supplier, (row.get("supplier_code") for row in sheet.rows))
        items = await _ids_by_code(Item, (row.get("item_code") for row in sheet.rows))
        taken = await _numbers_taken(row.get("order") for row in sheet.rows)
        today, currency = _today(context), context.currency
        decimals = CURRENCY_DECIMALS.get(currency, 2)
        groups: dict[str, PlannedOrder] = {}
        for row in sheet.rows:
            number, supplier_code, item_code = row.get("order"), row.get("supplier_code"), row.get("item_code")
            supplier_id, item_id = suppliers.get(supplier_code), items.get(item_code)
            if supplier_code and supplier_id is None:
                problem(row.number, "supplier_code", N_("Unknown supplier code %(code)s."), code=supplier_code)
            if item_code and item_id is None:
                problem(row.number, "item_code", N_("Unknown item code %(code)s."), code=item_code)
            quantity = price = due = None
            if row.get("quantity"):
                quantity, message = quantity_problem(number_text(row.get("quantity")))
                if message:
                    problem(row.number, "quantity", message)
            if row.get("unit_price"):
                price, message = price_problem(number_text(row.get("unit_price")), currency)
                if message:
                    problem(row.number, "unit_price", message, decimals=decimals)
            if row.get("due_date"):
                due = parse_date(row.get("due_date"))
                if due is None:
                    problem(row.number, "due_date", N_("Enter a date as YYYY-MM-DD."))
                elif late := due_date_problem(due, today):
                    problem(row.number, "due_date", late, years=DUE_HORIZON_YEARS)
            key = f"number:{number}" if number else f"supplier:{supplier_code}"
            group = groups.get(key)
            if group is None:
                group = groups[key] = PlannedOrder(number or None, supplier_code, supplier_id, row.get("shared_note"), row.number)
                if number in taken:
                    problem(row.number, "order", N_("Another order already has this number."))
            else:
                if supplier_code != group.supplier_code:
                    problem(row.number, "supplier_code", N_("The rows of order %(number)s name different suppliers."), number=number)
                note = row.get("shared_note")
                if note and not group.note:
                    group.note = note
                elif note and note != group.note:
                    problem(row.number, "shared_note", N_("The rows of one order must have the same shared note, or leave it empty."))
            group.row_count += 1
            if group.row_count > services.MAX_LINES:
                problem(
                    row.number,
                    "order",
                    N_("An order has at most %(max)s lines: give these rows an order number of their own."),
                    max=services.MAX_LINES,
                )
            if item_id is not None and quantity is not None and price is not None and due is not None:
                line = OrderLineIn(item_id=item_id, quantity=quantity, unit_price=price, due_date=due, operation=row.get("operation"))
                group.lines.append(PlannedLine(row.number, line))
        return Plan(rows=len(sheet.rows), groups=len(groups), errors=errors, work=OrderWork(sheet.filename, list(groups.values())))

    async def save(self, work: OrderWork) -> tuple[list[Created], list[RowError]]:
        """Each order through ``services.create_order`` (a draft), in file
        order; the service's own refusals come back as row errors."""
        created: list[Created] = []
        problems: list[RowError] = []
        for order in work.orders:
            assert order.supplier_id is not None, "a planned order with errors is never saved"
            data = OrderCreate(
                supplier_id=order.supplier_id,
                lines=[planned.line for planned in order.lines],
                notes_shared=order.note,
                number=order.number,
            )
            try:
                out = await services.create_order(data)
            except DomainError as exc:
                problems += _row_errors(order, exc)
                continue
            created.append(Created(out.id, out.number))
        if not problems:
            lines = sum(len(order.lines) for order in work.orders)
            await record(
                "order.import",
                entity_type="import",
                entity_id=uuid4(),
                after={"file": work.filename, "orders": [item.label for item in created], "lines": lines},
            )
        return created, problems


def _row_errors(order: PlannedOrder, exc: DomainError) -> list[RowError]:
    """``lines.3.quantity`` of the service -> the row of line 3, column quantity."""
    if not exc.fields:
        return [RowError(order.first_row, None, exc.message, dict(exc.params))]
    errors = []
    for name, message in exc.fields.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(order.lines):
            errors.append(RowError(order.lines[int(parts[1])].row, _LINE_FIELDS.get(parts[2]), message, dict(exc.params)))
        else:
            column = {"supplier_id": "supplier_code", "number": "order"}.get(name)
            errors.append(RowError(order.first_row, column, message, dict(exc.params)))
    return errors


ORDERS = register(OrderImporter())


def template_file(fmt: str) -> BuiltFile:
    """An empty import file in the reader's language."""
    return import_template(fmt, COLUMNS, title=N_("Orders"), stem="orders-import-template")
