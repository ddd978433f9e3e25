"""The request log records the status the client actually got, read from a
real server's log output: answers built by middleware and error handlers
(413 before the body is read, 404 for an unknown path, 405, 401, a domain
404, a validation 400) and a streamed download, not a guess of 500."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from portal.documents.intake import body_limit
from tests.support.documents import samples
from tests.support.live import LiveWorld, Server, install, installation_env
from tests.support.postgres import PostgresCluster


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, pass_cluster: PostgresCluster | None) -> Iterator[tuple[Server, LiveWorld]]:
    env = installation_env(Path(tmp_path_factory.mktemp("request-log")), pass_cluster)
    world = install(env)
    server = Server(env)
    server.start()
    try:
        yield server, world
    finally:
        server.stop()


def oversized_upload(server: Server, token: str) -> int:
    """Announce a body over the limit and send none of it: the server must
    answer 413 from the headers alone."""
    head = (
        f"POST /api/v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {body_limit() + 1}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(head)
        status_line = connection.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def test_every_answer_is_logged_with_the_status_the_client_got(live: tuple[Server, LiveWorld]) -> None:
    server, world = live
    token = server.token(world.emails["admin"], world.slug)
    auth = {"authorization": f"Bearer {token}"}
    fields = {"attached_type": "supplier", "attached_id": world.suppliers[0], "category": "photo", "title": "log"}
    files = {"file": ("a.png", samples.png(), "image/png")}
    uploaded = httpx.post(f"{server.base}/api/v1/documents", data=fields, files=files, headers=auth)
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["id"]
    # The upload's own log line may be written after its answer reached us: wait for it.
    deadline = time.monotonic() + 30
    while not any(event["status"] == 201 for event in server.events("request")) and time.monotonic() < deadline:
        time.sleep(0.05)
    before = len(server.events("request"))

    answered: list[tuple[str, str, int]] = []

    def call(method: str, path: str, **kwargs: Any) -> None:
        response = httpx.request(method, f"{server.base}{path}", timeout=30, **kwargs)
        answered.append((method, path, response.status_code))

    answered.append(("POST", "/api/v1/documents", oversized_upload(server, token)))
    call("GET", f"/no-such-page-{uuid4().hex}")
    call("DELETE", "/health")
    call("GET", "/api/v1/documents")
    call("GET", f"/api/v1/documents/{uuid4()}", headers=auth)
    call("POST", "/api/v1/auth/token", json={})
    call("GET", f"/api/v1/documents/{document}/content", headers=auth)

    statuses = [status for _, _, status in answered]
    assert statuses == [413, 404, 405, 401, 404, 400, 200]
    logged = [(event["method"], event["path"], event["status"]) for event in server.events("request")[before:]]
    assert logged == answered
