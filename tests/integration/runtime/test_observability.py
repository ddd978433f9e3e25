"""What an operator watches, read from a real server: Prometheus metrics at
/metrics (only with the token, never through a proxy), labelled by route
template; upload sizes and durations; the request log's request id, tenant
and user; request body limits outside uploads. On PostgreSQL: the statement
timeout is transaction-local, and slow statements are logged."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from tests.support.documents import samples
from tests.support.live import LiveWorld, Server, install, installation_env
from tests.support.postgres import PostgresCluster

# A loaded machine (the suite runs beside other work) can take seconds to
# answer; httpx's default of 5 s would fail a test that is right.
get = functools.partial(httpx.get, timeout=120)
post = functools.partial(httpx.post, timeout=120)

METRICS_TOKEN = "metrics-token-for-the-test-0123456789"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, pass_cluster: PostgresCluster | None) -> Iterator[tuple[Server, LiveWorld]]:
    env = installation_env(Path(tmp_path_factory.mktemp("observability")), pass_cluster, PORTAL_METRICS_TOKEN=METRICS_TOKEN)
    world = install(env)
    server = Server(env)
    server.start()
    try:
        yield server, world
    finally:
        server.stop()


def scrape(server: Server) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = get(f"{server.base}/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples_by_key = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples_by_key[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples_by_key


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def test_metrics_answer_only_the_token_and_never_through_a_proxy(live: tuple[Server, LiveWorld]) -> None:
    server, _ = live
    url = f"{server.base}/metrics"
    assert get(url).status_code == 404
    assert get(url, headers={"authorization": "Bearer not-the-metrics-token-at-all"}).status_code == 404
    through_proxy = get(url, headers={"authorization": f"Bearer {METRICS_TOKEN}", "x-forwarded-for": "203.0.113.9"})
    assert through_proxy.status_code == 404
    # The same answer as a path that does not exist: nothing tells a
    # scanner that something is there.
    unknown = get(f"{server.base}/no-such-path-{uuid4().hex}")
    assert through_proxy.headers["content-type"] == unknown.headers["content-type"]
    assert "portal_http_request_duration_seconds_bucket" in get(url, headers={"authorization": f"Bearer {METRICS_TOKEN}"}).text


def test_requests_are_counted_per_route_template_never_per_id(live: tuple[Server, LiveWorld]) -> None:
    server, world = live
    auth = {"authorization": f"Bearer {server.token(world.emails['admin'], world.slug)}"}
    missing = [str(uuid4()) for _ in range(3)]
    before = scrape(server)
    for document_id in missing:
        assert get(f"{server.base}/api/v1/documents/{document_id}", headers=auth).status_code == 404
    after = scrape(server)
    route = "/api/v1/documents/{document_id}"
    counted = value(after, "portal_http_responses_total", method="GET", route=route, status="404")
    assert counted - value(before, "portal_http_responses_total", method="GET", route=route, status="404") == 3
    timed = value(after, "portal_http_request_duration_seconds_count", method="GET", route=route)
    assert timed - value(before, "portal_http_request_duration_seconds_count", method="GET", route=route) == 3
    labels = " ".join(value for _, label_set in after for _, value in label_set)
    assert not any(document_id in labels for document_id in missing)


def test_upload_sizes_and_durations_are_measured(live: tuple[Server, LiveWorld]) -> None:
    server, world = live
    auth = {"authorization": f"Bearer {server.token(world.emails['admin'], world.slug)}"}
    picture = samples.png(width=120, height=90)
    before = scrape(server)
    fields = {"attached_type": "supplier", "attached_id": world.suppliers[0], "category": "photo", "title": "metrics"}
    uploaded = post(f"{server.base}/api/v1/documents", data=fields, files={"file": ("m.png", picture, "image/png")}, headers=auth)
    assert uploaded.status_code == 201, uploaded.text
    after = scrape(server)

    def grew(name: str) -> float:
        return value(after, name, path="app") - value(before, name, path="app")

    assert grew("portal_upload_size_bytes_count") == 1
    assert grew("portal_upload_size_bytes_sum") == len(picture)
    assert grew("portal_upload_processing_seconds_count") == 1
    assert grew("portal_upload_processing_seconds_sum") > 0


def test_job_figures_come_from_the_job_table(live: tuple[Server, LiveWorld]) -> None:
    server, world = live
    auth = {"authorization": f"Bearer {server.token(world.emails['admin'], world.slug)}"}
    fields = {"attached_type": "supplier", "attached_id": world.suppliers[0], "category": "photo", "title": "jobs"}
    uploaded = post(f"{server.base}/api/v1/documents", data=fields, files={"file": ("j.png", samples.png(), "image/png")}, headers=auth)
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["id"]
    # The preview is a job; this server runs jobs in its own process.
    deadline = time.monotonic() + 60
    while get(f"{server.base}/api/v1/documents/{document}", headers=auth).json()["current"]["preview"] != "ready":
        assert time.monotonic() < deadline, "the preview job did not run"
        time.sleep(0.2)
    scraped = scrape(server)
    assert value(scraped, "portal_jobs", status="done") >= 1
    for status in ("queued", "running", "failed", "parked"):
        assert ("portal_jobs", frozenset({("status", status)})) in scraped
    assert ("portal_jobs_due", frozenset()) in scraped


def test_request_log_names_request_id_tenant_and_user_and_no_secret(live: tuple[Server, LiveWorld]) -> None:
    server, world = live
    token = server.token(world.emails["planner"], world.slug)
    claims = jwt.decode(token, options={"verify_signature": False})
    answered = get(f"{server.base}/api/v1/orders", headers={"authorization": f"Bearer {token}", "x-request-id": "trace-0123456789"})
    assert answered.status_code == 200
    assert answered.headers["x-request-id"] == "trace-0123456789"
    line = server.wait_for_event("request", lambda event: event.get("request_id") == "trace-0123456789")
    assert (line["tenant"], line["user"], line["route"], line["status"]) == (claims["tid"], claims["sub"], "/api/v1/orders", 200)
    assert line["ms"] >= 0
    # Without a usable id of its own, a request gets a fresh one.
    anonymous = get(f"{server.base}/api/v1/orders", headers={"x-request-id": "bad id\twith spaces"})
    generated = anonymous.headers["x-request-id"]
    assert generated != "bad id\twith spaces"
    assert len(generated) == 32
    unsigned = server.wait_for_event("request", lambda event: event.get("request_id") == generated)
    assert (unsigned["tenant"], unsigned["user"], unsigned["status"]) == ("", "", 401)
    assert token not in server.output()


def test_json_bodies_outside_uploads_are_limited(live: tuple[Server, LiveWorld]) -> None:
    server, _ = live
    oversized = b'{"email": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    answered = post(f"{server.base}/api/v1/auth/token", content=oversized, headers={"content-type": "application/json"}, timeout=60)
    assert answered.status_code == 413
    assert answered.json()["error"]["code"] == "too_large"


@pytest.mark.postgres
def test_statement_timeout_holds_inside_the_request_transaction_only(run: Callable[..., Any]) -> None:
    from portal.settings import get_settings
    from tenants.context import system_scope
    from tenants.tables import Tenant

    async def timeouts() -> tuple[str, str]:
        async with system_scope("statement-timeout-test"):
            inside = await Tenant.raw("SHOW statement_timeout")
        outside = await Tenant.raw("SHOW statement_timeout")
        return inside[0]["statement_timeout"], outside[0]["statement_timeout"]

    inside, outside = run(timeouts)
    assert inside == f"{get_settings().statement_timeout_ms // 1000}s"
    # Transaction-local: the pooled connection does not carry it on (which
    # is also why it holds behind PgBouncer in transaction mode).
    assert outside == "0"


@pytest.mark.postgres
def test_statements_slower_than_the_threshold_are_logged_without_arguments() -> None:
    from portal.db import create_engine, start_engine, stop_engine
    from portal.settings import get_settings

    settings = get_settings()
    threshold = settings.slow_query_ms / 1000

    async def query() -> None:
        engine = create_engine(settings)
        await start_engine(engine)
        try:
            async with engine.pool.acquire() as connection:
                await connection.fetch("SELECT $1::text AS secret, pg_sleep($2)", "do-not-log-me", threshold + 0.1)
                await connection.fetch("SELECT 1")
        finally:
            await stop_engine(engine)

    with structlog.testing.capture_logs() as logs:
        asyncio.run(query())
    slow = [entry for entry in logs if entry["event"] == "slow_query"]
    assert len(slow) == 1
    assert "pg_sleep" in slow[0]["query"]
    assert slow[0]["ms"] >= settings.slow_query_ms
    assert "do-not-log-me" not in repr(slow)
