"""The safety net behind the services' own race handling: a write the
database refuses because another request got there first (a unique index:
SQLSTATE 23505, SQLite's "UNIQUE constraint failed") or because two
transactions collided (a serialization failure, 40001, or a deadlock,
40P01) answers 409 ``conflict`` with a message in the request's language,
never a 500, and a warning names the route.

The errors are real: SQLite's and asyncpg's, from a real database, raised
in a handler of a small app that has the portal's own exception handlers.
tests/integration/test_concurrent_writes.py sends the app's own routes
twice at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar, post
from litestar.params import FromPath
from litestar.testing import TestClient
from structlog.testing import capture_logs

from portal.errors import EXCEPTION_HANDLERS

# Each statement fails as a request that lost a race would: a second copy
# of a unique key, and the errors PostgreSQL gives the transaction it
# rolls back when two cannot both go on.
STATEMENTS = {
    "unique": "CREATE TEMP TABLE twice (v int UNIQUE); INSERT INTO twice VALUES (1); INSERT INTO twice VALUES (1)",
    "serialization": "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; END $$",
    "deadlock": "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$",
}
MESSAGES = {
    "unique": "just saved by another request",
    "serialization": "at the same moment",
    "deadlock": "at the same moment",
}


@post("/api/v1/sqlite-twice", status_code=201)
async def write_twice_on_sqlite() -> None:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE TABLE twice (v int PRIMARY KEY, w int UNIQUE)")
        connection.execute("INSERT INTO twice VALUES (1, 1)")
        connection.execute("INSERT INTO twice VALUES (2, 1)")
    finally:
        connection.close()


@post("/api/v1/sqlite-not-null", status_code=201)
async def write_null_on_sqlite() -> None:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE TABLE needed (v int NOT NULL)")
        connection.execute("INSERT INTO needed VALUES (NULL)")
    finally:
        connection.close()


def _assert_conflict(client: TestClient[Litestar], path: str, english_words: str) -> list[Any]:
    with capture_logs() as logs:
        english = client.post(path, headers={"accept-language": "en"})
    assert english.status_code == 409, english.text
    assert english.json()["error"]["code"] == "conflict"
    assert english_words in english.json()["error"]["message"]
    chinese = client.post(path, headers={"accept-language": "zh-CN"})
    assert chinese.status_code == 409
    assert chinese.json()["error"]["message"] != english.json()["error"]["message"]
    return [entry for entry in logs if entry["event"] == "concurrent_write"]


def test_a_unique_violation_on_sqlite_answers_409_and_names_the_route() -> None:
    with TestClient(Litestar([write_twice_on_sqlite, write_null_on_sqlite], exception_handlers=EXCEPTION_HANDLERS)) as client:
        warnings = _assert_conflict(client, "/api/v1/sqlite-twice", MESSAGES["unique"])
        assert [(entry["log_level"], entry["route"], entry["sqlstate"]) for entry in warnings] == [
            ("warning", "/api/v1/sqlite-twice", "23505")
        ]
        # Any other constraint is still a bug of ours, not a race.
        assert client.post("/api/v1/sqlite-not-null").status_code == 500


@pytest.fixture(scope="module")
def refusing(postgres: Any) -> Iterator[TestClient[Litestar]]:
    @post("/api/v1/collisions/{kind:str}", status_code=201)
    async def collide(kind: FromPath[str]) -> None:
        connection = await asyncpg.connect(postgres.app_url)
        try:
            await connection.execute(STATEMENTS[kind])
        finally:
            await connection.close()

    with TestClient(Litestar([collide], exception_handlers=EXCEPTION_HANDLERS)) as test_client:
        yield test_client


@pytest.mark.postgres
@pytest.mark.parametrize("kind", sorted(STATEMENTS))
def test_a_write_that_lost_a_race_on_postgresql_answers_409_and_names_the_route(refusing: TestClient[Litestar], kind: str) -> None:
    warnings = _assert_conflict(refusing, f"/api/v1/collisions/{kind}", MESSAGES[kind])
    assert [(entry["log_level"], entry["route"]) for entry in warnings] == [("warning", "/api/v1/collisions/{kind}")]
    assert warnings[0]["sqlstate"] == {"unique": "23505", "serialization": "40001", "deadlock": "40P01"}[kind]
