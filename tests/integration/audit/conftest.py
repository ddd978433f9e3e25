"""Tenants to record events in, and a way to tamper with the stored trail
from outside the app, the way someone with database access would."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from uuid import uuid4

import pytest

from portal.settings import get_settings
from tenants.context import TenantContext, system_scope
from tenants.roles import Role
from tenants.tables import Tenant, User
from tests.support.postgres import PostgresCluster

Tamper = Callable[..., None]


async def new_tenant(role: Role = Role.PLANNER) -> TenantContext:
    """A fresh tenant and a user acting in it: each test gets a chain of its
    own, so tampering in one never shows up in another's results."""
    slug = f"audit-{uuid4().hex[:12]}"
    async with system_scope("test"):
        tenant = Tenant(slug=slug, name=f"Tenant {slug}")
        await tenant.save()
        user = User(email=f"planner@{slug}.example.com", name="李计划")
        await user.save()
    return TenantContext(
        tenant_id=tenant.id,
        tenant_slug=slug,
        tenant_name=tenant.name,
        time_zone="Asia/Shanghai",
        currency="CNY",
        role=role,
        user_id=user.id,
        user_name=user.name,
        address="10.0.0.7",
    )


@pytest.fixture
def tamper(database_kind: str, request: pytest.FixtureRequest) -> Tamper:
    """``tamper(sql, **params)`` runs SQL on the database directly, past the
    app role and RLS: on SQLite through the file, on PostgreSQL as the
    superuser owner. ``:name`` in ``sql`` stands for ``params["name"]``;
    statements are separated by ";"."""
    if database_kind == "postgresql":
        return owner_sql(request.getfixturevalue("postgres"))
    return sqlite_sql(get_settings().sqlite_path)


def owner_sql(cluster: PostgresCluster, database: str | None = None) -> Tamper:
    def on_postgres(sql: str, **params: object) -> None:
        # psql -c takes no bind parameters: inline them as quoted literals.
        def literal(match: re.Match[str]) -> str:
            return "'" + str(params[match[1]]).replace("'", "''") + "'"

        cluster.psql(re.sub(r":(\w+)", literal, sql), database=database)

    return on_postgres


def sqlite_sql(path: Path) -> Tamper:
    def on_sqlite(sql: str, **params: object) -> None:
        values = {name: value if isinstance(value, int) else str(value) for name, value in params.items()}
        with closing(sqlite3.connect(path, timeout=30)) as connection, connection:
            for statement in filter(None, (part.strip() for part in sql.split(";"))):
                connection.execute(statement, {name: value for name, value in values.items() if f":{name}" in statement})

    return on_sqlite
