"""A tenant's settings that its admin changes without code: the dispatch and
over-delivery tolerances, a dispatch tolerance per material that overrides
the tenant's, and the document categories people file documents under.

Every reader of these values goes through this module: the receipt of a
dispatch (``dispatch_tolerances``), document intake and QC requirements
(``categories``, ``file_rules``), the pages' category lists
(``remember_categories`` for the templates).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import msgspec

from portal.configuration.tables import DocumentCategory, ItemTolerance
from portal.documents.content import CATEGORIES
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.i18n import N_, gettext
from portal.items.tables import Item
from portal.lengths import most
from tenants.context import TenantContext, current, peek
from tenants.scoping import scoped
from tenants.tables import Tenant

DEFAULT_DISPATCH_TOLERANCE = Decimal("0.02")
# A tolerance is a fraction of the quantity: 0 to 100 %.
MAX_TOLERANCE = Decimal(1)
# Progress and message photos are filed as photos, and "other" takes what
# fits nowhere else: these two can be renamed but never switched off.
ALWAYS_ON = frozenset({"photo", "other"})
KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
LABEL_LENGTH = 100


class InvalidSetting(DomainError):
    code = "invalid_setting"
    message = N_("Some fields are missing or not valid.")


TOLERANCE_RANGE = N_("A percentage from 0 to 100, at most two decimals.")


# ---------------------------------------------------------------- tolerances


class ToleranceIn(msgspec.Struct, frozen=True):
    """Fractions of the quantity: 0.02 is 2 %."""

    # How far a received material quantity may differ from the dispatched
    # one before it is a discrepancy that needs a reason.
    dispatch_tolerance: Decimal
    # How much more than ordered a supplier may deliver.
    over_delivery_tolerance: Decimal


class ToleranceOut(ToleranceIn, frozen=True):
    pass


class ItemToleranceIn(msgspec.Struct, frozen=True):
    # A fraction 0 to 1; null: the material follows the tenant's again.
    dispatch_tolerance: Decimal | None


class ItemToleranceOut(msgspec.Struct, frozen=True):
    # The material's id.
    id: UUID
    item_code: str
    item_name: str
    # The tolerance its dispatch lines are checked against.
    dispatch_tolerance: Decimal
    # True when that is the material's own, false when it is the tenant's.
    own: bool
    updated_at: datetime | None = None


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


def parse_tolerance(value: object) -> Decimal | None:
    """A fraction 0..1 with at most four decimals (two in percent), else None."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        return None
    if not number.is_finite() or not Decimal(0) <= number <= MAX_TOLERANCE or number.as_tuple().exponent < -4:  # type: ignore[operator]
        return None
    return number


def percent_to_fraction(value: str) -> Decimal | str:
    """A form's percentage as a fraction, or the text itself when it is no
    number (the service then refuses it)."""
    try:
        return Decimal(value.strip().rstrip("%").strip()) / 100
    except (ArithmeticError, ValueError):
        return value


def as_percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f}"


async def get_tolerance() -> ToleranceOut:
    context = current()
    row = await Tenant.select(Tenant.dispatch_tolerance, Tenant.over_delivery_tolerance).where(Tenant.id == context.tenant_id).first()
    if row is None:
        raise NotFound()
    return ToleranceOut(
        dispatch_tolerance=Decimal(row["dispatch_tolerance"]).normalize(),
        over_delivery_tolerance=Decimal(row["over_delivery_tolerance"]).normalize(),
    )


async def set_tolerance(data: ToleranceIn) -> ToleranceOut:
    """Save the tenant's tolerances (fractions 0 to 1): a later receipt or
    delivery is checked against them; what was already confirmed stays."""
    from portal.audit.services import record

    context = _require("settings.manage")
    dispatch = parse_tolerance(data.dispatch_tolerance)
    over = parse_tolerance(data.over_delivery_tolerance)
    problems = {
        name: TOLERANCE_RANGE for name, value in (("dispatch_tolerance", dispatch), ("over_delivery_tolerance", over)) if value is None
    }
    if problems or dispatch is None or over is None:
        raise InvalidSetting(fields=problems)
    before = await get_tolerance()
    await Tenant.update({Tenant.dispatch_tolerance: dispatch, Tenant.over_delivery_tolerance: over}).where(Tenant.id == context.tenant_id)
    after = await get_tolerance()
    await record(
        "settings.tolerance",
        entity_type="tenant",
        entity_id=context.tenant_id,
        before=msgspec.to_builtins(before),
        after=msgspec.to_builtins(after),
    )
    return after


