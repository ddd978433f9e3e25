from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T21:31:19:839400"
VERSION = "1.38.0"
DESCRIPTION = "reject reason code on delivery lines"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="deliveries", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="DeliveryLine",
        tablename="delivery_line",
        column_name="reject_code",
        db_column_name="reject_code",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 40,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
