"""Piccolo's configuration: the engine comes from the shared settings."""

from piccolo.conf.apps import AppRegistry

from portal.db import get_engine

DB = get_engine()

APP_REGISTRY = AppRegistry(
    apps=[
        "tenants.piccolo_app",
        "portal.audit.piccolo_app",
        "portal.documents.piccolo_app",
        "portal.items.piccolo_app",
        "portal.orders.piccolo_app",
        "portal.materials.piccolo_app",
        "portal.deliveries.piccolo_app",
        "portal.progress.piccolo_app",
        "portal.quality.piccolo_app",
        "portal.limits.piccolo_app",
        "portal.reconciliation.piccolo_app",
        "portal.jobs.piccolo_app",
        "portal.notifications.piccolo_app",
        "portal.sla.piccolo_app",
        "portal.conversations.piccolo_app",
        "portal.configuration.piccolo_app",
        "portal.handover.piccolo_app",
        "portal.approvals.piccolo_app",
        "portal.kpi.piccolo_app",
    ]
)
