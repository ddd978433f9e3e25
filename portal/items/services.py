"""The item master and bills of material."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec

from portal.audit.services import record
from portal.documents.attachments import register_attachment_target
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.i18n import N_
from portal.items.tables import BomLine, Item
from portal.lengths import most
from portal.pagination import InvalidCursor
from portal.quantities import quantity_problem
from tenants.context import current
from tenants.scoping import scoped

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,59}$")
KINDS = ("part", "material")
ITEM_PAGE = 100
MAX_SCRAP_RATE = Decimal("0.5")


class ItemIn(msgspec.Struct, frozen=True):
    code: Annotated[str, most(Item.code)]
    name: Annotated[str, most(Item.name)]
    spec: Annotated[str, most(Item.spec)] = ""
    unit: Annotated[str, most(Item.unit)] = "pcs"
    kind: str = "part"


class ItemUpdate(msgspec.Struct, frozen=True):
    name: Annotated[str, most(Item.name)] | None = None
    spec: Annotated[str, most(Item.spec)] | None = None
    unit: Annotated[str, most(Item.unit)] | None = None
    active: bool | None = None


class BomLineIn(msgspec.Struct, frozen=True):
    material_id: UUID
    quantity_per_unit: Decimal
    scrap_rate: Decimal = Decimal(0)


class BomLineOut(msgspec.Struct, frozen=True):
    material_id: UUID
    material_code: str
    material_name: str
    unit: str
    quantity_per_unit: Decimal
    scrap_rate: Decimal


class ItemOut(msgspec.Struct, frozen=True):
    id: UUID
    code: str
    name: str
    spec: str
    unit: str
    kind: str
    active: bool


class InvalidItem(DomainError):
    code = "invalid_item"
    message = N_("Some fields are missing or not valid.")


class ItemCodeTaken(DomainError):
    status_code = 409
    code = "item_code_taken"
    message = N_("Another item already uses this code.")


def to_out(row: Item) -> ItemOut:
    return ItemOut(id=row.id, code=row.code, name=row.name, spec=row.spec, unit=row.unit, kind=row.kind, active=row.active)


def _require(action: str) -> None:
    if not current().can(action):
        raise PermissionDenied()


async def list_items(query: str = "", kind: str | None = None, limit: int = 100) -> list[ItemOut]:
    """The first ``limit`` matching items by code (at most 500): for choice
    lists; ``item_page`` is the list that goes on."""
    return await _matching(query, kind, min(limit, 500))


async def item_page(query: str = "", kind: str | None = None, cursor: str | None = None) -> tuple[list[ItemOut], str | None]:
    """Matching items by code, ``ITEM_PAGE`` a page; the second value
    continues after the last one (None: no more). The cursor is that
    item's id, read through the scoping layer: another tenant's item is
    refused exactly as one that never existed."""
    _require("items.view")
    select = _search(scoped(Item).objects(), query, kind)
    if cursor:
        select = select.where(Item.code > await _code_of(cursor))
    rows = list(await select.order_by(Item.code).limit(ITEM_PAGE + 1))
    next_cursor = str(rows[ITEM_PAGE - 1].id) if len(rows) > ITEM_PAGE else None
    return [to_out(row) for row in rows[:ITEM_PAGE]], next_cursor


async def _code_of(cursor: str) -> str:
    try:
        key = UUID(cursor)
    except ValueError:
        raise InvalidCursor(fields={"cursor": N_("This page link is not valid.")}) from None
    rows = await scoped(Item).select(Item.code).where(Item.id == key)
    if not rows:
        raise InvalidCursor(fields={"cursor": N_("This page link is not valid.")})
    code: str = rows[0]["code"]
    return code


async def items_for_export(query: str = "", kind: str | None = None, limit: int = 50_000) -> list[ItemOut]:
    """The list's items (same search) without the page's size limit: up to
    ``limit`` + 1, so the caller can tell that more match."""
    return await _matching(query, kind, limit + 1)


def _search(select: Any, query: str, kind: str | None) -> Any:
    if query:
        select = select.where((Item.code.ilike(f"%{query}%")) | (Item.name.ilike(f"%{query}%")))
    if kind:
        select = select.where(Item.kind == kind)
    return select


async def _matching(query: str, kind: str | None, limit: int) -> list[ItemOut]:
    _require("items.view")
    return [to_out(row) for row in await _search(scoped(Item).objects(), query, kind).order_by(Item.code).limit(limit)]


async def get_item(item_id: UUID | str) -> ItemOut:
    _require("items.view")
    return to_out(await scoped(Item).get(item_id))


async def create_item(data: ItemIn) -> ItemOut:
    """Item codes are unique per tenant."""
    _require("items.manage")
    problems: dict[str, str] = {}
    if not CODE_PATTERN.match(data.code):
        problems["code"] = N_("Use up to 60 letters, digits, dots, dashes, slashes or underscores.")
    if not data.name.strip():
        problems["name"] = N_("Enter a name.")
    if data.kind not in KINDS:
        problems["kind"] = N_("Choose part or material.")
    if not data.unit.strip():
        problems["unit"] = N_("Enter a unit.")
    if problems:
        raise InvalidItem(fields=problems)
    if await scoped(Item).exists().where(Item.code == data.code):
        raise ItemCodeTaken(fields={"code": ItemCodeTaken.message})
    row = scoped(Item).new(code=data.code, name=data.name.strip(), spec=data.spec.strip(), unit=data.unit.strip(), kind=data.kind)
    await row.save()
    await record("item.create", entity_type="item", entity_id=row.id, after=msgspec.structs.asdict(to_out(row)))
    return to_out(row)


async def update_item(item_id: UUID | str, data: ItemUpdate) -> ItemOut:
    _require("items.manage")
    row = await scoped(Item).get(item_id)
    before = msgspec.structs.asdict(to_out(row))
    if data.name is not None and not data.name.strip():
        raise InvalidItem(fields={"name": N_("Enter a name.")})
    for field in ("name", "spec", "unit", "active"):
        value = getattr(data, field)
        if value is not None:
            setattr(row, field, value.strip() if isinstance(value, str) else value)
    await row.save()
    await record("item.update", entity_type="item", entity_id=row.id, before=before, after=msgspec.structs.asdict(to_out(row)))
    return to_out(row)


async def get_bom(item_id: UUID | str) -> list[BomLineOut]:
    _require("items.view")
    item = await scoped(Item).get(item_id)
    rows = (
        await scoped(BomLine)
        .select(
            BomLine.material.id,
            BomLine.material.code,
            BomLine.material.name,
            BomLine.material.unit,
            BomLine.quantity_per_unit,
            BomLine.scrap_rate,
        )
        .where(BomLine.item == item.id)
        .output(nested=True)
    )
    return [
        BomLineOut(
            material_id=row["material"]["id"],
            material_code=row["material"]["code"],
            material_name=row["material"]["name"],
            unit=row["material"]["unit"],
            quantity_per_unit=row["quantity_per_unit"],
            scrap_rate=row["scrap_rate"],
        )
        for row in rows
    ]


async def set_bom(item_id: UUID | str, lines: list[BomLineIn]) -> list[BomLineOut]:
    """Replaces the bill of material of an outsourced item as a whole; the
    change is in the audit trail with the old and new lines."""
    _require("items.manage")
    item = await scoped(Item).get(item_id)
    problems: dict[str, str] = {}
    seen: set[UUID] = set()
    for index, line in enumerate(lines):
        _, problem = quantity_problem(line.quantity_per_unit)
        if problem:
            problems[f"lines.{index}.quantity_per_unit"] = problem
        if not line.scrap_rate.is_finite() or not Decimal(0) <= line.scrap_rate <= MAX_SCRAP_RATE:
            problems[f"lines.{index}.scrap_rate"] = N_("Enter a scrap rate between 0 and 0.5 (50 %).")
        if line.material_id in seen or line.material_id == item.id:
            problems[f"lines.{index}.material_id"] = N_("Each material once, and not the item itself.")
        seen.add(line.material_id)
        try:
            await scoped(Item).get(line.material_id)
        except NotFound:
            problems[f"lines.{index}.material_id"] = N_("This material does not exist.")
    if problems:
        raise InvalidItem(fields=problems)
    before = [msgspec.structs.asdict(line) for line in await get_bom(item.id)]
    await scoped(BomLine).delete().where(BomLine.item == item.id)
    for line in lines:
        await (
            scoped(BomLine)
            .new(item=item.id, material=line.material_id, quantity_per_unit=line.quantity_per_unit, scrap_rate=line.scrap_rate)
            .save()
        )
    after = await get_bom(item.id)
    await record(
        "item.bom",
        entity_type="item",
        entity_id=item.id,
        before={"lines": before},
        after={"lines": [msgspec.structs.asdict(x) for x in after]},
    )
    return after


async def item_attachment_supplier(item_id: UUID) -> UUID | None:
    """Drawings of an item are the buyer's master data, shared with no one
    supplier: the suppliers of the item's issued orders read them through
    the rule the orders package registers (``share_with_suppliers``)."""
    await scoped(Item).get(item_id)
    return None


register_attachment_target("item", item_attachment_supplier, table=Item, upload_action="items.manage")
