"""Hot queries built once: the scoping layer's conditions and Piccolo's
query building cost more CPU than the database's answer to a page of the
board (docs/performance.md), so a hot select is built and compiled once
per shape and scope, then run with new values.

``await prepared(shape, build, **values)`` calls ``build(slots)`` the first
time for this ``shape`` in this scope, where ``slots[name]`` stands for
``values[name]``; ``build`` returns the Piccolo select exactly as the
service would write it, through ``scoped()``. The compiled SQL is kept
with, for each of its arguments, either the constant it had or the name of
the value to put there; later calls put the new values in and run the same
statement, through the same engine and the same result processing as the
query itself (the request's transaction, RLS settings included).

Safety: the scope is part of the key. The scoping layer's conditions are
built from the context's tenant, supplier and role, so a statement built
for one is never run for another: it carries the tenant and supplier ids
it was built with, as the live query would, and the row-level security
policies check the transaction's settings as always. Everything else that
varies between calls must be a value (or part of ``shape``): a slot that
does not reach the compiled arguments, or a slot object left in them,
raises when the query is first built.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from piccolo.querystring import QueryString

from portal.db import get_engine
from tenants.context import SystemScope, current_or_system

# Shapes x scopes in use; an evicted one is built again on its next call.
CACHE_SIZE = 2048
# A list of ids (``IN (...)``) goes in padded to one of these lengths with
# its first id again: a few statements per scope, not one per page length.
ID_LIST_SIZES = (8, 16, 32, 64)


class Slot:
    """Stands for a value while a query is built (identity, not value)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name})"


class Compiled(QueryString):
    """A statement already compiled: the engine runs it as it would any
    Piccolo query (transaction, pool, query logging)."""

    def __init__(self, sql: str, args: list[Any]) -> None:
        super().__init__("")
        self._compiled = (sql, args)

    def compile_string(self, engine_type: str = "postgres") -> tuple[str, list[Any]]:
        return self._compiled


class _Statement:
    __slots__ = ("args", "query", "slots", "sql")

    def __init__(self, query: Any, sql: str, args: list[Any], slots: dict[int, str]) -> None:
        self.query = query
        self.sql = sql
        self.args = args
        self.slots = slots

    def bind(self, values: Mapping[str, Any]) -> Compiled:
        args = list(self.args)
        for position, name in self.slots.items():
            args[position] = values[name]
        return Compiled(self.sql, args)


_statements: OrderedDict[Hashable, _Statement] = OrderedDict()


def _scope_key() -> Hashable:
    context = current_or_system()
    if isinstance(context, SystemScope):
        return ("system",)
    return (context.tenant_id, context.role, context.supplier_id)


def _build(build: Callable[[Mapping[str, Slot]], Any], names: tuple[str, ...], engine_type: str) -> _Statement:
    slots = {name: Slot(name) for name in names}
    query = build(slots)
    querystrings = query.querystrings
    if len(querystrings) != 1:
        raise TypeError("a prepared query compiles to one statement")
    sql, args = querystrings[0].compile_string(engine_type=engine_type)
    positions: dict[int, str] = {}
    for position, arg in enumerate(args):
        if isinstance(arg, Slot):
            if slots.get(arg.name) is not arg:
                raise TypeError(f"a slot of another query in the arguments: {arg!r}")
            positions[position] = arg.name
    missing = set(names) - set(positions.values())
    if missing:
        raise TypeError(f"values not in the compiled query (converted while building?): {sorted(missing)}")
    return _Statement(query, sql, list(args), positions)


async def prepared(shape: Hashable, build: Callable[[Mapping[str, Slot]], Any], **values: Any) -> Any:
    """The rows of the select ``build`` makes, with ``values`` in its slots."""
    engine = get_engine()
    names = tuple(sorted(values))
    key = (shape, names, engine.engine_type, _scope_key())
    statement = _statements.get(key)
    if statement is None:
        statement = _build(build, names, engine.engine_type)
        _statements[key] = statement
        if len(_statements) > CACHE_SIZE:
            _statements.popitem(last=False)
    else:
        _statements.move_to_end(key)
    rows = await engine.run_querystring(statement.bind(values))
    # Piccolo's own result processing (types, nested names) for this query.
    return await statement.query._process_results(rows)


def id_values(name: str, ids: Sequence[Any]) -> dict[str, Any]:
    """``ids`` (one to ``ID_LIST_SIZES[-1]``) as the values ``name_0``,
    ``name_1``, ... padded to one of ``ID_LIST_SIZES``: the statement's
    shape names their count, ``id_slots`` puts their slots in it."""
    size = next((size for size in ID_LIST_SIZES if size >= len(ids)), None)
    if size is None or not ids:
        raise ValueError(f"{len(ids)} ids: a list goes in with 1 to {ID_LIST_SIZES[-1]}")
    return {f"{name}_{index}": ids[index] if index < len(ids) else ids[0] for index in range(size)}


def id_slots(slot: Mapping[str, Slot], values: Mapping[str, Any]) -> list[Slot]:
    """The slots of ``values`` (from ``id_values``), for ``is_in``."""
    return [slot[name] for name in values]
