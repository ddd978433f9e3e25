"""Response-time rules per tenant and the breaches they found."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tenants.tables import Supplier, Tenant, User


class ResponseRule(Table):
    """How long a supplier has to answer, per tenant (one row; none: the
    defaults). Edited by the tenant's admin."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    accept_hours = Integer(default=48)
    acknowledge_hours = Integer(default=24)
    receipt_hours = Integer(default=72)
    remind_before_hours = Integer(default=8)
    # A line is behind plan when its share of good quantity reported lags
    # the share of time elapsed (issue to due date) by more than this.
    progress_margin_percent = Integer(default=20)
    # A line due soon or overdue is reminded or escalated only when no
    # progress was reported on it for this long: a supplier at work on it
    # is not nagged.
    progress_stale_hours = Integer(default=24)
    updated_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ResponseBreach(Table):
    """One thing a supplier had to do by a time (accept an order, acknowledge
    a revision, confirm a receipt) or a line behind plan or overdue: when
    it was due, when the reminder and the escalation went out, when it was
    resolved. Kept for the KPIs."""

    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.restrict, null=False)
    # accept, acknowledge, receipt (answers owed), behind_plan (a line's
    # progress lags the time elapsed), overdue (a line due: reminded before
    # its due date, escalated after it, both only while no progress comes).
    kind = Varchar(length=20)
    record_type = Varchar(length=20)
    record_id = UUID()
    label = Varchar(length=100, default="")
    due_at = Timestamptz()
    reminded_at = Timestamptz(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = (ResponseRule, ResponseBreach)
