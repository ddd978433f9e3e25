"""PostgreSQL row-level security: the second wall behind the scoping layer.

Policies read transaction-local settings that the request middleware sets
with ``set_config(..., true)``: ``app.tenant_id``, ``app.supplier_id`` (only
for supplier roles), ``app.user_id`` and ``app.system`` (a named system scope
for work that spans tenants). Unset settings make every policy FALSE, so a
connection without context sees nothing. Migrations call these helpers
through ``MigrationManager.add_raw``; they do nothing on SQLite.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from piccolo.engine.postgres import PostgresEngine

# The column is compared as a uuid with the setting cast to one (NULL, so
# FALSE, when unset), never as text: the planner then estimates the check
# from the column's statistics. Compared as text it guesses a tiny share of
# rows, and for a tenant with many orders it sorts all of them for one page
# rather than walk an index in the page's order (tests/integration/orders/
# test_board_plans.py). The functions are inlined into each policy.
FUNCTIONS = """
CREATE OR REPLACE FUNCTION portal_tenant_ok(t uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.system', true), '') = 'on'
      OR t = nullif(current_setting('app.tenant_id', true), '')::uuid
$$;
CREATE OR REPLACE FUNCTION portal_supplier_ok(s uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.system', true), '') = 'on'
      OR coalesce(current_setting('app.supplier_id', true), '') = ''
      OR s = nullif(current_setting('app.supplier_id', true), '')::uuid
$$;
"""


# True for a supplier user's transaction: the rules that hide what is not
# shared yet (a draft order and what hangs off it) apply to it alone.
SUPPLIER_FUNCTIONS = """
CREATE OR REPLACE FUNCTION portal_as_supplier() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.system', true), '') <> 'on'
     AND coalesce(current_setting('app.supplier_id', true), '') <> ''
$$;
"""


def parent_visible(parent: str, key: str) -> str:
    """True while the row of ``parent`` whose id is ``key`` (an expression
    of the outer row) is visible to the current user: a correlated lookup
    through the parent's primary key, limited by the parent's own policy.

    ``OFFSET 0`` keeps it a lookup: without it PostgreSQL may plan the
    EXISTS as a hashed SubPlan when it expects many calls, and it expects
    them from the scan under a LIMIT (a list's first page), so the hash is
    built from every parent row the user sees (every order, for one page of
    documents). A query that reads many rows pays a few index probes per
    row instead, in proportion to what it reads."""
    # Names come from migrations, never from input.
    return f'EXISTS (SELECT 1 FROM "{parent}" parent_row WHERE parent_row.id = {key} OFFSET 0)'  # noqa: S608


def policy_sql(
    table: str,
    *,
    supplier_column: str | None = None,
    extra: str | None = None,
    visible: str | None = None,
    parents: dict[str, str] | None = None,
) -> str:
    """ENABLE and FORCE RLS on ``table`` with one policy: rows of the current
    tenant, and for supplier users only rows of their supplier.

    For supplier users a row must also be shared: ``visible`` is the row's
    own condition (an order: not a draft) and ``parents`` maps foreign key
    columns to parent tables whose row must be visible to the same user. The
    parent is read through a subquery, which the parent's own policy limits,
    so the rule follows the chain (photo -> report -> order) by itself; a
    null foreign key names no parent. ``SUPPLIER_FUNCTIONS`` must exist.

    The subquery is a correlated ``EXISTS`` on the parent's key: one index
    lookup per row read. Written ``col IN (SELECT id FROM parent)`` it was
    planned as a hashed SubPlan that read every parent row the user can see
    on every statement (a supplier opening one photo read all of its
    reports and orders): tests/integration/orders/test_policy_plans.py."""
    condition = "portal_tenant_ok(tenant)"
    if supplier_column:
        condition += f' AND portal_supplier_ok("{supplier_column}")'
    shared = [visible] if visible else []
    for column, parent in (parents or {}).items():
        # Names come from migrations, never from input.
        check = parent_visible(parent, f'"{table}"."{column}"')
        shared.append(f'("{column}" IS NULL OR {check})')
    if shared:
        condition += f" AND (NOT portal_as_supplier() OR ({' AND '.join(shared)}))"
    if extra:
        condition = f"({condition}) OR ({extra})"
    return f"""
ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON "{table}";
CREATE POLICY tenant_isolation ON "{table}" USING ({condition}) WITH CHECK ({condition});
"""


async def run_on_postgres(engine: Any, sql: str) -> None:
    if isinstance(engine, PostgresEngine):
        await run_sql(engine, sql)


def engine_kind(engine: Any) -> str:
    """``"postgresql"`` or ``"sqlite"``: the key of per-database statements."""
    return "postgresql" if isinstance(engine, PostgresEngine) else "sqlite"


async def run_each(engine: Any, statements: Sequence[str]) -> None:
    """Run each statement as it is, one at a time, inside the migration's
    transaction: a trigger body holds semicolons of its own, which
    ``run_sql`` would split on SQLite."""
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("run_each runs inside a migration transaction")
    for statement in statements:
        await transaction.connection.execute(statement)


async def run_sql(engine: Any, sql: str) -> None:
    """Run one or more statements inside the migration's transaction.

    asyncpg takes several statements at once only through ``execute``
    without arguments; sqlite3 takes them through ``executescript``, which
    would commit, so SQLite gets them one by one."""
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("run_sql runs inside a migration transaction")
    if not sql.strip():
        return
    if isinstance(engine, PostgresEngine):
        await transaction.connection.execute(sql)
        return
    for statement in filter(None, (part.strip() for part in sql.split(";"))):
        await transaction.connection.execute(statement)


def indexes_and_policies(
    app_name: str, migration_id: str, description: str, indexes: list[str], policies: str
) -> Callable[[], Awaitable[Any]]:
    """The ``forwards`` of a migration that adds a domain's indexes (both
    databases: each starts with the tenant) and its row-level security
    policies (PostgreSQL only)."""

    async def forwards() -> Any:
        from piccolo.apps.migrations.auto.migration_manager import MigrationManager

        from portal.db import get_engine

        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description)

        async def run() -> None:
            engine = get_engine()
            await run_sql(engine, ";".join(indexes))
            await run_on_postgres(engine, policies)

        manager.add_raw(run)
        return manager

    return forwards


def rows_and_indexes(app_name: str, migration_id: str, description: str, statements: list[str]) -> Callable[[], Awaitable[Any]]:
    """The ``forwards`` of a migration that changes rows of every tenant and
    then indexes them (both databases). The owner is subject to row-level
    security too (FORCE): a named system scope for this one transaction
    lets the statements see every tenant's rows."""

    async def forwards() -> Any:
        from piccolo.apps.migrations.auto.migration_manager import MigrationManager

        from portal.db import get_engine

        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description)

        async def run() -> None:
            engine = get_engine()
            await run_on_postgres(engine, "SELECT set_config('app.system', 'on', true)")
            await run_sql(engine, ";".join(statements))
            await run_on_postgres(engine, "SELECT set_config('app.system', '', true)")

        manager.add_raw(run)
        return manager

    return forwards


def keep_one_per(table: str, key: str, newest: str) -> str:
    """SQL (both databases) deleting all but one row of ``table`` per
    ``key`` columns: the one greatest by ``newest`` and then by id."""
    same = " AND ".join(f"later.{column} = {table}.{column}" for column in key.split(", "))
    return (
        f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {table} later WHERE {same} AND "  # noqa: S608 (names from migrations)
        f"(later.{newest} > {table}.{newest} OR (later.{newest} = {table}.{newest} AND later.id > {table}.id)))"
    )
