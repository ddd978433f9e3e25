from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import UUID
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Handover(Table, tablename="handover", schema=None):
    id = UUID(
        default=UUID4(),
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


class Ncr(Table, tablename="ncr", schema=None):
    id = UUID(
        default=UUID4(),
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-12-06T05:12:51:728076"
VERSION = "1.38.0"
DESCRIPTION = "threads on NCRs and handovers"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="conversations", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Thread",
        tablename="conversation_thread",
        column_name="handover",
        db_column_name="handover",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Handover,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
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

    manager.add_column(
        table_class_name="Thread",
        tablename="conversation_thread",
        column_name="ncr",
        db_column_name="ncr",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": Ncr,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
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
