"""Exact decimal columns on both databases (money, quantities, rates).

PostgreSQL's NUMERIC is exact. SQLite has no decimal type: a column declared
NUMERIC turns what it is given into INTEGER or REAL, keeping about 15
significant digits, and Piccolo's SQLite engine sends every Decimal as a
float on the way in, so 123456789012.345678 came back as
123456789012.34568. ``ExactNumeric`` is Piccolo's ``Numeric`` everywhere
but SQLite, where its declared type is ``DECIMAL_TEXT(p, s)``: a name with
TEXT affinity, so SQLite stores the digits exactly as written, and a name
of our own, so the converter registered for it below turns them back into
a Decimal. Decimal parameters are sent as their text.

SQLite compares such columns as text: compare, sum and sort them in Python
(or in SQL on PostgreSQL only), never with ``>``/``<``/``SUM`` in a query
meant for both databases.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

# Piccolo registers its own adapters when this module loads; ours must come after.
import piccolo.engine.sqlite
from piccolo.columns import Numeric

SQLITE_TYPE = "DECIMAL_TEXT"


def _from_text(value: bytes) -> Decimal:
    return Decimal(value.decode())


def _to_text(value: Decimal) -> str:
    # Every digit, never through a float, and never in exponent form: str()
    # writes Decimal("1e2") as "1E+2", which would come back so from SQLite
    # (PostgreSQL's NUMERIC answers 100).
    return format(value, "f")


sqlite3.register_converter(SQLITE_TYPE, _from_text)
sqlite3.register_adapter(Decimal, _to_text)
piccolo.engine.sqlite.ADAPTERS[Decimal] = _to_text


class ExactNumeric(Numeric):
    """A Numeric that stays exact on SQLite too (see the module docstring)."""

    @property
    def column_type(self) -> str:
        if self._meta.engine_type == "sqlite":
            return f"{SQLITE_TYPE}({self.precision}, {self.scale})" if self.digits else SQLITE_TYPE
        return str(super().column_type)


async def store_sqlite_decimals_as_text(engine: Any, columns: dict[str, tuple[str, ...]]) -> None:
    """Migration step for databases created before ``ExactNumeric``: on
    SQLite, each named NUMERIC column becomes a DECIMAL_TEXT column holding
    the same values as text (those already rounded by the float path stay
    as stored; nothing more is lost). SQLite cannot change a column's type,
    so each is added anew, filled, and takes the old one's name and place
    in queries. Columns already converted are left alone. Runs inside the
    migration's transaction; PostgreSQL needs nothing."""
    if not isinstance(engine, piccolo.engine.sqlite.SQLiteEngine):
        return
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("store_sqlite_decimals_as_text runs inside a migration transaction")
    connection = transaction.connection
    for table, names in columns.items():
        cursor = await connection.execute(f'PRAGMA table_info("{table}")')
        info = {row["name"]: row for row in await cursor.fetchall()}
        for name in names:
            declared, not_null, default = info[name]["type"], info[name]["notnull"], info[name]["dflt_value"]
            if str(declared).upper().startswith(SQLITE_TYPE):
                continue
            digits = declared[declared.index("(") :] if "(" in declared else ""
            if default is None and not_null:
                default = "'0'"
            temporary = f"{name}__exact"
            definition = f'"{temporary}" {SQLITE_TYPE}{digits}'
            definition += " NOT NULL" if not_null else ""
            definition += f" DEFAULT {default}" if default is not None else ""
            for statement in (
                f'ALTER TABLE "{table}" ADD COLUMN {definition}',
                f'UPDATE "{table}" SET "{temporary}" = CAST("{name}" AS TEXT)',  # noqa: S608 - names come from migrations
                f'ALTER TABLE "{table}" DROP COLUMN "{name}"',
                f'ALTER TABLE "{table}" RENAME COLUMN "{temporary}" TO "{name}"',
            ):
                await connection.execute(statement)
