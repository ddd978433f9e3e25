"""Settlement periods, their closing per supplier, statements with their
lines and material section, manual adjustments and material prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.decimals import ExactNumeric
from portal.items.tables import QUANTITY, Item
from portal.lengths import free_text
from portal.orders.tables import MONEY
from tenants.scoping import SHARED_WITH_SUPPLIERS
from tenants.tables import Supplier, Tenant, User

# Material prices and prices in force may carry more decimals than a
# currency's smallest unit; amounts are rounded per currency.
PRICE = (18, 6)
RATE = (6, 4)


class ReconciliationSetting(Table):
    """How a tenant settles: the cut-off of its monthly periods (day of the
    month, capped to the month's length, and minutes after that day's
    midnight, in the tenant's time zone) and the tax rate added to
    statements. A tenant without a row uses the defaults: calendar months,
    no tax."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    cutoff_day = Integer(default=31)
    cutoff_minutes = Integer(default=1440)
    tax_rate = ExactNumeric(digits=RATE, default=Decimal(0))


class Period(Table, tablename="settlement_period"):
    """One month of settlement, [starts_at, ends_at) in UTC. Written when
    first used, so a later change of the cut-off moves only periods that do
    not exist yet and periods stay contiguous."""

    # Every member of the tenant may read its calendar.
    supplier_scope = SHARED_WITH_SUPPLIERS

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    label = Varchar(length=7)
    starts_at = Timestamptz()
    ends_at = Timestamptz()


class PeriodClose(Table):
    """A period closed for one supplier: its statements are frozen."""

    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    period = ForeignKey(Period, on_delete=OnDelete.restrict, null=False)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    closed_at = Timestamptz(default=TimestamptzNow())
    closed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)


class Statement(Table):
    """What the tenant owes one supplier for one period in one currency."""

    supplier_scope = "supplier"

    @classmethod
    def supplier_visible(cls) -> Any:
        """A draft is finance's own: the supplier sees it once sent."""
        return cls.status != "draft"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    period = ForeignKey(Period, on_delete=OnDelete.restrict, null=False)
    currency = Varchar(length=3)
    status = Varchar(length=20, default="draft")
    deliveries_total = ExactNumeric(digits=MONEY, default=Decimal(0))
    deductions_total = ExactNumeric(digits=MONEY, default=Decimal(0))
    adjustments_total = ExactNumeric(digits=MONEY, default=Decimal(0))
    subtotal = ExactNumeric(digits=MONEY, default=Decimal(0))
    tax_rate = ExactNumeric(digits=RATE, default=Decimal(0))
    tax = ExactNumeric(digits=MONEY, default=Decimal(0))
    total = ExactNumeric(digits=MONEY, default=Decimal(0))
    computed_at = Timestamptz(default=TimestamptzNow())
    # Bumped by every change: a step based on an older version is refused.
    version = Integer(default=1)
    sent_at = Timestamptz(null=True, default=None)
    sent_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    # Both sides confirm before the statement is final: the supplier admin
    # first, then finance.
    supplier_confirmed_at = Timestamptz(null=True, default=None)
    supplier_confirmed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    finalized_at = Timestamptz(null=True, default=None)
    finalized_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    # The archived PDF of the finalized statement (a document) and its hash.
    pdf_document = UUID(null=True, default=None)
    pdf_sha256 = Varchar(length=64, default="")


