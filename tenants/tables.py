"""Tenants, suppliers, accounts and memberships.

A tenant is a buyer company; a supplier is a record inside one tenant. A user
is a person (one account, global); a membership binds a user to one tenant
with one role, and supplier roles to one supplier.
"""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import (
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from portal.decimals import ExactNumeric


class Tenant(Table):
    id = UUID(primary_key=True)
    slug = Varchar(length=40, unique=True)
    name = Varchar(length=200)
    locale = Varchar(length=10, default="zh_CN")
    time_zone = Varchar(length=60, default="Asia/Shanghai")
    currency = Varchar(length=3, default="CNY")
    # Fractions: 0.05 lets a supplier deliver 5 % over the ordered quantity;
    # 0.02 lets a received material quantity differ 2 % from the dispatch
    # before it counts as a discrepancy.
    over_delivery_tolerance = ExactNumeric(digits=(6, 4), default=Decimal("0.05"))
    dispatch_tolerance = ExactNumeric(digits=(6, 4), default=Decimal("0.02"))
    created_at = Timestamptz(default=TimestamptzNow())


class Supplier(Table):
    # A supplier user sees its own supplier record only.
    supplier_scope = "id"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, null=False, index=True)
    code = Varchar(length=40)
    name = Varchar(length=200)
    contact_name = Varchar(length=200, default="")
    contact_email = Varchar(length=254, default="")
    contact_phone = Varchar(length=40, default="")
    status = Varchar(length=20, default="active")
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="portal_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True)
    name = Varchar(length=200)
    phone = Varchar(length=40, default="")
    locale = Varchar(length=10, default="")
    password_hash = Text(default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table):
    # A supplier admin manages its own supplier's people (tenants.services.team).
    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, null=False, index=True)
    user = ForeignKey(User, null=False, index=True)
    role = Varchar(length=30)
    supplier = ForeignKey(Supplier, null=True, default=None, index=True)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class AuthSession(Table):
    """The server side of a token: every request checks it, so logout and a
    revoked membership take effect at once, not when the token expires."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, null=False, index=True)
    membership = ForeignKey(Membership, null=False, index=True)
    tenant = ForeignKey(Tenant, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    address = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")


class Invitation(Table):
    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, null=False, index=True)
    email = Varchar(length=254)
    name = Varchar(length=200, default="")
    role = Varchar(length=30)
    supplier = ForeignKey(Supplier, null=True, default=None)
    token_hash = Varchar(length=64, unique=True)
    invited_by = ForeignKey(User, null=True, default=None)
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class PasswordReset(Table):
    id = UUID(primary_key=True)
    user = ForeignKey(User, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class LoginThrottle(Table):
    """Failed sign-ins per key ("email:..." or "addr:...") in the current window."""

    key = Varchar(length=300, unique=True, index=True, index_method=IndexMethod.btree)
    failures = Integer(default=0)
    window_started_at = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)


class UsedToken(Table):
    """Single-use signed tokens (by ``jti``) that were already redeemed, kept
    until the token would have expired anyway. In the database, not in a
    process, so a second use fails on every app process."""

    id = UUID(primary_key=True)
    expires_at = Timestamptz(index=True)
    used_at = Timestamptz(default=TimestamptzNow())


TABLES = (Tenant, Supplier, User, Membership, AuthSession, Invitation, PasswordReset, LoginThrottle, UsedToken)
