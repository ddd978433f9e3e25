"""The scoping layer: every query on tenant data goes through ``scoped()``.

``scoped(Order).select()`` is ``Order.select()`` already limited to the
current tenant and, for supplier roles, to the supplier's own rows. With no
context it raises; a supplier user on a table that is not shared with
suppliers gets nothing. Handlers never write ``.where(X.tenant == ...)``.

A table opts in to supplier visibility with a class attribute naming the
path to its supplier: ``supplier_scope = "supplier"`` or
``supplier_scope = "order.supplier"``. Without it, supplier roles see no rows.
Tenant-wide reference data every supplier of the tenant may read (its
production stages) says ``supplier_scope = SHARED_WITH_SUPPLIERS``. A table
whose rows a supplier may also read when they belong to someone else (an
item's drawings, read by the suppliers of the item's issued orders) adds a
classmethod ``supplier_share(supplier_id)`` returning an extra condition;
it widens reads only: updates and deletes keep to the supplier's own rows.

A supplier sees a row only while what it hangs off is shared with it: a
draft order is the buyer's own, and so are its lines, revisions, QC
requirements, deliveries and progress reports. A table says when a row of
its own is shared with a classmethod ``supplier_visible()`` (an order: once
issued) and names the foreign keys of its parents in ``supplier_parents``
(an order line: ``("order",)``); a supplier user then sees a row only when
each parent row is visible to it by these same rules, for reads and writes
alike. The row-level security policies repeat the rule
(``tenants.rls.policy_sql(parents=...)``).

A domain that takes rows away from a supplier (a completed handover ends
the old supplier's access to the work it handed over) registers a limit
with ``limit_for_suppliers(table, condition)``: ``condition(supplier_id)``
must hold for every row a supplier user reads or writes, its own included,
and rows hanging off such a row through ``supplier_parents`` follow. The
domain's migration repeats it as a restrictive row-level security policy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Generic, TypeVar
from uuid import UUID

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count
from piccolo.table import Table

from portal.db import get_engine
from portal.errors import NotFound
from tenants.context import SystemScope, TenantContext, current, current_or_system, tenant_scope
from tenants.prepared import ID_LIST_SIZES, id_slots, id_values, prepared
from tenants.roles import Role

T = TypeVar("T", bound=Table)

SHARED_WITH_SUPPLIERS = "*"

SupplierLimit = Callable[[UUID], Any]
_LIMITS: dict[type[Table], list[SupplierLimit]] = {}


def limit_for_suppliers(table: type[Table], condition: SupplierLimit) -> None:
    """Every row of ``table`` a supplier user reaches must also meet
    ``condition(supplier_id)``. Registering the same condition twice is a
    no-op (a module imported again)."""
    limits = _LIMITS.setdefault(table, [])
    if condition not in limits:
        limits.append(condition)


def _resolve(table: type[Table], path: str) -> Column:
    target: Any = table
    for part in path.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


def _table(found: type[Table] | str) -> type[Table]:
    if isinstance(found, str):
        module, name = found.split(":")
        table: type[Table] = getattr(importlib.import_module(module), name)
        return table
    return found


# Ids per ``IN (...)``: far below SQLite's limit of bound values (32766).
CHUNK = 1000


def _value(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def _chunks(keys: set[Any]) -> list[list[Any]]:
    ordered = sorted(keys, key=str)
    return [ordered[start : start + CHUNK] for start in range(0, len(ordered), CHUNK)]


async def _present(table: type[Table], keys: set[Any]) -> set[str]:
    """Those of ``keys`` (as text) that name a row of ``table`` the acting
    user reads (the table's own scoping, and on PostgreSQL its policies)."""
    primary = table._meta.primary_key
    if len(keys) <= ID_LIST_SIZES[-1]:
        # A page's worth, the usual case: built once per table and scope
        # (tenants.prepared): Piccolo building the record's chain of rules
        # cost more than the page's database work.
        values = id_values("id", sorted(keys, key=str))
        rows = await prepared(
            ("scoping.present", table, len(values)),
            lambda slot: Scoped(table).select(primary).where(primary.is_in(id_slots(slot, values))),
            **values,
        )
        return {str(row[primary._meta.name]) for row in rows}
    found: set[str] = set()
    for chunk in _chunks(keys):
        found |= {str(row[primary._meta.name]) for row in await Scoped(table).select(primary).where(primary.is_in(chunk))}
    return found


class Scoped(Generic[T]):
    def __init__(self, table: type[T]) -> None:
        if "tenant" not in {column._meta.name for column in table._meta.columns}:
            raise TypeError(f"{table.__name__} has no tenant column and cannot be scoped")
        self.table = table
        self.context = current_or_system()

    def conditions(self, *, reading: bool = True) -> list[Any]:
        context = self.context
        if isinstance(context, SystemScope):
            return []
        table: Any = self.table
        conditions: list[Any] = [table.tenant == context.tenant_id]
        # Rows about a kind of record the role may not view (a statement's
        # documents without ``statements.view``) are not its to read.
        actions = getattr(table, "record_actions", None)
        if actions is not None:
            denied = sorted(kind for kind, action in actions().items() if not context.can(action))
            if denied:
                conditions.append(getattr(table, table.supplier_record[0]).not_in(denied))
        if context.is_supplier:
            path = getattr(self.table, "supplier_scope", None)
            if path is None or context.supplier_id is None:
                conditions.append(WhereRaw("1 = 0"))
            elif path != SHARED_WITH_SUPPLIERS:
                own = _resolve(self.table, path) == context.supplier_id
                share = getattr(self.table, "supplier_share", None) if reading else None
                extra = share(context.supplier_id) if share is not None else None
                conditions.append(own if extra is None else own | extra)
                conditions += [limit(context.supplier_id) for limit in _LIMITS.get(self.table, ())]
                conditions += self._shared_with_supplier()
        return conditions

    def _shared_with_supplier(self) -> list[Any]:
        """The row is shared (``supplier_visible``) and so is each parent it
        names in ``supplier_parents``, by the parent's own rules."""
        table: Any = self.table
        conditions: list[Any] = []
        visible = getattr(table, "supplier_visible", None)
        if visible is not None:
            conditions.append(visible())
        for name in getattr(table, "supplier_parents", ()):
            column = getattr(table, name)
            parent = column._foreign_key_meta.resolved_references
            # The parent looked up by its key, a few index probes per row
            # read, as the row-level security policies do (tenants.rls.
            # parent_visible, OFFSET 0 there too): ``column IN (SELECT id
            # FROM parent ...)`` was read in full, every order of the
            # supplier for one message, and PostgreSQL would otherwise turn
            # the EXISTS into a join driven from all the parent rows.
            key = f'"{parent._meta.tablename}"."{parent._meta.primary_key._meta.db_column_name}"'
            own = f'"{table._meta.tablename}"."{column._meta.db_column_name}"'
            lookup = Scoped(parent).select(parent._meta.primary_key).where(WhereRaw(f"{key} = {own}"))
            fence = " OFFSET 0" if get_engine().engine_type == "postgres" else ""
            inside = WhereRaw("EXISTS ({}" + fence + ")", lookup.querystrings[0])
            conditions.append(column.is_null() | inside if column._meta.null else inside)
        return conditions

    def _limit(self, query: Any, *, reading: bool = True) -> Any:
        for condition in self.conditions(reading=reading):
            query = query.where(condition)
        return query

    def select(self, *columns: Any) -> Any:
        return self._limit(self.table.select(*columns))

    def objects(self, *prefetch: Any) -> Any:
        return self._limit(self.table.objects(*prefetch))

    def count(self) -> Any:
        return self._limit(self.table.count())

    def exists(self) -> Any:
        return self._limit(self.table.exists())

    def update(self, values: dict[Any, Any] | None = None, **kwargs: Any) -> Any:
        return self._limit(self.table.update(values, **kwargs), reading=False)

    def delete(self) -> Any:
        """For master data replaced as a whole (a bill of material); records
        users uploaded or confirmed are never deleted."""
        return self._limit(self.table.delete(), reading=False)

    async def get(self, pk: UUID | str, *, hold: bool = False) -> T:
        """The row with this id, or NotFound: a foreign id and a missing one
        look the same. ``hold``: for a decision that must see every one
        committed before it on the same record, the row is held until the
        transaction ends, so that of two at once the second waits and then
        reads what the first one wrote. PostgreSQL locks it (NO KEY UPDATE:
        rows referring to it are still written meanwhile); SQLite runs one
        writer at a time already (IMMEDIATE transactions,
        ``portal.db.open_transaction``)."""
        try:
            key = pk if isinstance(pk, UUID) else UUID(str(pk))
        except ValueError:
            raise NotFound() from None
        query = self.objects().where(self.table._meta.primary_key == key)
        if hold and get_engine().engine_type == "postgres":
            query = query.lock_rows("NO KEY UPDATE")
        row = await query.first()
        if row is None or not await self.record_read(row):
            raise NotFound()
        return row  # type: ignore[no-any-return]

    async def record_read(self, row: Any) -> bool:
        """For a supplier user, whether the record ``row`` names by kind and
        id (``supplier_record``) is one it reads, or for a row hanging off
        such a row (``supplier_parents``: a document's version), whether
        that parent passes; True for other rows and for buyers. The one-row
        case of ``readable``."""
        return bool(await self.readable([row]))

    async def readable(self, rows: list[Any]) -> list[Any]:
        """``rows`` (objects or dicts carrying the ``supplier_record``
        columns, or the ``supplier_parents`` keys) whose record this user
        reads, in their order. Asked after the rows' own rules, with one
        statement per kind of record (``id IN (...)``, through the record
        table's own scoping), whatever the number of rows: folded into the
        rows' query itself, the record's chain (a document's message, its
        thread, the thread's order, the order's handovers) nests deeper
        than SQLite's parser takes."""
        context = self.context
        if isinstance(context, SystemScope) or not context.is_supplier or context.supplier_id is None or not rows:
            return list(rows)
        names = getattr(self.table, "supplier_record", None)
        if names is None:
            return await self._parents_readable(rows)
        # kind -> the record ids to look up; per row, (kind, id) to check or
        # True / False when the row's own columns decide.
        wanted: dict[str, set[Any]] = {}
        verdicts: list[tuple[str, Any] | bool] = []
        tables = self.table.record_tables()  # type: ignore[attr-defined]
        for row in rows:
            kind, record_id = (_value(row, name) for name in names)
            # A row another rule shares with it (``supplier_share``: an item's
            # drawing, work handed over to it) stands on that rule.
            if not kind or _value(row, self.table.supplier_scope) != context.supplier_id:  # type: ignore[attr-defined]
                verdicts.append(True)
            elif tables.get(kind) is None or record_id is None:
                verdicts.append(False)
            else:
                wanted.setdefault(kind, set()).add(record_id)
                verdicts.append((kind, str(record_id)))
        seen = {(kind, found) for kind, ids in wanted.items() for found in await _present(_table(tables[kind]), ids)}
        return [row for row, verdict in zip(rows, verdicts, strict=True) if verdict is True or verdict in seen]

    async def count_readable(self, *where: Any) -> int:
        """How many rows meeting ``where`` this user reads, the record rule
        of ``readable`` included, in one statement plus one per kind of
        record the rows name, whatever their number: the rows are counted
        per record, and the records still read are selected through their
        own table's scoping among those the rows name (a subquery, which
        nests no deeper than the record's own rules)."""
        names = getattr(self.table, "supplier_record", None)
        if names is None:
            raise TypeError(f"{self.table.__name__} names no record (supplier_record)")
        context = self.context
        if isinstance(context, SystemScope) or not context.is_supplier or context.supplier_id is None:
            query = self.count()
            for condition in where:
                query = query.where(condition)
            return int(await query)
        kind_column, id_column = (getattr(self.table, name) for name in names)
        owner = getattr(self.table, self.table.supplier_scope)  # type: ignore[attr-defined]
        query = self.select(kind_column, id_column, owner, Count(alias="rows")).group_by(kind_column, id_column, owner)
        for condition in where:
            query = query.where(condition)
        total = 0
        wanted: dict[str, dict[str, int]] = {}
        tables = self.table.record_tables()  # type: ignore[attr-defined]
        for row in await query:
            kind, record_id = row[names[0]], row[names[1]]
            if not kind or row[owner._meta.name] != context.supplier_id:
                total += row["rows"]
            elif tables.get(kind) is not None and record_id is not None:
                wanted.setdefault(kind, {})[str(record_id)] = row["rows"]
        for kind, counts in wanted.items():
            named = self.select(id_column).where(kind_column == kind).where(owner == context.supplier_id)
            for condition in where:
                named = named.where(condition)
            record = _table(tables[kind])
            primary = record._meta.primary_key
            for row in await Scoped(record).select(primary).where(primary.is_in(named)):
                total += counts.get(str(row[primary._meta.name]), 0)
        return total

    async def _parents_readable(self, rows: list[Any]) -> list[Any]:
        """A row hanging off one that follows its record (a document's
        version) follows that record too: its parent must pass."""
        kept = list(rows)
        for name in getattr(self.table, "supplier_parents", ()):
            parent = getattr(self.table, name)._foreign_key_meta.resolved_references
            keys = {key for row in kept if (key := _value(row, name)) is not None}
            if getattr(parent, "supplier_record", None) is None or not keys:
                continue
            primary = parent._meta.primary_key
            columns = [primary, getattr(parent, parent.supplier_scope), *(getattr(parent, column) for column in parent.supplier_record)]
            found = []
            for chunk in _chunks(keys):
                found += await Scoped(parent).select(*columns).where(primary.is_in(chunk))
            passing = {str(row[primary._meta.name]) for row in await Scoped(parent).readable(found)}
            kept = [row for row in kept if _value(row, name) is None or str(_value(row, name)) in passing]
        return kept

    def new(self, **values: Any) -> T:
        """A row of the current tenant; a supplier user can only create rows
        of its own supplier."""
        context = self.context
        if isinstance(context, TenantContext):
            values["tenant"] = context.tenant_id
            path = getattr(self.table, "supplier_scope", None)
            if context.is_supplier and path == "supplier" and values.get("supplier") not in (None, context.supplier_id):
                raise NotFound()
        elif "tenant" not in values:
            raise TypeError("a system scope must name the tenant of a new row")
        return self.table(**values)


def scoped(table: type[T]) -> Scoped[T]:
    return Scoped(table)


async def supplier_reads(table: type[Table], row_id: UUID | str, supplier_id: UUID) -> bool:
    """Whether the users of ``supplier_id`` in the acting tenant read the row
    ``row_id`` of ``table``: the scoping layer's rules (and, on PostgreSQL,
    the row-level security policies) applied as one of them. For whatever
    reaches a supplier's users without them asking (a notification, a
    mention), so that it never names a record they cannot open."""
    return bool(await supplier_reads_rows(table, [row_id], supplier_id))


async def supplier_reads_rows(table: type[Table], row_ids: Sequence[UUID | str], supplier_id: UUID) -> set[str]:
    """Those of ``row_ids`` (as text) that the users of ``supplier_id`` read,
    as ``supplier_reads`` asks it of one, in a statement per thousand rows
    plus one per kind of record they name."""
    as_supplier = replace(current(), role=Role.SUPPLIER_OPERATOR, supplier_id=supplier_id, user_id=None, membership_id=None)
    primary = table._meta.primary_key
    async with tenant_scope(as_supplier):
        # The whole rule, the per-row part (a document follows its record) included.
        rows = scoped(table)
        found = []
        for chunk in _chunks(set(row_ids)):
            found += await rows.objects().where(primary.is_in(chunk))
        return {str(getattr(row, primary._meta.name)) for row in await rows.readable(found)}
