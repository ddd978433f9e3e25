"""Whole numbers in query strings stay within what the database holds: a
cursor of 2147483648 made asyncpg fail (500) on PostgreSQL where SQLite
simply found nothing. Every int query parameter of the app's route table
is bounded (``portal.pagination.SeqNumber``) or listed here with why its
size cannot reach the database."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.factories import World, api_token, bearer, make_world
from tests.tenancy.matrix import route_handlers

NOT_BOUNDED = {
    ("GET", "/orders/new/line", "index"): "numbers the new line's field names in the page; never reaches the database",
    ("GET", "/orders/import", "imported"): "a count shown after an import; never reaches the database",
    ("GET", "/orders/import", "rows"): "a count shown after an import; never reaches the database",
    ("GET", "/materials/dispatches/import", "imported"): "a count shown after an import; never reaches the database",
    ("GET", "/materials/dispatches/import", "rows"): "a count shown after an import; never reaches the database",
    ("GET", "/api/v1/dispatches", "limit"): "clamped to the page size before the query (materials.services._limit)",
    ("GET", "/api/v1/material-returns", "limit"): "clamped to the page size before the query (materials.services._limit)",
    ("GET", "/api/v1/material-scrap", "limit"): "clamped to the page size before the query (materials.services._limit)",
}


def _int_query_parameters(app: Any) -> list[tuple[str, str, str, int | None]]:
    """(method, path, name, upper bound) of every int query parameter."""
    found = []
    for (method, path), handler in route_handlers(app).items():
        for name, parameter in handler.parsed_fn_signature.parameters.items():
            if name not in path and "int" in str(parameter.annotation) and name not in {"data", "request"}:
                found.append((method, path, name, getattr(parameter.kwarg_definition, "le", None)))
    return found


def test_every_int_query_parameter_is_bounded_or_listed(app: Any) -> None:
    unbounded = {(method, path, name) for method, path, name, bound in _int_query_parameters(app) if bound is None or bound > 2**31 - 1}
    assert sorted(unbounded - set(NOT_BOUNDED)) == []
    assert sorted(set(NOT_BOUNDED) - unbounded) == [], "bounded now, or gone: drop it from NOT_BOUNDED"


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world, "qnum")


@pytest.mark.parametrize("cursor", ["2147483648", "-1", "9223372036854775808"])
def test_an_audit_cursor_out_of_range_is_refused_naming_it(client: Any, world: World, cursor: str) -> None:
    admin = {**bearer(api_token(client, world.accounts["admin"], world.slug)), "accept-language": "en"}
    refused = client.get("/api/v1/audit-events", params={"cursor": cursor}, headers=admin)
    assert refused.status_code == 400, refused.text
    assert "cursor" in refused.text
    assert client.get("/api/v1/audit-events", params={"cursor": "2147483647"}, headers=admin).status_code == 200