async def list_item_tolerances() -> list[ItemToleranceOut]:
    rows = await scoped(ItemTolerance).select(
        ItemTolerance.item,
        ItemTolerance.item.code.as_alias("item_code"),
        ItemTolerance.item.name.as_alias("item_name"),
        ItemTolerance.dispatch_tolerance,
        ItemTolerance.updated_at,
    )
    found = [
        ItemToleranceOut(
            id=row["item"],
            item_code=row["item_code"],
            item_name=row["item_name"],
            dispatch_tolerance=Decimal(str(row["dispatch_tolerance"])).normalize(),
            own=True,
            updated_at=row["updated_at"],
        )
        for row in rows
    ]
    return sorted(found, key=lambda row: row.item_code)


async def set_item_tolerance(item_id: UUID | str, data: ItemToleranceIn) -> ItemToleranceOut:
    """Give one material its own dispatch tolerance, overriding the
    tenant's, or (null) take it away."""
    from portal.audit.services import record

    context = _require("settings.manage")
    item = await scoped(Item).get(item_id)
    value = None if data.dispatch_tolerance is None else parse_tolerance(data.dispatch_tolerance)
    if data.dispatch_tolerance is not None and value is None:
        raise InvalidSetting(fields={"dispatch_tolerance": TOLERANCE_RANGE})
    now = datetime.now(UTC)
    existing = await scoped(ItemTolerance).objects().where(ItemTolerance.item == item.id).first()
    before = None if existing is None else str(existing.dispatch_tolerance)
    if value is None:
        await scoped(ItemTolerance).delete().where(ItemTolerance.item == item.id)
    elif existing is None:
        row = scoped(ItemTolerance).new(item=item.id, dispatch_tolerance=value, updated_by=context.user_id, updated_at=now)
        # The same save sent twice at once (a double tap): both found no row;
        # the second sets the same value on the one the first stored.
        await ItemTolerance.insert(row).on_conflict(
            target=(ItemTolerance.tenant, ItemTolerance.item),
            action="DO UPDATE",
            values=[ItemTolerance.dispatch_tolerance, ItemTolerance.updated_by, ItemTolerance.updated_at],
        )
    else:
        existing.dispatch_tolerance, existing.updated_by, existing.updated_at = value, context.user_id, now
        await existing.save([ItemTolerance.dispatch_tolerance, ItemTolerance.updated_by, ItemTolerance.updated_at])
    await record(
        "settings.item_tolerance",
        entity_type="item",
        entity_id=item.id,
        before={"dispatch_tolerance": before},
        after={"dispatch_tolerance": None if value is None else str(value)},
    )
    tenant, _ = await dispatch_tolerances(set())
    return ItemToleranceOut(
        id=item.id,
        item_code=item.code,
        item_name=item.name,
        dispatch_tolerance=(value if value is not None else tenant).normalize(),
        own=value is not None,
        updated_at=now,
    )


async def set_item_tolerance_by_code(code: str, percent: str) -> ItemToleranceOut:
    """The settings page names the material by its code and the tolerance in
    percent (empty: back to the tenant's)."""
    item = await scoped(Item).select(Item.id).where(Item.code == code.strip()).first()
    if item is None:
        raise InvalidSetting(fields={"item_code": N_("No item has this code.")})
    value = None if not percent.strip() else percent_to_fraction(percent)
    return await set_item_tolerance(item["id"], ItemToleranceIn(dispatch_tolerance=value))  # type: ignore[arg-type]


async def dispatch_tolerances(item_ids: set[UUID]) -> tuple[Decimal, dict[UUID, Decimal]]:
    """The tenant's dispatch tolerance and the items' own, where set: the
    receipt of a dispatch checks each line against its item's, else the
    tenant's."""
    context = current()
    row = await Tenant.select(Tenant.dispatch_tolerance).where(Tenant.id == context.tenant_id).first()
    tenant = Decimal(row["dispatch_tolerance"]) if row and row["dispatch_tolerance"] is not None else DEFAULT_DISPATCH_TOLERANCE
    own: dict[UUID, Decimal] = {}
    if item_ids:
        rows = (
            await scoped(ItemTolerance)
            .select(ItemTolerance.item, ItemTolerance.dispatch_tolerance)
            .where(ItemTolerance.item.is_in(list(item_ids)))
        )
        own = {row["item"]: Decimal(str(row["dispatch_tolerance"])) for row in rows}
    return tenant, own


