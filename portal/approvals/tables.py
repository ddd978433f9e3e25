"""Approval rules per tenant and the requests they hold."""

from __future__ import annotations

from piccolo.columns import JSON, UUID, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.decimals import ExactNumeric
from portal.lengths import free_text
from tenants.tables import Tenant, User

MONEY = (18, 4)


class ApprovalRule(Table):
    """One rule per tenant and kind of action (``portal.approvals.services.KINDS``):
    when it applies (above ``threshold``, for kinds that have an amount) and
    which role decides. Edited by the tenant's admin."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=40)
    approver_role = Varchar(length=30)
    # Null: every such action is held.
    threshold = ExactNumeric(digits=MONEY, null=True, default=None)
    active = Boolean(default=True)
    updated_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ApprovalRequest(Table):
    """An action held until the rule's role decides; what to do on approval
    is in ``payload``, for the kind's registered action. Buyer-side only."""

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=40)
    record_type = Varchar(length=30)
    record_id = UUID()
    label = Varchar(length=200, default="")
    amount = ExactNumeric(digits=MONEY, null=True, default=None)
    currency = Varchar(length=3, default="")
    payload = JSON(default="{}")
    approver_role = Varchar(length=30)
    # pending, approved, rejected, withdrawn
    status = Varchar(length=20, default="pending")
    requested_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    requested_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    comment = free_text(Text(default=""))


TABLES = (ApprovalRule, ApprovalRequest)
