from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import UUID, ForeignKey, Integer, Serial, Varchar
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-06T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "order status counts per tenant, supplier and status"


class Tenant(Table, tablename="tenant", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True)


class Supplier(Table, tablename="supplier", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True)


def _params(**extra: object) -> dict[str, object]:
    return {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **extra,
    }


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="orders", description=DESCRIPTION)
    manager.add_table(class_name="OrderStatusCount", tablename="order_status_count", schema=None, columns=None)
    manager.add_column(
        table_class_name="OrderStatusCount",
        tablename="order_status_count",
        column_name="id",
        db_column_name="id",
        column_class_name="Serial",
        column_class=Serial,
        params=_params(primary_key=True),
        schema=None,
    )
    for name, references in (("tenant", Tenant), ("supplier", Supplier)):
        manager.add_column(
            table_class_name="OrderStatusCount",
            tablename="order_status_count",
            column_name=name,
            db_column_name=name,
            column_class_name="ForeignKey",
            column_class=ForeignKey,
            params=_params(
                default=None,
                references=references,
                on_delete=OnDelete.restrict,
                on_update=OnUpdate.cascade,
                target_column=None,
            ),
            schema=None,
        )
    manager.add_column(
        table_class_name="OrderStatusCount",
        tablename="order_status_count",
        column_name="status",
        db_column_name="status",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(default="", length=30),
        schema=None,
    )
    manager.add_column(
        table_class_name="OrderStatusCount",
        tablename="order_status_count",
        column_name="orders",
        db_column_name="orders",
        column_class_name="Integer",
        column_class=Integer,
        params=_params(default=0),
        schema=None,
    )
    return manager
