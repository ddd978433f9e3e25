"""The safety net behind portal/lengths.py: should PostgreSQL itself refuse
a value too long or too large for its column (a write the length check does
not see: raw SQL), the answer is a clear 400 in the request's language,
never a 500, and a warning names the route to fix.

The errors are real: asyncpg's, from a real PostgreSQL, raised in a handler
of a small app that has the portal's own exception handlers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar, post
from litestar.testing import TestClient
from structlog.testing import capture_logs

from portal.errors import EXCEPTION_HANDLERS

pytestmark = pytest.mark.postgres

STATEMENTS = {
    "text": "CREATE TEMP TABLE refusal (v varchar(2)); INSERT INTO refusal VALUES ('abc')",
    "number": "CREATE TEMP TABLE refusal (v numeric(6, 4)); INSERT INTO refusal VALUES (1000)",
}


@pytest.fixture(scope="module")
def refusing(postgres: Any) -> Iterator[TestClient[Litestar]]:
    @post("/api/v1/refusals/{kind:str}", status_code=201)
    async def write_raw(kind: str) -> None:
        connection = await asyncpg.connect(postgres.app_url)
        try:
            await connection.execute(STATEMENTS[kind])
        finally:
            await connection.close()

    with TestClient(Litestar([write_raw], exception_handlers=EXCEPTION_HANDLERS)) as test_client:
        yield test_client


@pytest.mark.parametrize("kind", sorted(STATEMENTS))
def test_a_value_the_database_refuses_answers_400_and_names_the_route(refusing: TestClient[Litestar], kind: str) -> None:
    with capture_logs() as logs:
        english = refusing.post(f"/api/v1/refusals/{kind}", headers={"accept-language": "en"})
    assert english.status_code == 400, english.text
    assert english.json()["error"]["code"] == "too_long"
    assert "too long or too large" in english.json()["error"]["message"]
    warnings = [entry for entry in logs if entry["event"] == "value_does_not_fit_column"]
    assert [(entry["log_level"], entry["route"]) for entry in warnings] == [("warning", "/api/v1/refusals/{kind}")]
    assert warnings[0]["error"].startswith(("StringDataRightTruncationError", "NumericValueOutOfRangeError"))
    chinese = refusing.post(f"/api/v1/refusals/{kind}", headers={"accept-language": "zh-CN"})
    assert chinese.status_code == 400
    assert chinese.json()["error"]["message"] != english.json()["error"]["message"]
