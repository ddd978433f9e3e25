import os

from piccolo.conf.apps import AppConfig

from portal.kpi.tables import TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="kpi",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=[
        "tenants.piccolo_app",
        "portal.orders.piccolo_app",
        "portal.deliveries.piccolo_app",
        "portal.quality.piccolo_app",
    ],
    commands=[],
)