# ---------------------------------------------------------------- document categories


@dataclass(frozen=True)
class TenantCategory:
    id: UUID
    key: str
    # A built-in category's catalog id (translated when shown), or the
    # tenant's own words.
    label: str
    # The built-in category whose file types and size limit apply.
    base: str
    active: bool
    builtin: bool
    position: int

    @property
    def shown_label(self) -> str:
        return gettext(self.label) if self.builtin and self.label == CATEGORIES[self.key].label else self.label


class CategoryCreate(msgspec.Struct, frozen=True):
    label: Annotated[str, most(DocumentCategory.label)]
    # The built-in category (drawing, spec, material_certificate, ...) whose
    # file types and size limit the new one takes.
    base: str
    # How the API and imports name it; left out, one is made up.
    key: str = ""


class CategoryUpdate(msgspec.Struct, frozen=True):
    label: Annotated[str, most(DocumentCategory.label)] | None = None
    active: bool | None = None


class CategoryOut(msgspec.Struct, frozen=True):
    id: UUID
    key: str
    label: str
    base: str
    active: bool
    builtin: bool


def category_id(tenant_id: UUID, key: str) -> UUID:
    """A category's id is its tenant and key, so a built-in one the tenant
    never changed has the same id as after a change."""
    return uuid5(NAMESPACE_URL, f"portal:document-category:{tenant_id}:{key}")


_loaded: ContextVar[tuple[UUID, list[TenantCategory]] | None] = ContextVar("tenant_categories", default=None)


async def categories(*, include_inactive: bool = False) -> list[TenantCategory]:
    """The tenant's document categories in order: the built-in ones (with
    the tenant's label and switch) then its own."""
    context = current()
    rows = {row["key"]: row for row in await scoped(DocumentCategory).select()}
    found = []
    for position, (key, category) in enumerate(CATEGORIES.items()):
        row = rows.pop(key, None)
        found.append(
            TenantCategory(
                id=category_id(context.tenant_id, key),
                key=key,
                label=(row["label"] or category.label) if row else category.label,
                base=key,
                active=row["active"] if row else True,
                builtin=True,
                position=position,
            )
        )
    for row in sorted(rows.values(), key=lambda row: (row["position"], row["key"])):
        if row["base"] not in CATEGORIES:
            continue
        found.append(
            TenantCategory(row["id"], row["key"], row["label"], row["base"], row["active"], False, len(CATEGORIES) + row["position"])
        )
    _loaded.set((context.tenant_id, found))
    return found if include_inactive else [category for category in found if category.active]


async def category_keys() -> set[str]:
    """The keys of the tenant's categories switched on."""
    return {category.key for category in await categories()}


async def remember_categories() -> None:
    """Load the tenant's categories for the page about to be rendered (the
    templates' category lists and labels read them without a query)."""
    if peek() is not None and isinstance(peek(), TenantContext):
        await categories()


def remembered() -> list[TenantCategory] | None:
    """The categories loaded in this request for the acting tenant, if any."""
    loaded = _loaded.get()
    context = peek()
    if loaded is None or not isinstance(context, TenantContext) or loaded[0] != context.tenant_id:
        return None
    return loaded[1]


async def file_rules(key: str, *, include_inactive: bool = False) -> str:
    """The built-in category whose file checks a document filed under the
    tenant's category ``key`` passes; an unknown (or, unless asked for,
    switched-off) category is refused."""
    for category in await categories(include_inactive=include_inactive):
        if category.key == key:
            return category.base
    raise InvalidSetting(fields={"category": N_("Choose a category.")})


def label_of(key: str) -> str:
    """A category's name in the reader's language, from the categories this
    request loaded (``remember_categories``), else the built-in ones."""
    for category in remembered() or []:
        if category.key == key:
            return category.shown_label
    return gettext(CATEGORIES[key].label) if key in CATEGORIES else key


def choices(*, include_inactive: bool = False) -> list[tuple[str, str]]:
    """(key, name) of the categories switched on (or all), for a page."""
    loaded = remembered()
    if loaded is None:
        return [(key, gettext(category.label)) for key, category in CATEGORIES.items()]
    return [(category.key, category.shown_label) for category in loaded if category.active or include_inactive]


