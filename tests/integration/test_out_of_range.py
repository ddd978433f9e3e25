"""The safety net behind each service's own number and date checks: a write
that fails on a number or date past what Python holds (NaN compared,
Decimal overflow, a date past 9999-12-31) answers a clear 400 in the
request's language, never a 500, and a warning names the route. A read
that fails that way is a stored value the code does not expect: still a
500, logged as an error, to fix.

The errors are real ones, raised by the standard library in handlers of a
small app that has the portal's own exception handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.params import FromPath
from litestar.testing import TestClient
from structlog.testing import capture_logs

from portal.errors import EXCEPTION_HANDLERS

FAILURES: dict[str, Callable[[], Any]] = {
    "nan": lambda: Decimal("NaN") < 1,
    "overflow": lambda: Decimal("1e999999") * Decimal("1e999999"),
    "date": lambda: date.max + timedelta(days=1),
}


@pytest.fixture(scope="module")
def failing() -> Iterator[TestClient[Litestar]]:
    @post("/api/v1/failures/{kind:str}", status_code=201)
    async def write(kind: FromPath[str]) -> None:
        FAILURES[kind]()

    @get("/api/v1/failures/{kind:str}")
    async def read(kind: FromPath[str]) -> None:
        FAILURES[kind]()

    with TestClient(Litestar([write, read], exception_handlers=EXCEPTION_HANDLERS)) as test_client:
        yield test_client


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_a_write_that_fails_on_a_number_or_date_answers_400_and_names_the_route(failing: TestClient[Litestar], kind: str) -> None:
    with capture_logs() as logs:
        english = failing.post(f"/api/v1/failures/{kind}", headers={"accept-language": "en"})
    assert english.status_code == 400, english.text
    assert english.json()["error"]["code"] == "out_of_range"
    assert "nothing was saved" in english.json()["error"]["message"]
    warnings = [entry for entry in logs if entry["event"] == "value_out_of_range"]
    assert [(entry["log_level"], entry["route"]) for entry in warnings] == [("warning", "/api/v1/failures/{kind}")]
    chinese = failing.post(f"/api/v1/failures/{kind}", headers={"accept-language": "zh-CN"})
    assert chinese.status_code == 400
    assert "没有保存" in chinese.json()["error"]["message"]


def test_a_read_that_fails_on_a_stored_value_is_still_a_server_error(failing: TestClient[Litestar]) -> None:
    with capture_logs() as logs:
        answer = failing.get("/api/v1/failures/date")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "server_error"
    assert [entry["log_level"] for entry in logs if entry["event"] == "unhandled_error"] == ["error"]
