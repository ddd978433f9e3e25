"""The statements a piece of the app runs, and their PostgreSQL plans as
the app role sees them (the plan tests of tests/integration/orders)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def recorded_statements() -> Iterator[list[tuple[str, list[Any]]]]:
    """Every statement the engine runs inside the block, compiled: (sql, args)."""
    from portal.db import get_engine

    engine_class: Any = type(get_engine())
    original = engine_class.run_querystring
    statements: list[tuple[str, list[Any]]] = []

    async def recording(self: Any, querystring: Any, in_pool: bool = True) -> Any:
        sql, args = querystring.compile_string(engine_type=self.engine_type)
        statements.append((sql, list(args)))
        return await original(self, querystring, in_pool=in_pool)

    engine_class.run_querystring = recording
    try:
        yield statements
    finally:
        engine_class.run_querystring = original


async def explain_selects(context: Any, statements: list[tuple[str, list[Any]]], options: str) -> list[tuple[str, dict[str, Any]]]:
    """Each SELECT of ``statements`` with its ``EXPLAIN (options, FORMAT
    JSON)`` document, run inside ``context``'s row-level security settings."""
    from portal.db import get_engine
    from tenants.context import tenant_scope

    plans = []
    async with tenant_scope(context):
        connection: Any = get_engine().current_transaction.get().connection  # type: ignore[attr-defined]
        for sql, args in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                (row,) = await connection.fetch(f"EXPLAIN ({options}, FORMAT JSON) " + sql, *args)
                plans.append((sql, json.loads(row[0])[0]))
    return plans
