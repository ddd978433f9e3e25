"""The request's tenant context, set once by the authentication middleware.

Everything that reads or writes tenant data asks this module who is acting
and for which tenant; with no context it raises (fail closed). On PostgreSQL
the same facts are written into transaction-local settings that the
row-level security policies read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from piccolo.engine.postgres import PostgresEngine

from portal.db import get_engine, open_transaction
from portal.settings import get_settings
from tenants.revocation import GENERATION_VALUE, current_generation
from tenants.roles import Role, allowed


class NoTenantContext(RuntimeError):
    """A query on tenant data ran with nobody acting: a bug, never a 404."""


@dataclass(frozen=True)
class TenantContext:
    tenant_id: UUID
    tenant_slug: str
    tenant_name: str
    time_zone: str
    currency: str
    role: Role
    user_id: UUID | None = None
    user_name: str = ""
    membership_id: UUID | None = None
    supplier_id: UUID | None = None
    session_id: UUID | None = None
    # When the session behind a page token ends (the phone's kept pages
    # must not outlive it: tenants.offline).
    session_expires_at: datetime | None = None
    address: str = ""
    locale: str = ""

    @property
    def is_supplier(self) -> bool:
        return self.role.is_supplier

    def can(self, action: str) -> bool:
        return allowed(self.role, action)

    def today(self) -> date:
        """Due dates are calendar days in the tenant's time zone."""
        return datetime.now(ZoneInfo(self.time_zone)).date()


@dataclass(frozen=True)
class SystemScope:
    """Work that truly spans tenants (migrations, demo data, nightly jobs),
    named so that the audit trail and the logs say who it was."""

    name: str


_current: ContextVar[TenantContext | SystemScope | None] = ContextVar("tenant_context", default=None)


def operator_context(tenant: Any, name: str) -> TenantContext:
    """An admin-level context for a named operator process (demo loader,
    CLI, tests) acting inside one tenant; the audit trail shows ``name``."""
    return TenantContext(
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        time_zone=tenant.time_zone,
        currency=tenant.currency,
        role=Role.ADMIN,
        user_name=name,
    )


def current() -> TenantContext:
    context = _current.get()
    if not isinstance(context, TenantContext):
        raise NoTenantContext("no tenant context: tenant data is only reachable inside a request or a named scope")
    return context


def current_or_system() -> TenantContext | SystemScope:
    context = _current.get()
    if context is None:
        raise NoTenantContext("no tenant context and no system scope")
    return context


def peek() -> TenantContext | SystemScope | None:
    return _current.get()


def _transaction_connection() -> Any | None:
    """The connection of the running transaction on PostgreSQL, else None."""
    engine = get_engine()
    if not isinstance(engine, PostgresEngine):
        return None
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise NoTenantContext("database settings need the request transaction")
    return transaction.connection


async def reveal_own_memberships(user_id: UUID) -> None:
    """Lets the membership policy show this user's own memberships (in any
    tenant) before a tenant is chosen; changes no other setting."""
    connection = _transaction_connection()
    if connection is not None:
        await connection.execute("SELECT set_config('app.user_id', $1, true)", str(user_id))


async def apply_database_settings(context: TenantContext | SystemScope | None) -> None:
    """Write the context into transaction-local settings for RLS. Must run
    inside a transaction: ``set_config(..., true)`` ends with it, so nothing
    leaks to the next user of a pooled connection."""
    await _write_settings(context, read_generation=False)


async def apply_settings_reading_generation(context: TenantContext) -> int:
    """``apply_database_settings``, and the auth generation as the
    transaction sees it (``tenants.revocation``), read in the same
    statement on PostgreSQL: a request whose session this process has
    cached writes its settings and checks the cache in one round trip."""
    generation = await _write_settings(context, read_generation=True)
    if generation is None:
        raise TypeError("the settings statement returned no auth generation")
    return generation


async def _write_settings(context: TenantContext | SystemScope | None, *, read_generation: bool) -> int | None:
    connection = _transaction_connection()
    if connection is None:
        return await current_generation() if read_generation else None
    values = {"app.tenant_id": "", "app.supplier_id": "", "app.user_id": "", "app.system": ""}
    if isinstance(context, SystemScope):
        values["app.system"] = "on"
    elif isinstance(context, TenantContext):
        values["app.tenant_id"] = str(context.tenant_id)
        values["app.supplier_id"] = str(context.supplier_id) if context.is_supplier and context.supplier_id else ""
        values["app.user_id"] = str(context.user_id or "")
    # The statement timeout rides along, transaction-local like the rest:
    # no session state, so it holds through PgBouncer in transaction mode.
    # So does JIT off: the policies' subqueries hide from the planner how
    # few rows pass, it prices a supplier's page at millions and compiles
    # it, seconds of LLVM for a plan that probes a few indexes per row
    # (docs/performance.md "Request cost and scale").
    # The generation comes first: set_config's values are not needed, and
    # fetchval returns the first column.
    timeout_ms = get_settings().statement_timeout_ms
    value = await connection.fetchval(
        "SELECT "
        + (f"{GENERATION_VALUE}, " if read_generation else "")
        + "set_config('app.tenant_id', $1, true), set_config('app.supplier_id', $2, true),"
        " set_config('app.user_id', $3, true), set_config('app.system', $4, true), set_config('jit', 'off', true)"
        + (", set_config('statement_timeout', $5, true)" if timeout_ms else ""),
        values["app.tenant_id"],
        values["app.supplier_id"],
        values["app.user_id"],
        values["app.system"],
        *([str(timeout_ms)] if timeout_ms else []),
    )
    return int(value) if read_generation else None


async def enter(context: TenantContext | SystemScope | None, *, settings_written: bool = False) -> Any:
    """Set the context for the rest of this task; returns a reset token.
    ``settings_written``: the running transaction's settings were written
    for exactly this context already (tenants.services.auth.resolve)."""
    token = _current.set(context)
    if not settings_written:
        await apply_database_settings(context)
    return token


def leave(token: Any) -> None:
    _current.reset(token)


@asynccontextmanager
async def _acting_as(context: TenantContext | SystemScope) -> AsyncIterator[None]:
    """Act as ``context`` inside the running transaction, or in one of its
    own when none runs (the RLS settings need one to live in). Inside a
    running transaction the outer context, and its database settings, come
    back on exit: a nested scope must not leave the request acting as
    someone else."""
    engine = get_engine()
    if engine.current_transaction.get() is None:
        async with open_transaction(engine, writes=True):
            token = await enter(context)
            try:
                yield
            finally:
                leave(token)
        return
    previous = _current.get()
    token = await enter(context)
    try:
        yield
    finally:
        leave(token)
        await apply_database_settings(previous)


@asynccontextmanager
async def tenant_scope(context: TenantContext) -> AsyncIterator[TenantContext]:
    """Act as ``context`` (CLI, jobs, tests, a sign-in recording its session)."""
    async with _acting_as(context):
        yield context


@asynccontextmanager
async def system_scope(name: str) -> AsyncIterator[SystemScope]:
    """The one explicit door across tenants, named for the audit trail."""
    scope = SystemScope(name)
    async with _acting_as(scope):
        yield scope
