"""Quantities, prices and rates are exact Decimals on both databases: 18
significant digits go in and come back unchanged (SQLite used to keep them
through a float, about 15 digits), and databases made before keep their
data when they are migrated."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from piccolo.columns import Numeric

from portal.decimals import SQLITE_TYPE, ExactNumeric
from tests.integration.orders.conftest import OrderWorld, draft

QUANTITY = "123456789012.345678"  # 18 significant digits, the column's (18, 6)
PRICE = Decimal("12345678901234.5678")  # 18 significant digits, the column's (18, 4)


def test_an_eighteen_digit_quantity_round_trips_through_the_api(client: Any, shop: OrderWorld) -> None:
    order = draft(client, shop, quantity=QUANTITY, price="1.00")
    assert Decimal(order["lines"][0]["quantity"]) == Decimal(QUANTITY)
    fetched = client.get(f"/api/v1/orders/{order['id']}", headers=shop.as_("planner"))
    assert fetched.status_code == 200
    line = fetched.json()["lines"][0]
    assert Decimal(line["quantity"]) == Decimal(QUANTITY)
    # Sums and comparisons of the service see every digit.
    assert Decimal(line["open_quantity"]) == Decimal(QUANTITY)
    assert Decimal(line["delivered_quantity"]) == 0


async def _store_and_read(slug: str, line_id: UUID, price: Decimal, quantity: Decimal) -> list[tuple[Decimal, Decimal]]:
    from portal.orders.tables import OrderLine
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.scoping import scoped
    from tenants.services.tenants import tenant_by_slug

    async with system_scope("test-factory"):
        tenant = await tenant_by_slug(slug)
    async with tenant_scope(operator_context(tenant, "test")):
        await scoped(OrderLine).update({OrderLine.unit_price: price, OrderLine.quantity: quantity}).where(OrderLine.id == line_id)
        selected = await scoped(OrderLine).select(OrderLine.unit_price, OrderLine.quantity).where(OrderLine.id == line_id).first()
        loaded = await scoped(OrderLine).get(line_id)
    return [(selected["unit_price"], selected["quantity"]), (loaded.unit_price, loaded.quantity)]


def test_an_eighteen_digit_price_and_quantity_are_stored_exactly(client: Any, run: Any, shop: OrderWorld) -> None:
    order = draft(client, shop)
    line_id = UUID(order["lines"][0]["id"])
    for price, quantity in run(_store_and_read, shop.world.slug, line_id, PRICE, Decimal(QUANTITY)):
        assert isinstance(price, Decimal)
        assert isinstance(quantity, Decimal)
        assert price == PRICE
        assert quantity == Decimal(QUANTITY)


def test_every_decimal_column_is_exact() -> None:
    from portal.piccolo_conf import APP_REGISTRY

    plain = [
        f"{table.__name__}.{column._meta.name}"
        for app in APP_REGISTRY.app_configs.values()
        for table in app.table_classes
        for column in table._meta.columns
        if isinstance(column, Numeric) and not isinstance(column, ExactNumeric)
    ]
    assert plain == []


async def _declared_types(table: str) -> dict[str, str]:
    from piccolo.engine.sqlite import SQLiteEngine

    from portal.db import get_engine

    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        rows = await engine._run_in_new_connection(f'PRAGMA table_info("{table}")')
        return {row["name"]: row["type"] for row in rows}
    rows = await engine._run_in_new_connection(
        "SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_name = $1", [table]
    )
    return {row["name"]: row["type"] for row in rows}


def test_the_migrated_database_declares_exact_columns(run: Any, database_kind: str) -> None:
    # The test database was created by every migration in turn: the first
    # ones made NUMERIC columns, the exact_decimals ones converted them.
    declared = run(_declared_types, "order_line")
    expected = {"sqlite": f"{SQLITE_TYPE}(18, 4)", "postgresql": "numeric"}[database_kind]
    assert declared["unit_price"].lower() == expected.lower()


async def _migrate_old_file(path: str) -> tuple[list[tuple[Any, ...]], list[str], Decimal]:
    import sqlite3

    from piccolo.engine.sqlite import SQLiteEngine

    from portal.decimals import store_sqlite_decimals_as_text

    with sqlite3.connect(path) as connection:
        connection.execute(
            'CREATE TABLE "line" ("id" INTEGER PRIMARY KEY, "qty" NUMERIC(18, 6) NOT NULL DEFAULT 0, "price" NUMERIC(18, 4))'
        )
        connection.execute('INSERT INTO "line" VALUES (1, 1.5, 12.25), (2, 100, NULL), (3, 0.1, 7)')
    engine = SQLiteEngine(path=path)
    async with engine.transaction():
        await store_sqlite_decimals_as_text(engine, {"line": ("qty", "price")})
    # Running it again changes nothing.
    async with engine.transaction():
        await store_sqlite_decimals_as_text(engine, {"line": ("qty", "price")})
    await engine._run_in_new_connection('INSERT INTO "line" ("id", "qty", "price") VALUES (4, ?, ?)', [Decimal(QUANTITY), PRICE])
    rows = await engine._run_in_new_connection('SELECT "id", "qty", "price" FROM "line" ORDER BY "id"')
    types = await engine._run_in_new_connection('PRAGMA table_info("line")')
    return [tuple(row.values()) for row in rows], [row["type"] for row in types], rows[-1]["price"]


def test_old_sqlite_columns_migrate_with_their_data(run: Any, tmp_path: Path) -> None:
    rows, types, price = run(_migrate_old_file, str(tmp_path / "old.db"))
    assert types == ["INTEGER", f"{SQLITE_TYPE}(18, 6)", f"{SQLITE_TYPE}(18, 4)"]
    assert rows == [
        (1, Decimal("1.5"), Decimal("12.25")),
        (2, Decimal("100"), None),
        (3, Decimal("0.1"), Decimal("7")),
        (4, Decimal(QUANTITY), PRICE),
    ]
    assert price == PRICE