class StatementLine(Table):
    """One line: an accepted delivery line at the price in force, a
    deduction, or an approved adjustment. The supplier is copied from the
    statement so that row-level security limits lines by itself."""

    supplier_scope = "supplier"
    supplier_parents = ("statement",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    statement = ForeignKey(Statement, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    line_no = Integer()
    # delivery, scrap (beyond the allowance), ncr, adjustment
    kind = Varchar(length=20)
    # The record the line comes from (delivery line, material, NCR, adjustment).
    source_id = UUID(null=True, default=None)
    reference = Varchar(length=200, default="")
    item_code = Varchar(length=60, default="")
    item_name = Varchar(length=200, default="")
    description = Text(default="")
    occurred_at = Timestamptz(null=True, default=None)
    quantity = ExactNumeric(digits=QUANTITY, null=True, default=None)
    unit = Varchar(length=20, default="")
    unit_price = ExactNumeric(digits=PRICE, null=True, default=None)
    amount = ExactNumeric(digits=MONEY)
    # The supplier's answer: open, confirmed, disputed; finance's: resolved.
    state = Varchar(length=20, default="open")


class StatementStep(Table):
    """One step of the confirmation loop, on the statement or one line: who
    did what, when, and what they wrote (a dispute's comment, finance's
    answer). Appended, never changed."""

    supplier_scope = "supplier"
    supplier_parents = ("statement",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    statement = ForeignKey(Statement, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    line = ForeignKey(StatementLine, on_delete=OnDelete.restrict, null=True, default=None)
    event = Varchar(length=30)
    comment = free_text(Text(default=""))
    amount = ExactNumeric(digits=MONEY, null=True, default=None)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_by_name = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class StatementMaterial(Table):
    """The material section: one row per material the supplier held or
    moved in the period."""

    supplier_scope = "supplier"
    supplier_parents = ("statement",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    statement = ForeignKey(Statement, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False)
    item_code = Varchar(length=60, default="")
    item_name = Varchar(length=200, default="")
    unit = Varchar(length=20, default="")
    opening = ExactNumeric(digits=QUANTITY, default=Decimal(0))
    dispatched = ExactNumeric(digits=QUANTITY, default=Decimal(0))
    received = ExactNumeric(digits=QUANTITY, default=Decimal(0))
    consumed = ExactNumeric(digits=QUANTITY, default=Decimal(0))
    scrap_allowance = ExactNumeric(digits=QUANTITY, default=Decimal(0))
    returned = ExactNumeric(digits=QUANTITY, default=Decimal(0))
    scrapped = ExactNumeric(digits=QUANTITY, default=Decimal(0))
    closing = ExactNumeric(digits=QUANTITY, default=Decimal(0))


class Adjustment(Table):
    """A manual correction of what is owed (positive: owed to the supplier),
    with its reason; it counts once someone other than its author approved
    it. A correction of a closed period is an adjustment in a later one."""

    supplier_scope = "supplier"

    @classmethod
    def supplier_visible(cls) -> Any:
        return cls.status == "approved"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    period = ForeignKey(Period, on_delete=OnDelete.restrict, null=False)
    currency = Varchar(length=3)
    amount = ExactNumeric(digits=MONEY)
    reason = free_text(Text())
    # The closed period this corrects, when it corrects one ("2026-10").
    corrects = Varchar(length=7, default="")
    status = Varchar(length=20, default="pending")
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    approved_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)


class MaterialPrice(Table):
    """What a material costs the tenant, per currency: scrap beyond the
    allowance is charged at this price."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False)
    currency = Varchar(length=3)
    unit_price = ExactNumeric(digits=PRICE)
    updated_at = Timestamptz(default=TimestamptzNow())


class StatementPdf(Table):
    """One rendering of a statement at one of its versions, rendered by the
    ``statements.pdf`` job: queued -> rendering -> ready (its archived
    document and hash) or failed. A version's content never changes, so one
    rendering per version is all there is; a finalized statement's is its
    final PDF. The supplier is copied from the statement for row-level
    security."""

    supplier_scope = "supplier"
    supplier_parents = ("statement",)

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    statement = ForeignKey(Statement, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    statement_version = Integer()
    status = Varchar(length=20, default="queued")
    # 0-100, moved by the job between its stages (layout, writing, archiving).
    progress = Integer(default=0)
    pages = Integer(null=True, default=None)
    document = UUID(null=True, default=None)
    sha256 = Varchar(length=64, default="")
    size = Integer(null=True, default=None)
    error = Text(default="")
    requested_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    requested_at = Timestamptz(default=TimestamptzNow())
    rendered_at = Timestamptz(null=True, default=None)


TABLES = (
    ReconciliationSetting,
    Period,
    PeriodClose,
    Statement,
    StatementLine,
    StatementStep,
    StatementMaterial,
    Adjustment,
    MaterialPrice,
    StatementPdf,
)
