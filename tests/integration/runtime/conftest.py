"""Fixtures for tests against a real server process."""

from __future__ import annotations

import pytest

from tests.support.postgres import PostgresCluster


@pytest.fixture(scope="module")
def pass_cluster(database_kind: str, request: pytest.FixtureRequest) -> PostgresCluster | None:
    """Where a live installation keeps its database in this pass: a new
    database in the shared test cluster on PostgreSQL, a file on SQLite."""
    if database_kind == "postgresql":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        return cluster
    return None
