"""Every route handler of the app, one line per domain, for the factory and
for the isolation test matrix (which walks the app's route table)."""

from __future__ import annotations

from typing import Any

from portal import health, pages
from portal.audit.controllers import AuditApi, AuditPages
from portal.items.controllers import ItemApi
from portal.items.pages import ItemPages
from portal.orders.api import OrderApi
from portal.orders.pages import InboxPages, OrderPages
from tenants.routes import tenant_routes


def domain_routes() -> list[Any]:
    return [
        health.health,
        pages.show_home,
        pages.switch_locale,
        *tenant_routes(),
        AuditPages,
        AuditApi,
        ItemApi,
        ItemPages,
        OrderApi,
        OrderPages,
        InboxPages,
    ]
