"""No table carries two indexes on the same columns: each costs every
insert its upkeep and answers nothing the other does not. Checked on the
database under test (SQLite by default, PostgreSQL with
``PORTAL_TEST_DATABASE=postgresql``), after every migration ran."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

Key = tuple[str, tuple[str, ...], bool, str]


async def _indexes() -> dict[str, list[Key]]:
    """Each index by name: its table, columns in order, uniqueness and
    partial predicate (two indexes differing in any of these are not the same)."""
    from portal.db import get_engine
    from tenants.tables import Tenant

    engine = get_engine()
    found: dict[str, list[Key]] = {}
    async with engine.transaction():
        if engine.engine_type == "postgres":
            rows = await Tenant.raw(
                """
                SELECT i.relname AS name, t.relname AS table_name, ix.indisunique AS is_unique,
                       COALESCE(pg_get_expr(ix.indpred, ix.indrelid), '') AS predicate,
                       COALESCE(pg_get_expr(ix.indexprs, ix.indrelid), '') AS expressions,
                       ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
                             JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns
                FROM pg_index ix
                JOIN pg_class i ON i.oid = ix.indexrelid
                JOIN pg_class t ON t.oid = ix.indrelid
                JOIN pg_namespace n ON n.oid = t.relnamespace
                WHERE n.nspname = current_schema()
                """
            )
            for row in rows:
                columns = (*row["columns"], row["expressions"]) if row["expressions"] else tuple(row["columns"])
                found[row["name"]] = [(row["table_name"], columns, row["is_unique"], row["predicate"])]
        else:
            tables = await Tenant.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            for table in tables:
                for index in await Tenant.raw(f"PRAGMA index_list('{table['name']}')"):
                    columns = tuple(row["name"] for row in await Tenant.raw(f"PRAGMA index_info('{index['name']}')"))
                    sql = await Tenant.raw("SELECT sql FROM sqlite_master WHERE name = {}", index["name"])
                    text = (sql[0]["sql"] or "") if sql else ""
                    predicate = text[text.upper().index(" WHERE ") + 7 :].strip() if " WHERE " in text.upper() else ""
                    found[index["name"]] = [(table["name"], columns, bool(index["unique"]), predicate)]
    return found


def test_no_table_has_two_indexes_on_the_same_columns(run: Any) -> None:
    by_key: dict[Key, list[str]] = defaultdict(list)
    for name, keys in run(_indexes).items():
        for key in keys:
            by_key[key].append(name)
    assert any(key[0] == "statement_line" for key in by_key)  # the catalog was read
    duplicates = {key: sorted(names) for key, names in by_key.items() if len(names) > 1}
    assert duplicates == {}


ROOT = Path(__file__).resolve().parents[2]
ID_LINE = re.compile(r'^ID = "([^"]+)"$', re.MULTILINE)
INDEX_STATEMENT = re.compile(r"(CREATE (UNIQUE )?INDEX|DROP INDEX)( IF (?:NOT )?EXISTS)? (\w+)", re.IGNORECASE)


def unique_indexes_asked_for() -> dict[str, str]:
    """Index name -> migration ID, for every index the migrations leave
    meant to be unique: created UNIQUE and not dropped or made plain by a
    later migration (in the order of their IDs, across apps)."""
    migrations = []
    for path in [*ROOT.glob("portal/*/piccolo_migrations/*.py"), *ROOT.glob("tenants/piccolo_migrations/*.py")]:
        text = path.read_text()
        if match := ID_LINE.search(text):
            migrations.append((match[1], text))
    wanted: dict[str, str] = {}
    for migration_id, text in sorted(migrations):
        for statement in INDEX_STATEMENT.finditer(text):
            name = statement[4]
            if statement[2]:
                wanted[name] = migration_id
            else:
                wanted.pop(name, None)
    return wanted


def test_every_unique_index_the_migrations_ask_for_exists_and_is_unique(run: Any) -> None:
    """``CREATE UNIQUE INDEX IF NOT EXISTS name`` does nothing when an index
    of that name is already there: Piccolo names a column's plain index
    ``<table>_<column>``, and three such unique indexes were never made,
    so nothing stopped two saves at once from storing a second row."""
    found = {name: keys[0] for name, keys in run(_indexes).items()}
    wanted = unique_indexes_asked_for()
    assert "item_tolerance_item" in wanted  # the migrations were read
    missing = {name: migration for name, migration in wanted.items() if name not in found or not found[name][2]}
    assert missing == {}
