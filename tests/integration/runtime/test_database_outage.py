"""A database that goes away is an outage: every request answers 503 with
Retry-After (the API's JSON error and a "try again" page, in the user's
language), the log gets one warning when it starts and one when it ends,
never a traceback per request, and the server recovers by itself.

On PostgreSQL a private cluster is stopped under a running server (the
shared test cluster is never touched); on SQLite the database file's
folder disappears and comes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.live import LiveWorld, Server, install, installation_env
from tests.support.postgres import PostgresCluster

ZH_MESSAGE = "服务暂时不可用"
EN_MESSAGE = "The service is briefly unavailable"


def assert_outage_answers(server: Server, token: str, email: str, slug: str) -> None:
    auth = {"authorization": f"Bearer {token}"}
    for _ in range(5):
        response = httpx.get(f"{server.base}/api/v1/documents", headers=auth, timeout=30)
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) > 0
        error = response.json()["error"]
        assert error["code"] == "database_unavailable"
        assert ZH_MESSAGE in error["message"]
    english = httpx.get(f"{server.base}/api/v1/documents", headers={**auth, "accept-language": "en"}, timeout=30)
    assert english.status_code == 503
    assert EN_MESSAGE in english.json()["error"]["message"]

    sign_in = httpx.post(f"{server.base}/api/v1/auth/token", json={"email": email, "password": "x", "tenant": slug}, timeout=30)
    assert sign_in.status_code == 503, sign_in.text
    assert "retry-after" in sign_in.headers

    for language, message, retry in (("zh-CN", ZH_MESSAGE, "重试"), ("en", EN_MESSAGE, "Try again")):
        page = httpx.get(f"{server.base}/login", headers={"accept-language": language}, timeout=30)
        assert page.status_code == 503
        assert "retry-after" in page.headers
        assert page.headers["content-type"].startswith("text/html")
        assert message in page.text
        assert f'href="/login">{retry}</a>' in page.text
        assert "Traceback" not in page.text

    health = httpx.get(f"{server.base}/health", timeout=30)
    assert health.status_code == 503
    assert health.json()["database"] == "error"


def assert_logged_once(server: Server) -> None:
    assert len(server.events("database_unavailable")) == 1
    assert len(server.events("database_recovered")) == 1
    assert server.events("unhandled_error") == []
    assert "Traceback" not in server.output()
    statuses = {event["status"] for event in server.events("request")}
    assert 500 not in statuses


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    private = PostgresCluster.start()
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture
def pg_live(cluster: PostgresCluster, tmp_path: Path) -> Iterator[tuple[Server, LiveWorld]]:
    env = installation_env(tmp_path / "var", cluster)
    world = install(env)
    server = Server(env)
    server.start()
    try:
        yield server, world
    finally:
        server.stop()


@pytest.mark.postgres
def test_postgresql_outage_answers_503_and_recovers(cluster: PostgresCluster, pg_live: tuple[Server, LiveWorld]) -> None:
    server, world = pg_live
    email = world.emails["admin"]
    token = server.token(email, world.slug)
    auth = {"authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.base}/api/v1/documents", headers=auth, timeout=30).status_code == 200

    cluster.pause()
    assert_outage_answers(server, token, email, world.slug)
    cluster.resume()

    assert httpx.get(f"{server.base}/api/v1/documents", headers=auth, timeout=30).status_code == 200
    assert httpx.get(f"{server.base}/health", timeout=30).status_code == 200
    assert_logged_once(server)


def test_sqlite_database_out_of_reach_answers_503_and_recovers(tmp_path: Path) -> None:
    folder = tmp_path / "database"
    env = installation_env(tmp_path / "var", PORTAL_DATABASE_URL=f"sqlite:///{folder}/portal.db")
    world = install(env)
    server = Server(env)
    server.start()
    try:
        email = world.emails["admin"]
        token = server.token(email, world.slug)
        auth = {"authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.base}/api/v1/documents", headers=auth, timeout=30).status_code == 200

        folder.rename(tmp_path / "elsewhere")  # a volume unmounted, say
        assert_outage_answers(server, token, email, world.slug)
        (tmp_path / "elsewhere").rename(folder)

        assert httpx.get(f"{server.base}/api/v1/documents", headers=auth, timeout=30).status_code == 200
        assert_logged_once(server)
    finally:
        server.stop()
