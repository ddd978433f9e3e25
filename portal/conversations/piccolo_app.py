import os

from piccolo.conf.apps import AppConfig

from portal.conversations.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="conversations",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=[
        "tenants.piccolo_app",
        "portal.documents.piccolo_app",
        "portal.orders.piccolo_app",
        "portal.materials.piccolo_app",
        "portal.deliveries.piccolo_app",
        "portal.quality.piccolo_app",
        "portal.handover.piccolo_app",
        # The documents' record policy reads these apps' tables too.
        "portal.items.piccolo_app",
        "portal.progress.piccolo_app",
        "portal.reconciliation.piccolo_app",
    ],
    commands=[],
)
