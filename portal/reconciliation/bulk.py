"""Large statements on the database: plans made for the supplier at hand,
and many rows of one table written in one statement.

A custom plan per query (``custom_plans``): the period's queries filter by
supplier, and suppliers differ by orders of magnitude. After five runs of a
prepared statement PostgreSQL may settle on a generic plan, made once from
the statistics of that moment; on a pooled connection the plan made while
the tables were small then served a 5,000-line supplier in 0.5-1 s instead
of 0.05-0.1 s (bench/statement.py). Planning each query again costs a
millisecond or two, a few times per computation.

Inserting many rows (``insert_rows``) without building a Piccolo object per
row: a statement of 5,000 lines spent most of its compute time in Piccolo's
per-row objects and query strings.

PostgreSQL gets one ``INSERT ... SELECT FROM unnest(...)`` with one array
per column (COPY would be faster still, but PostgreSQL refuses ``COPY
FROM`` into a table with row-level security); SQLite one prepared INSERT
run for every row (``executemany``), its values converted by the adapters
Piccolo and ``portal.decimals`` registered. Both run in the current
transaction, so row-level security and the tenant's settings apply as for
any other write. The caller names every column (defaults are not applied)
and fills ``tenant`` itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from piccolo.columns import UUID, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from portal.db import get_engine

# Piccolo column class -> the PostgreSQL array type of its values.
_ARRAY_TYPES: tuple[tuple[type, str], ...] = (
    (ForeignKey, "uuid[]"),
    (UUID, "uuid[]"),
    (Numeric, "numeric[]"),
    (Integer, "integer[]"),
    (Timestamptz, "timestamptz[]"),
    (Varchar, "text[]"),
    (Text, "text[]"),
)


@asynccontextmanager
async def custom_plans() -> AsyncIterator[None]:
    """Plan every query inside for its own parameters (PostgreSQL), then
    give the transaction back its previous setting."""
    engine = get_engine()
    transaction = engine.current_transaction.get()
    if not isinstance(engine, PostgresEngine) or transaction is None:
        yield
        return
    connection = transaction.connection
    before = await connection.fetchval("SELECT current_setting('plan_cache_mode')")
    await connection.execute("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
    try:
        yield
    finally:
        await connection.execute("SELECT set_config('plan_cache_mode', $1, true)", before)


def _array_type(column: Any) -> str:
    for kind, name in _ARRAY_TYPES:
        if isinstance(column, kind):
            return name
    raise TypeError(f"no bulk insert for column {column._meta.name} of type {type(column).__name__}")


async def insert_rows(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in the order of ``columns``) into ``table``."""
    if not rows:
        return
    engine = get_engine()
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("insert_rows runs inside the current transaction")
    # Names come from the table's own columns, never from input: an unknown
    # one raises here, before any SQL is built.
    found = [table._meta.get_column_by_name(column) for column in columns]
    name = table._meta.tablename
    names = ", ".join(f'"{column._meta.db_column_name}"' for column in found)
    if isinstance(engine, PostgresEngine):
        arrays = ", ".join(f"${index}::{_array_type(column)}" for index, column in enumerate(found, start=1))
        values = [[row[index] for row in rows] for index in range(len(columns))]
        await transaction.connection.execute(f'INSERT INTO "{name}" ({names}) SELECT * FROM unnest({arrays})', *values)  # noqa: S608
    else:
        marks = ", ".join("?" for _ in columns)
        await transaction.connection.executemany(f'INSERT INTO "{name}" ({names}) VALUES ({marks})', [tuple(row) for row in rows])  # noqa: S608
