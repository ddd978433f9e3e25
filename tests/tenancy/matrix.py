"""What the isolation matrix modules share: the two seeded worlds, and the
database snapshot that shows a refused request changed nothing.

Each matrix module seeds its own worlds (the fixture in conftest.py is
module-scoped), so the modules spread over xdist workers and a write one
module's allowed roles make never moves the ground under another's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar.routes import HTTPRoute

from tenants.roles import Role
from tests.support.factories import World, api_token, make_world, page_headers
from tests.tenancy.matrix_seed import Seeded, seed

IDENTITIES = [role.value for role in Role] + ["other_supplier_admin"]


@dataclass
class Worlds:
    home: World
    foreign: World
    home_seed: Seeded
    foreign_seed: Seeded
    tokens: dict[str, str]
    headers: dict[str, dict[str, str]]

    @property
    def own(self) -> dict[str, Any]:
        return self.home_seed.first

    @property
    def other_supplier(self) -> dict[str, Any]:
        return self.home_seed.second

    @property
    def foreign_ids(self) -> dict[str, Any]:
        return self.foreign_seed.first

    @property
    def hidden(self) -> dict[str, Any]:
        return self.home_seed.hidden

    @property
    def cancelled(self) -> dict[str, Any]:
        return self.home_seed.cancelled

    @property
    def tenant_ids(self) -> tuple[UUID, UUID]:
        return self.home.tenant_id, self.foreign.tenant_id


def make_worlds(client: Any, run: Any) -> Worlds:
    home, foreign = run(make_world, "home"), run(make_world, "foreign")
    home_seed, foreign_seed = run(seed, home), run(seed, foreign)
    tokens = {identity: api_token(client, home.accounts[identity], home.slug) for identity in IDENTITIES}
    headers = {identity: page_headers(client, token) for identity, token in tokens.items()}
    return Worlds(home, foreign, home_seed, foreign_seed, tokens, headers)


def route_handlers(app: Any) -> dict[tuple[str, str], Any]:
    """(method, path template) -> handler, for every HTTP route of the app."""
    found = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                    found[(method, route.path)] = handler
    return found


# ------------------------------------------------------------------ snapshots


def _rows_of(table: Any, tenants: str) -> str | None:
    """SQL for ``table``'s rows of the two worlds (``tenants``: their ids as
    an SQL list), one text per row, or None for a table no tenant's request
    can write (sign-in throttles, used one-time tokens, password resets:
    keyed by address or user, never by an id a request names)."""
    from tenants.tables import Tenant, User

    name = table._meta.tablename
    columns = [column._meta.db_column_name for column in table._meta.columns]
    text = " || '|' || ".join(f"coalesce(CAST(\"{column}\" AS TEXT), '~')" for column in columns)
    if "tenant" in columns:
        where = f'"tenant" IN ({tenants})'
    elif table is Tenant:
        where = f'"id" IN ({tenants})'
    elif table is User:
        where = f'"id" IN (SELECT "user" FROM "membership" WHERE "tenant" IN ({tenants}))'  # noqa: S608 (names from the table registry, ids we made)
    else:
        return None
    return f"SELECT '{name}' AS name, {text} AS row FROM \"{name}\" WHERE {where}"  # noqa: S608


async def snapshot(tenant_ids: tuple[UUID, UUID]) -> dict[str, str]:
    """A digest per table of every row of the two worlds, in one query over
    every table the apps register (so a new table is in without a word
    here): cheap enough to take around every refused write."""
    from piccolo.conf.apps import Finder

    from tenants.context import system_scope
    from tenants.tables import Tenant

    tenants = ", ".join(f"'{tenant_id}'" for tenant_id in tenant_ids)
    parts = [sql for table in Finder().get_table_classes() if (sql := _rows_of(table, tenants)) is not None]
    async with system_scope("isolation-matrix-snapshot"):
        rows = await Tenant.raw(" UNION ALL ".join(parts))
    texts: dict[str, list[str]] = {}
    for row in rows:
        texts.setdefault(row["name"], []).append(row["row"])
    return {name: hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest() for name, found in texts.items()}


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