def bases() -> dict[str, str]:
    """Category key -> the built-in category whose file rules apply, for the
    categories this request loaded (else the built-in ones)."""
    loaded = remembered()
    if loaded is None:
        return {key: key for key in CATEGORIES}
    return {category.key: category.base for category in loaded}


async def stored_label(key: str) -> str:
    """What a recorded event keeps: a built-in category's catalog id (each
    reader sees it in their language) or the tenant's words."""
    for category in await categories(include_inactive=True):
        if category.key == key:
            return category.label
    return key


def _out(category: TenantCategory) -> CategoryOut:
    return CategoryOut(
        id=category.id, key=category.key, label=category.shown_label, base=category.base, active=category.active, builtin=category.builtin
    )


async def list_categories() -> list[CategoryOut]:
    return [_out(category) for category in await categories(include_inactive=True)]


async def get_category(category_id_: UUID | str) -> CategoryOut:
    for category in await categories(include_inactive=True):
        if str(category.id) == str(category_id_):
            return _out(category)
    raise NotFound()


def _label_problem(label: str) -> str | None:
    if not label:
        return N_("Give the category a name.")
    if len(label) > LABEL_LENGTH:
        return N_("Use at most 100 characters.")
    return None


async def create_category(data: CategoryCreate) -> CategoryOut:
    """A category of the tenant's own, filed with the file types and size
    limit of a built-in one."""
    from portal.audit.services import record

    context = _require("settings.manage")
    key, label, base = data.key.strip().lower() or f"c_{uuid4().hex[:8]}", " ".join(data.label.split()), data.base.strip()
    problems: dict[str, str] = {}
    existing = {category.key for category in await categories(include_inactive=True)}
    if not KEY.match(key):
        problems["key"] = N_("2 to 40 small letters, digits or underscores, starting with a letter.")
    elif key in existing:
        problems["key"] = N_("There is already a category with this key.")
    if problem := _label_problem(label):
        problems["label"] = problem
    if base not in CATEGORIES:
        problems["base"] = N_("Choose a category.")
    if problems:
        raise InvalidSetting(fields=problems)
    position = len(existing) - len(CATEGORIES)
    new_id = category_id(context.tenant_id, key)
    await scoped(DocumentCategory).new(id=new_id, key=key, label=label, base=base, position=position, updated_by=context.user_id).save()
    await record(
        "settings.document_category", entity_type="tenant", entity_id=context.tenant_id, after={"key": key, "label": label, "base": base}
    )
    return await get_category(new_id)


async def update_category(category_id_: UUID | str, data: CategoryUpdate) -> CategoryOut:
    """Rename a category or switch it off (documents already filed under it
    keep it; no new ones are). Its key and file rules never change."""
    from portal.audit.services import record

    context = _require("settings.manage")
    found = await get_category(category_id_)
    label = None if data.label is None else " ".join(data.label.split())
    if label is not None and (problem := _label_problem(label)):
        raise InvalidSetting(fields={"label": problem})
    active = found.active if data.active is None else data.active
    if not active and found.key in ALWAYS_ON:
        raise InvalidSetting(
            fields={"active": N_('Photos and "Other" are always on: progress reports and messages file their photos there.')}
        )
    values: dict[Any, Any] = {
        DocumentCategory.active: active,
        DocumentCategory.updated_by: context.user_id,
        DocumentCategory.updated_at: datetime.now(UTC),
    }
    if label is not None:
        values[DocumentCategory.label] = label
    updated = await scoped(DocumentCategory).update(values).where(DocumentCategory.key == found.key).returning(DocumentCategory.id)
    if not updated:
        # A built-in category changed for the first time: its row is made
        # now, under an id of its key. The same change sent twice at once
        # (a double tap) finds no row twice; the second insert waits for
        # the first to commit and makes the same change on its row.
        row = scoped(DocumentCategory).new(
            id=found.id, key=found.key, label=label or "", base=found.base, active=active, updated_by=context.user_id
        )
        await DocumentCategory.insert(row).on_conflict(target=(DocumentCategory.id,), action="DO UPDATE", values=list(values))
    await record(
        "settings.document_category",
        entity_type="tenant",
        entity_id=context.tenant_id,
        before={"key": found.key, "label": found.label, "active": found.active},
        after={"key": found.key, "label": label if label is not None else found.label, "active": active},
    )
    return await get_category(found.id)
