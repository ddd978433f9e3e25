"""QC requirement templates per item, and the checklist they give an order.

- An item carries up to ``MAX_TEMPLATES`` templates, one per document
  category: how many documents, at which stage, a note for the supplier.
  Planners, QA and the admin keep them (``quality.require``); they are the
  buyer's master data, never shown to suppliers as such.
- Issuing an order (and issuing it again after a rejection) adds, for each
  category its items' templates name, one requirement, unless the order
  already has an open one of that category (QA may have added it by hand).
  Several items naming one category give one requirement: the largest
  count, the earliest stage, their notes together. The checklist stays
  editable per order afterwards: add, waive.
"""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import msgspec

from portal.audit.services import record
from portal.configuration.services import category_keys
from portal.errors import PermissionDenied
from portal.i18n import N_
from portal.items.tables import Item
from portal.lengths import FreeText
from portal.orders.tables import Order, OrderLine
from portal.quality.services import (
    BEFORE_DELIVERY,
    NOTE_MAX,
    STAGES,
    InvalidQc,
    RequirementIn,
    check_requirement,
    save_requirement,
)
from portal.quality.tables import QcRequirement, QcTemplate
from tenants.context import current
from tenants.scoping import scoped

MAX_TEMPLATES = 20
STAGE_ORDER = list(STAGES)


class TemplateIn(msgspec.Struct, frozen=True):
    category: str = ""
    count: int = 1
    stage: str = BEFORE_DELIVERY
    note: FreeText = ""


class TemplateOut(msgspec.Struct, frozen=True):
    category: str
    count: int
    stage: str
    note: str


async def _item(item_id: UUID | str) -> Item:
    """Items are the buyer's: a supplier user finds none."""
    return await scoped(Item).get(item_id)


async def item_templates(item_id: UUID | str) -> list[TemplateOut]:
    """The item's templates in the order they were given."""
    if not current().can("items.view"):
        raise PermissionDenied()
    item = await _item(item_id)
    rows = await scoped(QcTemplate).select().where(QcTemplate.item == item.id).order_by(QcTemplate.position)
    return [TemplateOut(row["category"], row["needed"], row["stage"], row["note"]) for row in rows]


async def set_item_templates(item_id: UUID | str, templates: list[TemplateIn]) -> list[TemplateOut]:
    """Replace the item's templates (an empty list removes them). Orders
    already issued keep their checklists."""
    context = current()
    if not context.can("quality.require"):
        raise PermissionDenied()
    item = await _item(item_id)
    if len(templates) > MAX_TEMPLATES:
        raise InvalidQc(fields={"templates": N_("At most %(max)s requirements per item.")}, max=MAX_TEMPLATES)
    problems: dict[str, str] = {}
    notes: list[str] = []
    seen: set[str] = set()
    known = await category_keys()
    for index, template in enumerate(templates):
        try:
            notes.append(check_requirement(RequirementIn(template.category, template.note, template.count, template.stage), known))
        except InvalidQc as exc:
            problems.update({f"templates.{index}.{name}": message for name, message in exc.fields.items()})
            notes.append("")
        if template.category in seen:
            problems[f"templates.{index}.category"] = N_("This category is already required above.")
        seen.add(template.category)
    if problems:
        raise InvalidQc(fields=problems)
    before = await item_templates(item.id)
    await scoped(QcTemplate).delete().where(QcTemplate.item == item.id)
    for position, (template, note) in enumerate(zip(templates, notes, strict=True)):
        await (
            scoped(QcTemplate)
            .new(item=item.id, position=position, category=template.category, needed=template.count, stage=template.stage, note=note)
            .save()
        )
    after = await item_templates(item.id)
    await record(
        "item.qc_templates",
        entity_type="item",
        entity_id=item.id,
        before={"templates": [msgspec.to_builtins(template) for template in before]},
        after={"templates": [msgspec.to_builtins(template) for template in after]},
    )
    return after


def merge(templates: list[TemplateOut]) -> dict[str, TemplateOut]:
    """One template per category: the largest count, the earliest stage and
    the distinct notes together (cut to the length of a note)."""
    by_category: dict[str, list[TemplateOut]] = defaultdict(list)
    for template in templates:
        by_category[template.category].append(template)
    merged = {}
    for category, found in by_category.items():
        notes = list(dict.fromkeys(template.note for template in found if template.note))
        merged[category] = TemplateOut(
            category=category,
            count=max(template.count for template in found),
            stage=min((template.stage for template in found), key=STAGE_ORDER.index),
            note="\n".join(notes)[:NOTE_MAX],
        )
    return merged


async def carry_over(continued: dict[UUID, UUID], supplier_id: UUID) -> int:
    """For a handover: each new order (``continued``: original -> new) takes
    the QC requirements its original still holds (not waived), for its new
    supplier. One read and one write however many orders move; returns how
    many requirements were added."""
    if not continued:
        return 0
    context = current()
    rows = (
        await scoped(QcRequirement)
        .select(QcRequirement.order, QcRequirement.category, QcRequirement.note, QcRequirement.needed, QcRequirement.stage)
        .where(QcRequirement.order.is_in(list(continued)))
        .where(QcRequirement.waived_at.is_null())
        .order_by(QcRequirement.created_at)
    )
    maker = scoped(QcRequirement)
    added = [
        maker.new(
            supplier=supplier_id,
            order=continued[row["order"]],
            category=row["category"],
            note=row["note"],
            needed=row["needed"],
            stage=row["stage"],
            created_by=context.user_id,
        )
        for row in rows
    ]
    if added:
        await QcRequirement.insert(*added)
    return len(added)


async def fill_checklist(order: Order) -> int:
    """Add the order's items' requirements that its checklist lacks; called
    by the order when it is issued, in the same transaction. Returns how
    many were added."""
    context = current()
    lines = (
        await scoped(OrderLine)
        .select(OrderLine.item)
        .where(OrderLine.order == order.id)
        .where(OrderLine.removed.eq(False))
        .order_by(OrderLine.line_no)
    )
    item_ids = list(dict.fromkeys(row["item"] for row in lines))
    if not item_ids:
        return 0
    rows = await scoped(QcTemplate).select().where(QcTemplate.item.is_in(item_ids)).order_by(QcTemplate.position)
    # In the order's line order, so that merged notes read the same every time.
    rows = sorted(rows, key=lambda row: (item_ids.index(row["item"]), row["position"]))
    wanted = merge([TemplateOut(row["category"], row["needed"], row["stage"], row["note"]) for row in rows])
    present = {
        row["category"]
        for row in await scoped(QcRequirement)
        .select(QcRequirement.category)
        .where(QcRequirement.order == order.id)
        .where(QcRequirement.waived_at.is_null())
    }
    added = 0
    for category, template in wanted.items():
        if category in present:
            continue
        await save_requirement(order, category, template.note, template.count, template.stage, context)
        added += 1
    return added
