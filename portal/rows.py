"""New rows inserted by a statement whose text is built once per table.

Piccolo builds an INSERT anew for every ``row.save()``: quoting each
column, nesting a query string per value and compiling the lot cost more
CPU than the database spent running it (docs/performance.md, "An audited
change's cost"). ``insert_row`` keeps the text per table (and conflict
target) and only converts the values, as Piccolo does, after the same
check of what fits each column (``portal.lengths``) that every Piccolo
INSERT runs: a value too long still answers 400 naming its field.
"""

from __future__ import annotations

from collections.abc import Sequence

from piccolo.columns import Column, Serial
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.sql_values import convert_to_sql_value

from portal.db import get_engine
from portal.lengths import refuse_unfit
from tenants.prepared import Compiled

_STATEMENTS: dict[tuple[type[Table], tuple[str, ...], str], tuple[str, tuple[Column, ...]]] = {}


def _quoted(name: str) -> str:
    return f'"{name}"'


def _statement(table: type[Table], unless: Sequence[Column], engine_type: str) -> tuple[str, tuple[Column, ...]]:
    """The INSERT of ``table`` compiled for ``engine_type`` (its
    placeholders in column order), and its columns."""
    key = (table, tuple(column._meta.db_column_name for column in unless), engine_type)
    built = _STATEMENTS.get(key)
    if built is None:
        primary_key = table._meta.primary_key
        if isinstance(primary_key, Serial):
            raise TypeError(f"{table._meta.tablename}: insert_row needs a primary key the row carries, not a serial")
        columns = tuple(table._meta.columns)
        names = ", ".join(_quoted(column._meta.db_column_name) for column in columns)
        values = ", ".join("{}" for _ in columns)
        conflict = f" ON CONFLICT ({', '.join(map(_quoted, key[1]))}) DO NOTHING" if unless else ""
        returning = _quoted(primary_key._meta.db_column_name)
        template = f"INSERT INTO {table._meta.get_formatted_tablename()} ({names}) VALUES ({values}){conflict} RETURNING {returning}"  # noqa: S608
        sql, _ = QueryString(template, *(None for _ in columns)).compile_string(engine_type)
        built = _STATEMENTS[key] = (sql, columns)
    return built


async def insert_row(row: Table, *, unless: Sequence[Column] = ()) -> bool:
    """Insert ``row`` (a new row: ``row.save()``), or, given ``unless``, do
    nothing when a row with the same values in those columns exists (a
    unique constraint: ``ON CONFLICT (...) DO NOTHING``). Returns whether
    the row was inserted. Runs in the current transaction like any query."""
    engine = get_engine()
    sql, columns = _statement(type(row), unless, engine.engine_type)
    pairs = [(column, row[column._meta.name]) for column in columns]
    refuse_unfit(pairs)
    inserted = await engine.run_querystring(Compiled(sql, [convert_to_sql_value(value=value, column=column) for column, value in pairs]))
    if inserted:
        row._exists_in_db = True
    return bool(inserted)
