"""Period reconciliation: periods and their closing per supplier, statements
computed from the records (accepted deliveries at the price in force,
deductions, approved adjustments, tax), the material section, adjustments
and material prices. The arithmetic is in ``compute.py``."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any
from uuid import UUID, uuid4

import msgspec

from portal.audit.services import record
from portal.deliveries.tables import DeliveryLine
from portal.documents.attachments import register_attachment_target
from portal.documents.services import share_attached
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.i18n import N_
from portal.items.tables import QUANTITY, BomLine, Item
from portal.materials.tables import DispatchLine, MaterialMovement
from portal.notifications.services import emit
from portal.orders.tables import MONEY, OrderRevision
from portal.quality.ncrs import chargeable_dispositions
from portal.quality.tables import Ncr
from portal.quantities import CURRENCY_DECIMALS, MAX_QUANTITY, decimals_of
from portal.reconciliation import compute, periods, states
from portal.reconciliation.bulk import custom_plans, insert_rows
from portal.reconciliation.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    LineOut,
    MaterialOut,
    MaterialPriceIn,
    PdfOut,
    SettingsIn,
    SettingsOut,
    StatementList,
    StatementOut,
    StatementSummary,
    StepOut,
)
from portal.reconciliation.tables import (
    PRICE,
    Adjustment,
    MaterialPrice,
    Period,
    PeriodClose,
    ReconciliationSetting,
    Statement,
    StatementLine,
    StatementMaterial,
    StatementStep,
)
from tenants.context import TenantContext, current
from tenants.scoping import scoped
from tenants.tables import Supplier

PAGE_SIZE = 50
MATERIAL_FIGURES = ("opening", "dispatched", "received", "consumed", "scrap_allowance", "returned", "scrapped", "closing")
# Dispatch states whose lines left the buyer (a draft did not).
SENT_DISPATCH = ("sent", "received", "received_with_discrepancy")


class InvalidPeriod(DomainError):
    code = "invalid_period"
    message = N_("Some fields are missing or not valid.")


class PeriodClosed(Conflict):
    code = "period_closed"
    message = N_("This period is closed for this supplier. Corrections go to a later period as adjustments.")


class PeriodAlreadyClosed(Conflict):
    code = "period_already_closed"
    message = N_("This period is already closed for this supplier.")


class PeriodNotOver(Conflict):
    code = "period_not_over"
    message = N_("This period has not ended yet: it can be closed after its cut-off.")


class InvalidAdjustment(DomainError):
    code = "invalid_adjustment"
    message = N_("Some fields are missing or not valid.")


class AdjustmentNotPending(Conflict):
    code = "adjustment_not_pending"
    message = N_("This adjustment was already decided.")


class OwnAdjustment(DomainError):
    status_code = 403
    code = "own_adjustment"
    message = N_("An adjustment needs someone other than its author to approve it.")


class InvalidMaterialPrice(DomainError):
    code = "invalid_material_price"
    message = N_("Some fields are missing or not valid.")


class InvalidSettings(DomainError):
    code = "invalid_settings"
    message = N_("Some fields are missing or not valid.")


# ---------------------------------------------------------------- helpers


def _require(action: str) -> TenantContext:
    context = current()
    if not context.can(action):
        raise PermissionDenied()
    return context


def _now() -> datetime:
    return datetime.now(UTC)


def money_problem(value: object, decimals: int, *, allow_negative: bool = True) -> tuple[Decimal | None, str | None]:
    """An amount with at most ``decimals`` decimals (a currency's smallest unit)."""
    try:
        amount = Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        return None, N_("Enter an amount.")
    # Compared, not abs(): abs() rounds to the context, and 1e9999999 overflows it.
    if not amount.is_finite() or not -MAX_QUANTITY < amount < MAX_QUANTITY:
        return None, N_("Enter an amount.")
    if amount < 0 and not allow_negative:
        return None, N_("Enter an amount of zero or more.")
    if decimals_of(amount) > decimals:
        return None, N_("This currency has at most %(decimals)s decimals.")
    return amount, None


@dataclass(frozen=True)
class Rules:
    cutoff_day: int
    cutoff_minutes: int
    tax_rate: Decimal


async def rules() -> Rules:
    row = await scoped(ReconciliationSetting).select().first()
    if row is None:
        return Rules(31, 1440, Decimal(0))
    return Rules(int(row["cutoff_day"]), int(row["cutoff_minutes"]), Decimal(row["tax_rate"]))


async def get_settings() -> SettingsOut:
    context = _require("statements.view")
    found = await rules()
    label = periods.label_at(_now(), context.time_zone, found.cutoff_day, found.cutoff_minutes)
    return SettingsOut(found.cutoff_day, found.cutoff_minutes, found.tax_rate, context.time_zone, label)


async def update_settings(data: SettingsIn) -> SettingsOut:
    """The cut-off applies to periods not used yet; the tax rate to
    statements computed from now on (closed ones keep theirs)."""
    _require("statements.manage")
    problems: dict[str, str] = {}
    if not 1 <= data.cutoff_day <= 31:
        problems["cutoff_day"] = N_("Enter a day from 1 to 31.")
    if not 0 <= data.cutoff_minutes <= 1440:
        problems["cutoff_minutes"] = N_("Enter minutes from 0 to 1440.")
    try:
        rate = Decimal(str(data.tax_rate).strip())
        if not rate.is_finite() or not 0 <= rate < 1 or decimals_of(rate) > 4:
            raise InvalidOperation
    except (ArithmeticError, ValueError):
        problems["tax_rate"] = N_("Enter a rate from 0 to 1 with at most 4 decimals (0.13 is 13 %).")
        rate = Decimal(0)
    if problems:
        raise InvalidSettings(fields=problems)
    values = {"cutoff_day": data.cutoff_day, "cutoff_minutes": data.cutoff_minutes, "tax_rate": rate}
    existing = await scoped(ReconciliationSetting).select(ReconciliationSetting.id).first()
    before = await rules()
    if existing is None:
        # Saved twice at once (a double tap): the second insert waits for
        # the first to commit and sets the same values on its row.
        await ReconciliationSetting.insert(scoped(ReconciliationSetting).new(**values)).on_conflict(
            target=(ReconciliationSetting.tenant,),
            action="DO UPDATE",
            values=[ReconciliationSetting.cutoff_day, ReconciliationSetting.cutoff_minutes, ReconciliationSetting.tax_rate],
        )
    else:
        await scoped(ReconciliationSetting).update(values).where(ReconciliationSetting.id == existing["id"])
    after = {**values, "tax_rate": str(rate)}
    await record(
        "reconciliation.settings",
        entity_type="reconciliation_setting",
        entity_id=current().tenant_id,
        before={"cutoff_day": before.cutoff_day, "cutoff_minutes": before.cutoff_minutes, "tax_rate": str(before.tax_rate)},
        after=after,
    )
    return await get_settings()


async def ensure_period(label: str) -> Period:
    """The period row of ``label``, written when first used. It starts where
    the previous period row ends, when there is one, so periods never
    overlap or leave a gap after a change of the cut-off."""
    if periods.parse_label(label) is None:
        raise InvalidPeriod(fields={"period": N_("Name a month as YYYY-MM.")})
    found = await scoped(Period).objects().where(Period.label == label).first()
    if found is not None:
        return found  # type: ignore[no-any-return]
    context = current()
    found_rules = await rules()
    start, end = periods.bounds(label, context.time_zone, found_rules.cutoff_day, found_rules.cutoff_minutes)
    before = await scoped(Period).select(Period.ends_at).where(Period.label == periods.previous_label(label)).first()
    after = await scoped(Period).select(Period.starts_at).where(Period.label == periods.next_label(label)).first()
    start = before["ends_at"] if before else start
    end = after["starts_at"] if after else end
    if end <= start:
        raise InvalidPeriod(fields={"period": N_("The cut-off leaves this period empty.")})
    period = scoped(Period).new(label=label, starts_at=start, ends_at=end)
    # Two requests needing the same new period at once (a computation and an
    # adjustment, or one sent twice) both found none: the second insert
    # waits for the first to commit and stores nothing; its row is the one.
    if not await Period.insert(period).on_conflict(target=(Period.tenant, Period.label), action="DO NOTHING").returning(Period.id):
        return await scoped(Period).objects().where(Period.label == label).first()  # type: ignore[no-any-return]
    return period


async def _closed(period_id: UUID, supplier_id: UUID) -> bool:
    return bool(await scoped(PeriodClose).exists().where(PeriodClose.period == period_id, PeriodClose.supplier == supplier_id))


async def _supplier(supplier_id: UUID | str) -> Supplier:
    try:
        return await scoped(Supplier).get(supplier_id)
    except NotFound:
        raise InvalidPeriod(fields={"supplier_id": N_("This supplier does not exist.")}) from None


# ---------------------------------------------------------------- the records of a period


@dataclass
class _Material:
    code: str
    name: str
    unit: str
    figures: compute.MaterialFigures


def _diff(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value) if value else {}
        return loaded if isinstance(loaded, dict) else {}
    return dict(value or {})


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _accepted_lines(supplier_id: UUID, end: datetime) -> list[dict[str, Any]]:
    """Every received delivery line of the supplier with something accepted,
    received before ``end``. Compared in Python: SQLite keeps decimals as
    text (portal/decimals.py)."""
    # Typed loosely: Piccolo's stubs know only one level of joins.
    order_line: Any = DeliveryLine.order_line
    rows = (
        await scoped(DeliveryLine)
        .select(
            DeliveryLine.id,
            DeliveryLine.line_no,
            DeliveryLine.accepted_quantity,
            DeliveryLine.delivery.number,
            DeliveryLine.delivery.received_at,
            order_line.line_no,
            order_line.unit_price,
            order_line.order,
            order_line.order.number,
            order_line.order.currency,
            order_line.item,
            order_line.item.code,
            order_line.item.name,
            order_line.item.unit,
        )
        .where(DeliveryLine.delivery.supplier == supplier_id)
        .where(DeliveryLine.delivery.status == "received")
        .where(DeliveryLine.delivery.received_at < end)
    )
    return [row for row in rows if row["accepted_quantity"] is not None and Decimal(row["accepted_quantity"]) > 0]


async def _revisions(order_ids: set[UUID]) -> dict[UUID, list[compute.Revision]]:
    found: dict[UUID, list[compute.Revision]] = defaultdict(list)
    if not order_ids:
        return found
    rows = (
        await scoped(OrderRevision)
        .select(OrderRevision.order, OrderRevision.created_at, OrderRevision.diff)
        .where(OrderRevision.order.is_in(list(order_ids)))
    )
    for row in rows:
        found[row["order"]].append(compute.Revision(_utc(row["created_at"]), _diff(row["diff"])))
    return found


async def _bom(item_ids: set[UUID]) -> dict[UUID, list[tuple[UUID, Decimal, Decimal]]]:
    uses: dict[UUID, list[tuple[UUID, Decimal, Decimal]]] = defaultdict(list)
    if not item_ids:
        return uses
    rows = (
        await scoped(BomLine)
        .select(BomLine.item, BomLine.material, BomLine.quantity_per_unit, BomLine.scrap_rate)
        .where(BomLine.item.is_in(list(item_ids)))
    )
    for row in rows:
        uses[row["item"]].append((row["material"], Decimal(row["quantity_per_unit"]), Decimal(row["scrap_rate"] or 0)))
    return uses


async def _materials(
    supplier_id: UUID, start: datetime, end: datetime, accepted: list[dict[str, Any]], opening: dict[UUID, Decimal] | None
) -> dict[UUID, _Material]:
    """The material section of [start, end). ``opening`` is the previous
    closed period's closing per material; without it the opening is
    computed from every record before ``start``."""
    before: dict[UUID, compute.MaterialFigures] = defaultdict(compute.MaterialFigures)
    during: dict[UUID, compute.MaterialFigures] = defaultdict(compute.MaterialFigures)
    names: dict[UUID, tuple[str, str, str]] = {}

    def window(at: datetime | None) -> dict[UUID, compute.MaterialFigures] | None:
        if at is None:
            return None
        at = _utc(at)
        if at >= end:
            return None
        return during if at >= start else before

    lines = (
        await scoped(DispatchLine)
        .select(
            DispatchLine.item,
            DispatchLine.item.code,
            DispatchLine.item.name,
            DispatchLine.item.unit,
            DispatchLine.quantity,
            DispatchLine.received_quantity,
            DispatchLine.dispatch.sent_at,
            DispatchLine.dispatch.received_at,
        )
        .where(DispatchLine.supplier == supplier_id)
        .where(DispatchLine.dispatch.status.is_in(list(SENT_DISPATCH)))
    )
    for row in lines:
        names[row["item"]] = (row["item.code"], row["item.name"], row["item.unit"])
        if (sent := window(row["dispatch.sent_at"])) is not None:
            sent[row["item"]].dispatched += Decimal(row["quantity"])
        if row["received_quantity"] is not None and (received := window(row["dispatch.received_at"])) is not None:
            received[row["item"]].received += Decimal(row["received_quantity"])
    movements = (
        await scoped(MaterialMovement)
        .select(
            MaterialMovement.item,
            MaterialMovement.item.code,
            MaterialMovement.item.name,
            MaterialMovement.item.unit,
            MaterialMovement.kind,
            MaterialMovement.quantity,
            MaterialMovement.reported_at,
        )
        .where(MaterialMovement.supplier == supplier_id)
    )
    for row in movements:
        names[row["item"]] = (row["item.code"], row["item.name"], row["item.unit"])
        if (target := window(row["reported_at"])) is None:
            continue
        if row["kind"] == "return":
            target[row["item"]].returned += Decimal(row["quantity"])
        elif row["kind"] == "scrap":
            target[row["item"]].scrapped += Decimal(row["quantity"])
    uses = await _bom({row["order_line.item"] for row in accepted})
    for row in accepted:
        target = window(row["delivery.received_at"])
        for material, per_unit, scrap_rate in uses.get(row["order_line.item"], []):
            # A BOM material never sent to or reported by the supplier is
            # its own: it has no row here.
            if target is not None and material in names:
                target[material].add_output(Decimal(row["accepted_quantity"]), per_unit, scrap_rate)
    result: dict[UUID, _Material] = {}
    for item in names:
        figures = during[item] if item in during else compute.MaterialFigures()
        figures.opening = opening.get(item, compute.ZERO) if opening is not None else before[item].closing
        moved = any((figures.dispatched, figures.received, figures.consumed, figures.returned, figures.scrapped))
        if figures.opening != 0 or moved:
            result[item] = _Material(*names[item], figures=figures)
    return result


async def _frozen_closing(period_label: str, supplier_id: UUID) -> dict[UUID, Decimal] | None:
    """The material closing of the previous period when it is closed for
    the supplier (frozen), else None."""
    previous = await scoped(Period).select(Period.id).where(Period.label == periods.previous_label(period_label)).first()
    if previous is None or not await _closed(previous["id"], supplier_id):
        return None
    rows = (
        await scoped(StatementMaterial)
        .select(StatementMaterial.item, StatementMaterial.closing)
        .where(StatementMaterial.statement.period == previous["id"], StatementMaterial.supplier == supplier_id)
    )
    return {row["item"]: Decimal(row["closing"]) for row in rows}


async def _prices(currency_preference: str) -> dict[UUID, tuple[str, Decimal]]:
    """Each material's price: in the tenant's currency when it has one,
    else in another."""
    found: dict[UUID, tuple[str, Decimal]] = {}
    for row in await scoped(MaterialPrice).select(MaterialPrice.item, MaterialPrice.currency, MaterialPrice.unit_price):
        if row["item"] not in found or row["currency"] == currency_preference:
            found[row["item"]] = (row["currency"], Decimal(row["unit_price"]))
    return found


async def _ncr_lines(supplier_id: UUID, start: datetime, end: datetime, tenant_currency: str) -> list[tuple[str, compute.Line]]:
    """A deduction per chargeable NCR disposition recorded in [start, end),
    in the currency of the NCR's order (the tenant's when the NCR names no
    order), with the item of the NCR's order line when it names one."""
    found = await chargeable_dispositions(supplier_id, start, end)
    if not found:
        return []
    # Typed loosely: Piccolo's stubs know only one level of joins.
    order_line: Any = Ncr.order_line
    rows = (
        await scoped(Ncr)
        .select(
            Ncr.id,
            Ncr.order.number,
            Ncr.order.currency,
            order_line.item.code,
            order_line.item.name,
            order_line.item.unit,
        )
        .where(Ncr.id.is_in(list({disposition.ncr_id for disposition in found})))
    )
    ncrs = {row["id"]: row for row in rows}
    result = []
    for disposition in found:
        ncr = ncrs.get(disposition.ncr_id, {})
        currency = ncr.get("order.currency") or tenant_currency
        order_number = ncr.get("order.number")
        result.append(
            (
                currency,
                compute.ncr_line(
                    currency=currency,
                    amount=Decimal(str(disposition.amount)),
                    quantity=Decimal(str(disposition.quantity)),
                    source_id=disposition.id,
                    reference=f"{disposition.ncr_number} / {order_number}" if order_number else disposition.ncr_number,
                    item_code=ncr.get("order_line.item.code") or "",
                    item_name=ncr.get("order_line.item.name") or "",
                    unit=ncr.get("order_line.item.unit") or "",
                    note=disposition.note,
                    occurred_at=_utc(disposition.created_at),
                ),
            )
        )
    return result


def delivery_order(row: dict[str, Any]) -> tuple[datetime, str, int, str]:
    """Where an accepted delivery line stands on the statement: by when its
    delivery was received, the delivery's number, then the line's number on
    the delivery (its id only breaks a tie no real delivery has), so the
    same lines come out in the same order on every run, page and PDF."""
    return (_utc(row["delivery.received_at"]), row["delivery.number"], row["line_no"], str(row["id"]))


@dataclass
class Computed:
    """A supplier's statements of one period before they are stored."""

    lines: dict[str, list[compute.Line]]
    materials: dict[UUID, _Material]
    material_currency: str


async def compute_period(supplier_id: UUID, period: Period) -> Computed:
    """Every line of the supplier's statements of ``period``, by currency,
    and the material section."""
    context = current()
    start, end = _utc(period.starts_at), _utc(period.ends_at)
    accepted = await _accepted_lines(supplier_id, end)
    revisions = await _revisions({row["order_line.order"] for row in accepted})
    lines: dict[str, list[compute.Line]] = defaultdict(list)
    for row in sorted(accepted, key=delivery_order):
        at = _utc(row["delivery.received_at"])
        if at < start:
            continue
        currency = row["order_line.order.currency"]
        price = compute.price_in_force(
            Decimal(row["order_line.unit_price"]), row["order_line.line_no"], revisions.get(row["order_line.order"], []), at
        )
        lines[currency].append(
            compute.delivery_line(
                currency=currency,
                accepted=Decimal(row["accepted_quantity"]),
                price=price,
                source_id=row["id"],
                reference=f"{row['delivery.number']} / {row['order_line.order.number']} #{row['order_line.line_no']}",
                item_code=row["order_line.item.code"],
                item_name=row["order_line.item.name"],
                unit=row["order_line.item.unit"],
                occurred_at=at,
            )
        )
    materials = await _materials(supplier_id, start, end, accepted, await _frozen_closing(period.label, supplier_id))
    prices = await _prices(context.currency)
    for item, material in sorted(materials.items(), key=lambda pair: pair[1].code):
        currency, price = prices.get(item, (context.currency, compute.ZERO))
        line = compute.scrap_line(
            currency=currency,
            figures=material.figures,
            price=price,
            source_id=item,
            item_code=material.code,
            item_name=material.name,
            unit=material.unit,
        )
        if line is not None:
            lines[currency].append(line)
    for currency, line in await _ncr_lines(supplier_id, start, end, context.currency):
        lines[currency].append(line)
    adjustments = (
        await scoped(Adjustment)
        .select()
        .where(Adjustment.supplier == supplier_id, Adjustment.period == period.id, Adjustment.status == "approved")
        .order_by(Adjustment.created_at)
    )
    for row in adjustments:
        lines[row["currency"]].append(
            compute.Line(
                kind="adjustment",
                amount=Decimal(row["amount"]),
                source_id=row["id"],
                reference=row["corrects"],
                description=row["reason"],
                occurred_at=row["approved_at"],
            )
        )
    return Computed(dict(lines), materials, context.currency)


# ---------------------------------------------------------------- storing statements


async def refresh(supplier_id: UUID | str, label: str) -> list[StatementOut]:
    """Compute the supplier's statements of an open period again from the
    records and store them as drafts (one per currency). A closed period is
    frozen: refused."""
    _require("statements.manage")
    supplier = await _supplier(supplier_id)
    period = await ensure_period(label)
    if await _closed(period.id, supplier.id):
        raise PeriodClosed()
    stored = await _store(supplier.id, period)
    return [await _statement_out(statement_id, lines) for statement_id, lines in stored.items()]


async def _store(supplier_id: UUID, period: Period) -> dict[UUID, list[dict[str, Any]]]:
    """Store the supplier's statements of ``period`` as computed now; each
    statement's line rows as written, so that the answer need not read
    them back (5,000 rows at a time, bench/statement.py)."""
    async with custom_plans():
        computed = await compute_period(supplier_id, period)
    tax_rate = (await rules()).tax_rate
    currencies = set(computed.lines)
    if computed.materials:
        currencies.add(computed.material_currency)
    existing = {
        row["currency"]: row
        for row in await scoped(Statement).select().where(Statement.supplier == supplier_id, Statement.period == period.id)
    }
    kept: dict[UUID, list[dict[str, Any]]] = {}
    for currency in sorted(currencies):
        lines = computed.lines.get(currency, [])
        result = compute.totals(lines, currency, tax_rate)
        values = {
            Statement.deliveries_total: result.deliveries,
            Statement.deductions_total: result.deductions,
            Statement.adjustments_total: result.adjustments,
            Statement.subtotal: result.subtotal,
            Statement.tax_rate: tax_rate,
            Statement.tax: result.tax,
            Statement.total: result.total,
            Statement.computed_at: _now(),
        }
        row = existing.pop(currency, None)
        if row is None:
            statement = scoped(Statement).new(supplier=supplier_id, period=period.id, currency=currency)
            await statement.save()
            statement_id = statement.id
            await scoped(Statement).update(values).where(Statement.id == statement_id)
        else:
            statement_id = row["id"]
            if row["status"] != "draft":
                raise PeriodClosed()
            await scoped(Statement).update({**values, Statement.version: row["version"] + 1}).where(Statement.id == statement_id)
            await _clear(statement_id)
        rows = await _insert_lines(statement_id, supplier_id, result.lines)
        if currency == computed.material_currency:
            await _insert_materials(statement_id, supplier_id, computed.materials)
        kept[statement_id] = rows
    # A draft left without lines or materials (its records moved or were
    # corrected) is derived data, not anyone's work: it goes.
    for row in existing.values():
        if row["status"] != "draft":
            raise PeriodClosed()
        await _clear(row["id"])
        await scoped(Statement).delete().where(Statement.id == row["id"])
    return kept


async def _clear(statement_id: UUID) -> None:
    await scoped(StatementLine).delete().where(StatementLine.statement == statement_id)
    await scoped(StatementMaterial).delete().where(StatementMaterial.statement == statement_id)


LINE_COLUMNS = (
    "id",
    "tenant",
    "statement",
    "supplier",
    "line_no",
    "kind",
    "source_id",
    "reference",
    "item_code",
    "item_name",
    "description",
    "occurred_at",
    "quantity",
    "unit",
    "unit_price",
    "amount",
    "state",
)
MATERIAL_COLUMNS = ("id", "tenant", "statement", "supplier", "item", "item_code", "item_name", "unit", *MATERIAL_FIGURES)


def _scaled(value: Decimal | None, digits: tuple[int, int]) -> Decimal | None:
    """``value`` as its column keeps it: PostgreSQL rounds a numeric to the
    column's scale (half away from zero) and SQLite keeps the text, so it is
    rounded here, once, for both."""
    return None if value is None else value.quantize(_scale(digits[1]), rounding=ROUND_HALF_UP)


@cache
def _scale(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


async def _insert_lines(statement_id: UUID, supplier_id: UUID, lines: list[compute.Line]) -> list[dict[str, Any]]:
    """Write the statement's lines in one statement; the rows as written."""
    order = {"delivery": 0, "scrap": 1, "ncr": 2, "adjustment": 3}
    tenant = current().tenant_id
    rows = [
        (
            uuid4(),
            tenant,
            statement_id,
            supplier_id,
            number,
            line.kind,
            line.source_id,
            line.reference,
            line.item_code,
            line.item_name,
            line.description,
            _utc(line.occurred_at).astimezone(UTC) if line.occurred_at else None,
            _scaled(line.quantity, QUANTITY),
            line.unit,
            _scaled(line.unit_price, PRICE),
            _scaled(line.amount, MONEY),
            states.LineState.OPEN.value,
        )
        for number, line in enumerate(sorted(lines, key=lambda line: order.get(line.kind, 9)), start=1)
    ]
    await insert_rows(StatementLine, LINE_COLUMNS, rows)
    return [dict(zip(LINE_COLUMNS, row, strict=True)) for row in rows]


async def _insert_materials(statement_id: UUID, supplier_id: UUID, materials: dict[UUID, _Material]) -> None:
    tenant = current().tenant_id
    rows = [
        (
            uuid4(),
            tenant,
            statement_id,
            supplier_id,
            item,
            material.code,
            material.name,
            material.unit,
            *(getattr(material.figures, name) for name in MATERIAL_FIGURES),
        )
        for item, material in materials.items()
    ]
    await insert_rows(StatementMaterial, MATERIAL_COLUMNS, rows)


async def close_period(supplier_id: UUID | str, label: str) -> list[StatementOut]:
    """Freeze the supplier's statements of a period that has ended: they are
    computed one last time and never again. Records dated after the
    cut-off belong to the next period; corrections become adjustments
    there."""
    context = _require("statements.manage")
    supplier = await _supplier(supplier_id)
    period = await ensure_period(label)
    if await _closed(period.id, supplier.id):
        raise PeriodAlreadyClosed()
    if _now() < _utc(period.ends_at):
        raise PeriodNotOver()
    stored = await _store(supplier.id, period)
    ids = list(stored)
    await scoped(PeriodClose).new(period=period.id, supplier=supplier.id, closed_by=context.user_id).save()
    await _carry_pending_adjustments(supplier.id, period)
    await record(
        "period.close",
        entity_type="supplier",
        entity_id=supplier.id,
        after={"period": period.label, "statements": [str(statement_id) for statement_id in ids]},
    )
    return [await _statement_out(statement_id, lines) for statement_id, lines in stored.items()]


async def _carry_pending_adjustments(supplier_id: UUID, closed: Period) -> None:
    """An adjustment still waiting for its second pair of eyes when its
    period closes moves to the next period as a correction of the closed
    one: a closed period can no longer take it, and left there it could
    never be approved."""
    waiting = (
        await scoped(Adjustment)
        .select(Adjustment.id, Adjustment.corrects)
        .where(Adjustment.supplier == supplier_id, Adjustment.period == closed.id, Adjustment.status == "pending")
    )
    if not waiting:
        return
    later = await ensure_period(periods.next_label(closed.label))
    for row in waiting:
        corrects = row["corrects"] or closed.label
        await (
            scoped(Adjustment)
            .update({Adjustment.period: later.id, Adjustment.corrects: corrects})
            .where(Adjustment.id == row["id"], Adjustment.status == "pending")
        )
        await record(
            "adjustment.carry",
            entity_type="adjustment",
            entity_id=row["id"],
            before={"period": closed.label},
            after={"period": later.label, "corrects": corrects},
        )


# ---------------------------------------------------------------- reading


def _money(value: Any, currency: str) -> Decimal:
    return compute.round_money(Decimal(value), currency)


async def get_statement(statement_id: UUID | str) -> StatementOut:
    _require("statements.view")
    return await _statement_out(statement_id)


async def _statement_out(statement_id: UUID | str, lines: list[dict[str, Any]] | None = None) -> StatementOut:
    """The statement as the API answers it; ``lines``, its line rows when
    the caller has just written them, are not read again."""
    statement = await scoped(Statement).get(statement_id)
    supplier = await scoped(Supplier).select(Supplier.name).where(Supplier.id == statement.supplier).first()
    period = await scoped(Period).objects().where(Period.id == statement.period).first()
    currency = statement.currency
    if lines is None:
        lines = await scoped(StatementLine).select().where(StatementLine.statement == statement.id).order_by(StatementLine.line_no)
    materials = (
        await scoped(StatementMaterial).select().where(StatementMaterial.statement == statement.id).order_by(StatementMaterial.item_code)
    )
    return StatementOut(
        id=statement.id,
        supplier_id=statement.supplier,
        supplier_name=supplier["name"] if supplier else "",
        period=period.label,
        period_start=_utc(period.starts_at),
        period_end=_utc(period.ends_at),
        closed=await _closed(period.id, statement.supplier),
        currency=currency,
        status=statement.status,
        lines=[_line_out(row, currency) for row in lines],
        materials=[_material_out(row) for row in materials],
        deliveries_total=_money(statement.deliveries_total, currency),
        deductions_total=_money(statement.deductions_total, currency),
        adjustments_total=_money(statement.adjustments_total, currency),
        subtotal=_money(statement.subtotal, currency),
        tax_rate=Decimal(statement.tax_rate).normalize(),
        tax=_money(statement.tax, currency),
        total=_money(statement.total, currency),
        computed_at=_utc(statement.computed_at),
        version=statement.version,
        sent_at=_utc(statement.sent_at) if statement.sent_at else None,
        supplier_confirmed_at=_utc(statement.supplier_confirmed_at) if statement.supplier_confirmed_at else None,
        finalized_at=_utc(statement.finalized_at) if statement.finalized_at else None,
        steps=await _steps(statement, {row["id"]: row["line_no"] for row in lines}),
        pdf_sha256=statement.pdf_sha256,
        pdf=await _pdf(statement),
    )


async def _pdf(statement: Statement) -> PdfOut:
    # pdf.py renders what this module reads: imported when used.
    from portal.reconciliation.pdf import pdf_of

    return await pdf_of(statement)


async def _steps(statement: Statement, line_numbers: dict[UUID, int]) -> list[StepOut]:
    rows = await scoped(StatementStep).select().where(StatementStep.statement == statement.id).order_by(StatementStep.created_at)
    return [
        StepOut(
            event=row["event"],
            line_no=line_numbers.get(row["line"]) if row["line"] else None,
            comment=row["comment"],
            amount=_money(row["amount"], statement.currency) if row["amount"] is not None else None,
            by=row["created_by_name"],
            at=_utc(row["created_at"]),
        )
        for row in rows
    ]


def _plain(value: Any) -> Decimal | None:
    from portal.quantities import plain

    return None if value is None else plain(value)


def _line_out(row: dict[str, Any], currency: str) -> LineOut:
    return LineOut(
        id=row["id"],
        line_no=row["line_no"],
        kind=row["kind"],
        reference=row["reference"],
        item_code=row["item_code"],
        item_name=row["item_name"],
        description=row["description"],
        occurred_at=row["occurred_at"],
        quantity=_plain(row["quantity"]),
        unit=row["unit"],
        unit_price=_plain(row["unit_price"]),
        amount=_money(row["amount"], currency),
        state=row["state"],
    )


def _material_out(row: dict[str, Any]) -> MaterialOut:
    values = {name: _plain(row[name]) for name in MATERIAL_FIGURES}
    return MaterialOut(item_id=row["item"], item_code=row["item_code"], item_name=row["item_name"], unit=row["unit"], **values)  # type: ignore[arg-type]


def _encode_cursor(label: str, statement_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{label}|{statement_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[str, UUID]:
    try:
        label, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return label, UUID(key)
    except (ValueError, UnicodeDecodeError):
        raise InvalidPeriod(fields={"cursor": N_("This page link is not valid.")}) from None


async def list_statements(
    period: str | None = None,
    supplier_id: UUID | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> StatementList:
    """Newest period first. Supplier users see their own supplier's
    statements once sent; drafts are finance's own."""
    _require("statements.view")
    query = scoped(Statement).select(
        Statement.id,
        Statement.supplier,
        Statement.supplier.name,
        Statement.period.label,
        Statement.period,
        Statement.currency,
        Statement.status,
        Statement.total,
        Statement.supplier_confirmed_at,
    )
    if period:
        query = query.where(Statement.period.label == period)
    if supplier_id:
        query = query.where(Statement.supplier == supplier_id)
    if status:
        query = query.where(Statement.status == status)
    if cursor:
        label, key = _decode_cursor(cursor)
        query = query.where((Statement.period.label < label) | ((Statement.period.label == label) & (Statement.id > key)))
    limit = max(1, min(limit or PAGE_SIZE, PAGE_SIZE))
    rows = await query.order_by(Statement.period.label, ascending=False).order_by(Statement.id).limit(limit + 1)
    closed = {
        (row["period"], row["supplier"])
        for row in await scoped(PeriodClose)
        .select(PeriodClose.period, PeriodClose.supplier)
        .where(PeriodClose.period.is_in(list({row["period"] for row in rows}) or [UUID(int=0)]))
    }
    items = [
        StatementSummary(
            id=row["id"],
            supplier_id=row["supplier"],
            supplier_name=row["supplier.name"],
            period=row["period.label"],
            currency=row["currency"],
            status=row["status"],
            total=_money(row["total"], row["currency"]),
            closed=(row["period"], row["supplier"]) in closed,
            supplier_confirmed=row["supplier_confirmed_at"] is not None,
        )
        for row in rows[:limit]
    ]
    next_cursor = _encode_cursor(rows[limit - 1]["period.label"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return StatementList(items=items, next=next_cursor)


# ---------------------------------------------------------------- adjustments and prices


def _adjustment_out(row: Adjustment, label: str) -> AdjustmentOut:
    return AdjustmentOut(
        id=row.id,
        supplier_id=row.supplier,
        period=label,
        currency=row.currency,
        amount=_money(row.amount, row.currency),
        reason=row.reason,
        corrects=row.corrects,
        status=row.status,
        created_by=row.created_by,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
    )


async def create_adjustment(data: AdjustmentIn) -> AdjustmentOut:
    """A correction with its reason, for a period still open for the
    supplier; it counts once approved by someone else."""
    context = _require("statements.manage")
    supplier = await _supplier(data.supplier_id)
    currency = (data.currency or context.currency).upper()
    problems: dict[str, str] = {}
    if currency not in CURRENCY_DECIMALS:
        problems["currency"] = N_("This currency is not supported.")
    amount, problem = money_problem(data.amount, CURRENCY_DECIMALS.get(currency, 2))
    if problem:
        problems["amount"] = problem
    elif amount == 0:
        problems["amount"] = N_("Enter an amount other than zero.")
    if not data.reason.strip():
        problems["reason"] = N_("Say why: the supplier sees it.")
    if data.corrects and periods.parse_label(data.corrects) is None:
        problems["corrects"] = N_("Name a month as YYYY-MM.")
    if problems:
        raise InvalidAdjustment(fields=problems, decimals=CURRENCY_DECIMALS.get(currency, 2))
    period = await ensure_period(data.period)
    if await _closed(period.id, supplier.id):
        raise PeriodClosed()
    row = scoped(Adjustment).new(
        supplier=supplier.id,
        period=period.id,
        currency=currency,
        amount=amount,
        reason=data.reason.strip(),
        corrects=data.corrects,
        created_by=context.user_id,
    )
    await row.save()
    await record(
        "adjustment.create",
        entity_type="adjustment",
        entity_id=row.id,
        after={"supplier": str(supplier.id), "period": period.label, "currency": currency, "amount": str(amount), "reason": row.reason},
    )
    return _adjustment_out(row, period.label)


async def approve_adjustment(adjustment_id: UUID | str) -> AdjustmentOut:
    """Four eyes: the author cannot approve its own adjustment. The period
    must still be open for the supplier."""
    context = _require("statements.approve")
    row = await scoped(Adjustment).get(adjustment_id)
    if row.status != "pending":
        raise AdjustmentNotPending()
    if row.created_by == context.user_id:
        raise OwnAdjustment()
    if await _closed(row.period, row.supplier):
        raise PeriodClosed()
    now = _now()
    updated = (
        await scoped(Adjustment)
        .update({Adjustment.status: "approved", Adjustment.approved_by: context.user_id, Adjustment.approved_at: now})
        .where(Adjustment.id == row.id, Adjustment.status == "pending")
        .returning(Adjustment.id)
    )
    if not updated:
        raise AdjustmentNotPending()
    row.status, row.approved_by, row.approved_at = "approved", context.user_id, now
    await record("adjustment.approve", entity_type="adjustment", entity_id=row.id, after={"status": "approved"})
    label = await scoped(Period).select(Period.label).where(Period.id == row.period).first()
    return _adjustment_out(row, label["label"])


async def set_material_price(data: MaterialPriceIn) -> None:
    """What a material costs, per currency; used for statements computed
    from now on."""
    context = _require("statements.manage")
    currency = (data.currency or context.currency).upper()
    problems: dict[str, str] = {}
    try:
        item = await scoped(Item).get(data.item_id)
        if item.kind != "material":
            problems["item_id"] = N_("Choose a material.")
    except NotFound:
        problems["item_id"] = N_("Choose a material.")
    if currency not in CURRENCY_DECIMALS:
        problems["currency"] = N_("This currency is not supported.")
    price, problem = money_problem(data.unit_price, PRICE[1], allow_negative=False)
    if problem or price is None:
        problems["unit_price"] = problem or N_("Enter an amount.")
    if problems:
        raise InvalidMaterialPrice(fields=problems, decimals=6)
    existing = (
        await scoped(MaterialPrice)
        .select(MaterialPrice.id)
        .where(MaterialPrice.item == data.item_id, MaterialPrice.currency == currency)
        .first()
    )
    if existing is None:
        # The same price saved twice at once (a double tap): the second
        # insert waits for the first to commit and sets the same price.
        await MaterialPrice.insert(scoped(MaterialPrice).new(item=data.item_id, currency=currency, unit_price=price)).on_conflict(
            target=(MaterialPrice.tenant, MaterialPrice.item, MaterialPrice.currency),
            action="DO UPDATE",
            values=[MaterialPrice.unit_price, MaterialPrice.updated_at],
        )
    else:
        await (
            scoped(MaterialPrice)
            .update({MaterialPrice.unit_price: price, MaterialPrice.updated_at: _now()})
            .where(MaterialPrice.id == existing["id"])
        )
    await record("material_price.set", entity_type="item", entity_id=data.item_id, after={"currency": currency, "unit_price": str(price)})


# ---------------------------------------------------------------- the confirmation loop


class PeriodStillOpen(Conflict):
    code = "period_still_open"
    message = N_("Close the period for this supplier first: a statement is sent frozen.")


class EmptyStatement(Conflict):
    code = "statement_empty"
    message = N_("This statement has no lines: there is nothing to send.")


async def _step(statement: Statement, event: str, *, line_id: UUID | None = None, comment: str = "", amount: Decimal | None = None) -> None:
    context = current()
    await (
        scoped(StatementStep)
        .new(
            statement=statement.id,
            supplier=statement.supplier,
            line=line_id,
            event=event,
            comment=comment,
            amount=amount,
            created_by=context.user_id,
            created_by_name=context.user_name,
        )
        .save()
    )


async def _move(statement: Statement, event: states.Event, **changes: Any) -> states.Status:
    """Compare-and-set on the status and the version: of two concurrent
    steps on one statement, the second is refused."""
    after = states.next_status(states.Status(statement.status), event)
    values = {getattr(Statement, name): value for name, value in changes.items()}
    values[Statement.status] = after.value
    values[Statement.version] = statement.version + 1
    updated = (
        await scoped(Statement)
        .update(values)
        .where(Statement.id == statement.id, Statement.status == statement.status, Statement.version == statement.version)
        .returning(Statement.id)
    )
    if not updated:
        raise states.TransitionNotAllowed()
    return after


async def send_statement(statement_id: UUID | str) -> StatementOut:
    """Finance sends a draft of a period closed for the supplier; it must
    have at least one line. The supplier admin then answers line by line."""
    _require("statements.manage")
    statement = await scoped(Statement).get(statement_id)
    states.next_status(states.Status(statement.status), states.Event.SEND)
    if not await _closed(statement.period, statement.supplier):
        raise PeriodStillOpen()
    if not await scoped(StatementLine).exists().where(StatementLine.statement == statement.id):
        raise EmptyStatement()
    context = current()
    await _move(statement, states.Event.SEND, sent_at=_now(), sent_by=context.user_id)
    await _step(statement, states.Event.SEND.value)
    await share_attached({"statement": [statement.id]}, statement.supplier)
    await record("statement.send", entity_type="statement", entity_id=statement.id, after={"status": states.Status.SENT.value})
    await notify(statement, "send")
    return await get_statement(statement.id)


class InvalidStep(DomainError):
    code = "invalid_statement_step"
    message = N_("Some fields are missing or not valid.")


class LinesNotAgreed(Conflict):
    code = "lines_not_agreed"
    message = N_("Every line must be confirmed before the statement is.")


class NotConfirmedBySupplier(Conflict):
    code = "not_confirmed_by_supplier"
    message = N_("The supplier has not confirmed this statement yet.")


class StatementFinalized(Conflict):
    code = "statement_finalized"
    message = N_("This statement is finalized and locked. Corrections go to a later period as adjustments.")


def _check_open(statement: Statement) -> None:
    if statement.status == states.Status.FINALIZED.value:
        raise StatementFinalized()


async def _open_statement(statement_id: UUID | str) -> Statement:
    statement = await scoped(Statement).get(statement_id)
    _check_open(statement)
    return statement


async def _line_of(statement: Statement, line_id: UUID | str) -> StatementLine:
    """A line of this statement: a line of another statement (or another
    supplier's) answers like a missing one."""
    line = await scoped(StatementLine).get(line_id)
    if line.statement != statement.id:
        raise NotFound()
    return line


async def _set_line_state(line: StatementLine, event: states.LineEvent) -> None:
    after = states.next_line_state(states.LineState(line.state), event)
    updated = (
        await scoped(StatementLine)
        .update({StatementLine.state: after.value})
        .where(StatementLine.id == line.id, StatementLine.state == line.state)
        .returning(StatementLine.id)
    )
    if not updated:
        raise states.TransitionNotAllowed()


def _comment(value: str, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidStep(fields={"comment": N_("Say what is wrong: finance reads it.")})
    if len(text) > 2000:
        raise InvalidStep(fields={"comment": N_("At most 2000 characters.")})
    return text


async def confirm_line(statement_id: UUID | str, line_id: UUID | str) -> StatementOut:
    """The supplier admin agrees to one line."""
    _require("statements.respond")
    statement = await scoped(Statement).get(statement_id)
    line = await _line_of(statement, line_id)
    _check_open(statement)
    states.next_status(states.Status(statement.status), states.Event.CONFIRM_LINE)
    await _set_line_state(line, states.LineEvent.CONFIRM)
    await _move(statement, states.Event.CONFIRM_LINE)
    await _step(statement, "confirm_line", line_id=line.id)
    await record("statement.confirm_line", entity_type="statement", entity_id=statement.id, after={"line": line.line_no})
    return await get_statement(statement.id)


async def dispute_line(statement_id: UUID | str, line_id: UUID | str, comment: str) -> StatementOut:
    """The supplier admin disputes one line with a comment (evidence goes
    to the statement's documents); finance is told."""
    _require("statements.respond")
    statement = await scoped(Statement).get(statement_id)
    line = await _line_of(statement, line_id)
    _check_open(statement)
    text = _comment(comment, required=True)
    states.next_status(states.Status(statement.status), states.Event.DISPUTE_LINE)
    await _set_line_state(line, states.LineEvent.DISPUTE)
    await _move(statement, states.Event.DISPUTE_LINE)
    await _step(statement, "dispute_line", line_id=line.id, comment=text)
    await record("statement.dispute_line", entity_type="statement", entity_id=statement.id, after={"line": line.line_no, "comment": text})
    await notify(statement, "dispute_line", comment=text, line_no=line.line_no)
    return await get_statement(statement.id)


async def answer_dispute(statement_id: UUID | str, line_id: UUID | str, comment: str, correction: str = "") -> StatementOut:
    """Finance answers a disputed line: it keeps the line (rejecting the
    dispute, with a comment) or adds a correcting line of ``correction``
    (an amount, negative to reduce what is owed). Either way the line is
    before the supplier again; the correction is a new line to confirm."""
    _require("statements.manage")
    statement = await scoped(Statement).get(statement_id)
    line = await _line_of(statement, line_id)
    _check_open(statement)
    text = _comment(comment, required=True)
    amount: Decimal | None = None
    if correction.strip():
        amount, problem = money_problem(correction, CURRENCY_DECIMALS.get(statement.currency, 2))
        if problem or amount == 0:
            raise InvalidStep(
                fields={"correction": problem or N_("Enter an amount other than zero.")},
                decimals=CURRENCY_DECIMALS.get(statement.currency, 2),
            )
    disputed = await scoped(StatementLine).count().where(StatementLine.statement == statement.id, StatementLine.state == "disputed")
    event = states.Event.ANSWER_LAST if disputed == 1 and line.state == "disputed" else states.Event.ANSWER
    states.next_status(states.Status(statement.status), event)
    await _set_line_state(line, states.LineEvent.ANSWER)
    changes: dict[str, Any] = {}
    if amount is not None:
        last = (
            await scoped(StatementLine)
            .select(StatementLine.line_no)
            .where(StatementLine.statement == statement.id)
            .order_by(StatementLine.line_no, ascending=False)
            .first()
        )
        await (
            scoped(StatementLine)
            .new(
                statement=statement.id,
                supplier=statement.supplier,
                line_no=(last["line_no"] if last else 0) + 1,
                kind="adjustment",
                source_id=line.id,
                reference=f"#{line.line_no}",
                description=text,
                occurred_at=_now(),
                amount=amount,
            )
            .save()
        )
        changes = await _retotal(statement)
    await _move(statement, event, **changes)
    await _step(statement, "answer", line_id=line.id, comment=text, amount=amount)
    await record(
        "statement.answer",
        entity_type="statement",
        entity_id=statement.id,
        after={"line": line.line_no, "comment": text, "correction": str(amount) if amount is not None else None},
    )
    await notify(statement, "answer", comment=text, line_no=line.line_no)
    return await get_statement(statement.id)


async def _retotal(statement: Statement) -> dict[str, Any]:
    """The totals again from the stored lines, at the statement's tax rate."""
    rows = await scoped(StatementLine).select(StatementLine.kind, StatementLine.amount).where(StatementLine.statement == statement.id)
    lines = [compute.Line(kind=row["kind"], amount=_money(row["amount"], statement.currency)) for row in rows]
    result = compute.totals(lines, statement.currency, Decimal(statement.tax_rate))
    return {
        "deliveries_total": result.deliveries,
        "deductions_total": result.deductions,
        "adjustments_total": result.adjustments,
        "subtotal": result.subtotal,
        "tax": result.tax,
        "total": result.total,
    }


async def confirm_statement(statement_id: UUID | str) -> StatementOut:
    """The supplier admin confirms the whole statement once every line is
    confirmed; finance then finalizes it."""
    context = _require("statements.respond")
    statement = await _open_statement(statement_id)
    states.next_status(states.Status(statement.status), states.Event.CONFIRM)
    if statement.supplier_confirmed_at is not None:
        raise states.TransitionNotAllowed()
    if await scoped(StatementLine).exists().where(StatementLine.statement == statement.id, StatementLine.state != "confirmed"):
        raise LinesNotAgreed()
    await _move(statement, states.Event.CONFIRM, supplier_confirmed_at=_now(), supplier_confirmed_by=context.user_id)
    await _step(statement, "confirm")
    await record("statement.confirm", entity_type="statement", entity_id=statement.id, after={"supplier_confirmed": True})
    await notify(statement, "confirm")
    return await get_statement(statement.id)


async def finalize_statement(statement_id: UUID | str) -> StatementOut:
    """Finance confirms after the supplier: the statement is finalized and
    locked; nothing changes after."""
    context = _require("statements.manage")
    statement = await _open_statement(statement_id)
    states.next_status(states.Status(statement.status), states.Event.FINALIZE)
    if statement.supplier_confirmed_at is None:
        raise NotConfirmedBySupplier()
    await _move(statement, states.Event.FINALIZE, finalized_at=_now(), finalized_by=context.user_id)
    await _step(statement, "finalize")
    from portal.reconciliation.pdf import queue_final_pdf

    await queue_final_pdf(statement.id)
    await record(
        "statement.finalize", entity_type="statement", entity_id=statement.id, after={"status": "finalized", "total": str(statement.total)}
    )
    await notify(statement, "finalize")
    return await get_statement(statement.id)


# ---------------------------------------------------------------- notifications

# The loop's step -> the notification kind the other side hears.
NOTICES = {
    "send": "statement.sent",
    "answer": "statement.answered",
    "finalize": "statement.finalized",
    "dispute_line": "statement.disputed",
    "confirm": "statement.confirmed",
}


async def notify(statement: Statement, step: str, **extra: Any) -> None:
    """Record the step as an event (portal/notifications/kinds.py says who
    hears it, in app and by email in each reader's language)."""
    context = current()
    # Read again: the step may have changed the total (a correcting line).
    statement = await scoped(Statement).get(statement.id)
    supplier = await scoped(Supplier).select(Supplier.name).where(Supplier.id == statement.supplier).first()
    period = await scoped(Period).select(Period.label).where(Period.id == statement.period).first()
    params = {
        "buyer": context.tenant_name,
        "supplier": supplier["name"] if supplier else "",
        "period": period["label"] if period else "",
        "currency": statement.currency,
        "total": _money(statement.total, statement.currency),
        **extra,
    }
    await emit(
        NOTICES[step], link=f"/statements/{statement.id}", supplier=statement.supplier, record=("statement", statement.id), params=params
    )


async def statement_attachment_supplier(statement_id: UUID) -> UUID | None:
    """Documents on a statement (the supplier's evidence for a dispute, the
    archived PDF) are shared with its supplier once it is sent; a draft's
    are finance's own until ``send_statement`` shares them."""
    statement = await scoped(Statement).get(statement_id)
    if statement.status == states.Status.DRAFT.value:
        return None
    supplier: UUID = statement.supplier
    return supplier


register_attachment_target("statement", statement_attachment_supplier, table=Statement, view_action="statements.view")


# ---------------------------------------------------------------- what needs someone now


async def list_adjustments(status: str = "pending", *, approvable: bool = False) -> list[AdjustmentOut]:
    """Every adjustment in a status, newest first (finance's approval
    queue, which empties as they are approved); ``approvable``: only those
    the actor may approve, not its own (a condition of the query)."""
    context = _require("statements.manage")
    query = scoped(Adjustment).objects().where(Adjustment.status == status)
    if approvable:
        query = query.where((Adjustment.created_by != context.user_id) | Adjustment.created_by.is_null())
    rows = await query.order_by(Adjustment.created_at, ascending=False)
    labels = {row["id"]: row["label"] for row in await scoped(Period).select(Period.id, Period.label)}
    names = {row["id"]: row["name"] for row in await scoped(Supplier).select(Supplier.id, Supplier.name)}
    result = []
    for row in rows:
        out = _adjustment_out(row, labels.get(row.period, ""))
        result.append(msgspec.structs.replace(out, supplier_name=names.get(row.supplier, "")))
    return result


@dataclass
class Todo:
    """Statements waiting for the reader: the supplier admin's to answer or
    confirm; finance's disputed, to finalize, and others' adjustments to approve."""

    to_answer: list[StatementSummary]
    to_finalize: list[StatementSummary]
    adjustments: list[AdjustmentOut]


async def todo() -> Todo:
    context = current()
    empty = Todo([], [], [])
    if not context.can("statements.view"):
        return empty
    if context.is_supplier:
        waiting = await _every_statement("sent") + await _every_statement("disputed")
        to_answer = [item for item in waiting if not item.supplier_confirmed]
        return Todo(sorted(to_answer, key=lambda item: item.period, reverse=True), [], [])
    disputed = await _every_statement("disputed")
    sent = await _every_statement("sent")
    adjustments = await list_adjustments(approvable=True) if context.can("statements.approve") else []
    return Todo(disputed, [item for item in sent if item.supplier_confirmed], adjustments)


async def _every_statement(status: str) -> list[StatementSummary]:
    """Every statement in ``status``, page after page: a to-do list that
    stopped at the first page dropped the rest unseen."""
    found: list[StatementSummary] = []
    cursor = None
    while True:
        page = await list_statements(status=status, cursor=cursor)
        found += page.items
        if page.next is None:
            return found
        cursor = page.next


async def statement_suppliers() -> list[Supplier]:
    """The suppliers finance computes statements for."""
    _require("statements.manage")
    rows: list[Supplier] = await scoped(Supplier).objects().order_by(Supplier.name)
    return rows


async def default_period() -> str:
    """The last period that has ended: the one finance closes next."""
    context = current()
    found = await rules()
    return periods.previous_label(periods.label_at(_now(), context.time_zone, found.cutoff_day, found.cutoff_minutes))
