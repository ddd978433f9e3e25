"""Failed sign-ins lock the account, and an unknown email the same way,
and each failure slows the next answer.

Besides the per-account limit (5) the throttle counts failures per client
address (20 in 15 minutes), and the TestClient's address is always
"testclient": tests/conftest.py forgets every failed sign-in before each
test, so a test may fail as many as it needs below that limit. The tests
run with no slow-down (PORTAL_LOGIN_DELAY_STEP=0), except the one test of
the delay here.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from portal.settings import get_settings
from tenants.services.throttle import ACCOUNT, MAX_DELAY_SECONDS, delay_seconds, record_failure
from tests.support.factories import PASSWORD, World, make_world

WRONG = PASSWORD + "-wrong"


@dataclass(frozen=True)
class Locked:
    world: World
    known: str
    unknown: str
    known_answers: list[Any]
    unknown_answers: list[Any]


@pytest.fixture
def locked(client: Any, run: Any) -> Locked:
    """One existing account and one unknown email, each failed until locked:
    10 failed sign-ins in all, below the address's limit of 20."""
    world = run(make_world)
    known = world.accounts["finance"].email
    unknown = f"nobody-{uuid4().hex[:10]}@test.example"
    return Locked(world, known, unknown, fail_until_locked(client, known), fail_until_locked(client, unknown))


async def throttle_row(key: str) -> dict[str, Any] | None:
    from tenants.context import system_scope
    from tenants.tables import LoginThrottle

    async with system_scope("test-read-throttle"):
        return await LoginThrottle.select().where(LoginThrottle.key == key).first()


def token_request(client: Any, email: str, password: str, tenant: str | None = None) -> Any:
    body = {"email": email, "password": password}
    if tenant:
        body["tenant"] = tenant
    return client.post("/api/v1/auth/token", json=body)


def fail_until_locked(client: Any, email: str) -> list[Any]:
    answers = [token_request(client, email, WRONG) for _ in range(ACCOUNT.max_failures)]
    assert [answer.status_code for answer in answers] == [401] * ACCOUNT.max_failures
    return answers


@pytest.mark.parametrize("which", ["known", "unknown"])
def test_failures_are_kept_although_answered_with_errors(run: Any, locked: Locked, which: str) -> None:
    # Every failure was answered 401 and the request transaction rolls back
    # on errors, except where the handler asks to keep the changes.
    row = run(throttle_row, f"email:{getattr(locked, which)}")
    assert row is not None
    assert row["failures"] == ACCOUNT.max_failures == 5
    assert row["locked_until"] is not None
    assert row["locked_until"] > datetime.now(UTC)


def test_locked_account_refuses_even_the_right_password(client: Any, locked: Locked) -> None:
    response = token_request(client, locked.known, PASSWORD, locked.world.slug)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_attempts"
    assert "access_token" not in response.text


def test_locked_account_refuses_the_sign_in_page_too(client: Any, locked: Locked) -> None:
    client.cookies.clear()
    csrf = client.get("/login").cookies["csrftoken"]
    client.cookies.clear()
    form = client.post(
        "/login",
        data={"email": locked.known, "password": PASSWORD, "_csrf_token": csrf},
        headers={"cookie": f"csrftoken={csrf}"},
        follow_redirects=False,
    )
    client.cookies.clear()
    assert form.status_code == 429
    assert "portal_session" not in form.headers.get("set-cookie", "")


def test_unknown_email_gets_the_same_answers(client: Any, locked: Locked) -> None:
    # No enumeration: each failure reads the same for both emails ...
    assert {answer.text for answer in locked.known_answers + locked.unknown_answers} == {locked.known_answers[0].text}
    # ... and so does the lock.
    known = token_request(client, locked.known, PASSWORD)
    unknown = token_request(client, locked.unknown, PASSWORD)
    assert known.status_code == unknown.status_code == 429
    assert unknown.json()["error"]["code"] == "too_many_attempts"
    # The message names the minutes left, which may differ by one between
    # the two locks; apart from that number the answers are identical.
    assert re.sub(r"\d+", "N", known.text) == re.sub(r"\d+", "N", unknown.text)


def test_lock_holds_one_account_only(client: Any, locked: Locked) -> None:
    # The other accounts of the tenant still sign in (the address limit is
    # far away), and the lock never reveals which emails exist.
    response = token_request(client, locked.world.accounts["qa"].email, PASSWORD, locked.world.slug)
    assert response.status_code == 200, response.text


def test_the_delay_grows_with_each_failure_up_to_a_cap() -> None:
    steps = [delay_seconds(failures, 0.2) for failures in range(1, 15)]
    assert steps[:3] == pytest.approx([0.2, 0.4, 0.6])
    assert steps == sorted(steps)
    assert max(steps) == MAX_DELAY_SECONDS


async def failed_twice(email: str, address: str) -> None:
    from tenants.context import system_scope

    async with system_scope("test-throttle-delay"):
        await record_failure(email, address)
        await record_failure(email, address)


def test_a_failed_sign_in_waits_before_answering(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The one test that sleeps: at the production step, two failures on
    # fresh keys wait 0.2 s and then 0.4 s. Only the lower bound is checked;
    # how much longer a loaded machine takes says nothing.
    monkeypatch.setenv("PORTAL_LOGIN_DELAY_STEP", "0.2")
    get_settings.cache_clear()
    try:
        started = time.monotonic()
        run(failed_twice, f"slow-{uuid4().hex[:10]}@test.example", f"addr-{uuid4().hex[:10]}")
        waited = time.monotonic() - started
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert get_settings().login_delay_step == 0
    assert waited >= delay_seconds(1, 0.2) + delay_seconds(2, 0.2)
