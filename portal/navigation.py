"""The app's navigation: one list of places, filtered by what the signed-in
person may do. The side bar (desktop) shows them all; the phone's bottom bar
keeps the first ones and puts the rest under "Menu", so that no item is ever
pushed off a 360 px screen (tests/tenancy/test_navigation.py and
tests/browser/test_navigation.py hold both to it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal.i18n import N_, gettext
from tenants.context import TenantContext

# Bottom bar slots on a phone: four places and "Menu" fit 360 px in both
# languages with 48 px targets.
PHONE_SLOTS = 5

ICONS = {
    "home": "M3 11l9-8 9 8v10h-6v-6H9v6H3z",
    "inbox": "M3 4h18v16H3zm0 9h5l1 3h6l1-3h5",
    "progress": "M4 20V10h4v10zm6 0V4h4v16zm6 0v-7h4v7z",
    "orders": "M6 2h9l5 5v15H6zm3 8h8M9 14h8M9 18h5",
    "deliveries": "M1 5h13v11H1zm13 4h4l4 4v3h-8zM5 20a2 2 0 1 0 0-4 2 2 0 0 0 0 4zm13 0a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
    "ncrs": "M12 2l10 18H2zm0 6v6m0 3v1",
    "materials": "M3 7l9-4 9 4v10l-9 4-9-4zm0 0l9 4 9-4M12 11v10",
    "documents": "M4 4h6l2 2h8v14H4zm0 4h16",
    "statements": "M5 2h14v20l-3-2-2 2-2-2-2 2-2-2-3 2zM8 7h8M8 11h8M8 15h5",
    "items": "M4 4h7v7H4zm9 0h7v7h-7zM4 13h7v7H4zm9 0h7v7h-7z",
    "handovers": "M4 7h13l-3-3m3 3-3 3M20 17H7l3-3m-3 3 3 3",
    "suppliers": "M2 20V9l6 3V9l6 3V4h8v16z",
    "users": "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm8 0a3 3 0 1 0 0-6M1 21v-2c0-3 4-5 8-5s8 2 8 5v2zm17-7c3 .5 5 2 5 4v3h-4",
    "settings": "M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6zM10 2h4l.5 3 2 1 2.5-1.5 3 3L20.5 10l1 2-1 2 1.5 2.5-3 3L16.5 18l-2 1-.5 3h-4l-.5-3"
    "-2-1L5 19.5l-3-3L3.5 14l-1-2 1-2L2 7.5l3-3L7.5 6l2-1z",
    "approvals": "M9 12l2 2 4-4M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20z",
    "team": "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm8 0a3 3 0 1 0 0-6M1 21v-2c0-3 4-5 8-5s8 2 8 5v2zm17-7c3 .5 5 2 5 4v3h-4",
    "audit": "M12 2l8 3v6c0 5-3.5 9-8 11-4.5-2-8-6-8-11V5zm-3 10l2 2 4-4",
    "account": "M12 12a5 5 0 1 0 0-10 5 5 0 0 0 0 10zm0 2c-5 0-9 2.5-9 5.5V22h18v-2.5C21 16.5 17 14 12 14z",
    "more": "M5 10a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm7 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm7 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4z",
}


@dataclass(frozen=True)
class Place:
    key: str
    href: str
    label: str
    shown: Callable[[TenantContext], bool]

    @property
    def icon(self) -> str:
        return ICONS[self.key]


def _can(action: str) -> Callable[[TenantContext], bool]:
    return lambda context: context.can(action)


def _buyer_can(action: str) -> Callable[[TenantContext], bool]:
    return lambda context: not context.is_supplier and context.can(action)


# In order of a working day; the phone bar keeps the first that apply.
PLACES = [
    Place("home", "/", N_("Home"), lambda context: True),
    # A supplier's home is its inbox; buyers keep theirs apart.
    Place("inbox", "/inbox", N_("Inbox"), _buyer_can("orders.view")),
    Place("progress", "/progress", N_("Report"), _can("progress.report")),
    Place("orders", "/orders", N_("Orders"), _can("orders.view")),
    Place("progress", "/progress", N_("Progress"), lambda context: not context.can("progress.report") and context.can("progress.view")),
    Place("documents", "/documents", N_("Documents"), _can("documents.view")),
    Place("deliveries", "/deliveries", N_("Deliveries"), _can("deliveries.view")),
    Place("materials", "/materials/dispatches", N_("Materials"), _can("materials.view")),
    Place("ncrs", "/ncrs", N_("NCRs"), _can("ncrs.view")),
    Place("statements", "/statements", N_("Statements"), _can("statements.view")),
    Place("handovers", "/handovers", N_("Handovers"), _can("handovers.view")),
    Place("approvals", "/approvals", N_("Approvals"), _can("approvals.view")),
    Place("items", "/items", N_("Items"), _can("items.view")),
    Place("suppliers", "/admin/suppliers", N_("Suppliers"), _can("suppliers.manage")),
    Place("users", "/admin/users", N_("People"), _can("users.manage")),
    Place("team", "/team", N_("Team"), _can("team.manage")),
    # Production stages, response times and reject reasons are reached from
    # the settings page.
    Place("settings", "/admin/settings", N_("Settings"), _can("settings.manage")),
    Place("audit", "/admin/audit", N_("Audit trail"), _can("audit.view")),
]


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str
    label: str
    icon: str


@dataclass(frozen=True)
class Navigation:
    """``bar``: always on the phone's bottom bar; ``more``: behind "Menu"
    there (the desktop side bar shows both)."""

    bar: list[NavItem]
    more: list[NavItem]


def navigation(context: TenantContext | None) -> Navigation:
    if context is None:
        return Navigation(
            bar=[NavItem("home", "/", gettext("Home"), ICONS["home"]), NavItem("account", "/login", gettext("Sign in"), ICONS["account"])],
            more=[],
        )
    items = [NavItem(place.key, place.href, gettext(place.label), place.icon) for place in PLACES if place.shown(context)]
    items.append(NavItem("account", "/account", gettext("Account"), ICONS["account"]))
    if len(items) <= PHONE_SLOTS:
        return Navigation(bar=items, more=[])
    return Navigation(bar=items[: PHONE_SLOTS - 1], more=items[PHONE_SLOTS - 1 :])
