"""Uploads against a real server process: a slow upload holds no database
lock (its body is received before the request transaction opens), killing
the server in the middle of an upload leaves no row, and the operator's
commands (`portal storage gc`, `verify`, `thumbnails`) clean up, check and
catch up afterwards. A fresh installation of its own, so that the commands'
reports are about these uploads only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.support.documents import samples
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[3]
DEMO_PASSWORD = "demo-password-2026"
BOUNDARY = "----portal-live-test"


def environment(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PORTAL_DB_ROLE", None)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def portal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portal", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def installation(fresh_installation: Callable[[str], dict[str, str]]) -> dict[str, str]:
    env = environment(**fresh_installation("live-upload"))
    result = portal(env, "demo")
    assert result.returncode == 0, result.stderr
    return env


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the fixture

    def start(self) -> None:
        command = [sys.executable, "-m", "portal", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.log.seek(0)
        pytest.fail(f"portal serve did not start: {self.log.read().decode(errors='replace')}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """A hard crash: no shutdown, no clean-up code runs."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def served(installation: dict[str, str]) -> Iterator[Server]:
    running = Server(installation)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        running.log.close()


@pytest.fixture
def server(served: Server) -> Server:
    """The module's server, started again if a test left it killed."""
    if not served.running:
        served.start()
    return served


def sign_in(server: Server, email: str) -> str:
    credentials = {"email": email, "password": DEMO_PASSWORD, "tenant": "acme"}
    response = httpx.post(f"{server.base}/api/v1/auth/token", json=credentials, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def first_supplier(server: Server, token: str) -> str:
    items = httpx.get(f"{server.base}/api/v1/suppliers", headers={"authorization": f"Bearer {token}"}, timeout=30).json()["items"]
    return str(items[0]["id"])


def multipart(fields: dict[str, str], name: str, data: bytes, declared: str) -> bytes:
    body = bytearray()
    for key, value in fields.items():
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
    body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\nContent-Type: {declared}\r\n\r\n'.encode()
    return bytes(body) + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def start_slow_upload(server: Server, token: str, body: bytes, sent: int) -> socket.socket:
    """An upload whose body stops after ``sent`` bytes, like a phone losing
    its signal."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = (
        f"POST /api/v1/documents HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    connection.sendall(head + body[:sent])
    return connection


def spool_files(env: dict[str, str]) -> list[Path]:
    spool = Path(env["PORTAL_VAR_DIR"]) / "spool"
    return sorted(spool.glob("body-*")) if spool.exists() else []


def wait_for(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def titles(server: Server, token: str, supplier: str) -> set[str]:
    """Titles of the documents on ``supplier`` (the demo's own documents hang
    off orders and reports)."""
    params = {"attached_type": "supplier", "attached_id": supplier}
    headers = {"authorization": f"Bearer {token}"}
    items = httpx.get(f"{server.base}/api/v1/documents", params=params, headers=headers, timeout=30).json()["items"]
    return {item["title"] for item in items}


def test_a_slow_upload_blocks_nobody_and_a_kill_mid_upload_leaves_no_row(server: Server, installation: dict[str, str]) -> None:
    token = sign_in(server, "operator@precision.example")
    supplier = first_supplier(server, token)
    fields = {"attached_type": "supplier", "attached_id": supplier, "category": "drawing", "title": "killed mid-upload"}
    body = multipart(fields, "housing.step", samples.step(4 * 1024 * 1024), "model/step")
    slow = start_slow_upload(server, token, body, len(body) // 2)
    try:
        # The server has spooled most of the first half of the body ...
        wait_for(lambda: any(path.stat().st_size > 1024 * 1024 for path in spool_files(installation)))
        # ... and while that body trickles in, another upload (a write) goes
        # through: the slow one holds no transaction and no write lock yet.
        quick = httpx.post(
            f"{server.base}/api/v1/documents",
            content=multipart({**fields, "category": "photo", "title": "quick photo"}, "qc.png", samples.png(), "image/png"),
            headers={"authorization": f"Bearer {token}", "content-type": f"multipart/form-data; boundary={BOUNDARY}"},
            timeout=60,
        )
        assert quick.status_code == 201, quick.text
        # The quick upload's own spool file goes once its response is out;
        # the slow one's holds what has arrived so far.
        wait_for(lambda: len(spool_files(installation)) == 1)
        assert spool_files(installation)[0].stat().st_size > 1024 * 1024
        server.kill()
    finally:
        slow.close()

    assert len(spool_files(installation)) == 1  # a hard kill leaves its spool file
    server.start()
    assert titles(server, sign_in(server, "admin@acme.example"), supplier) == {"quick photo"}

    young = portal(installation, "storage", "gc")
    assert young.returncode == 0, young.stderr
    assert "0 unfinished uploads removed" in young.stdout
    dry = portal(installation, "storage", "gc", "--older-than", "0", "--dry-run")
    assert "would remove unfinished upload body-" in dry.stdout
    assert len(spool_files(installation)) == 1
    cleaned = portal(installation, "storage", "gc", "--older-than", "0")
    assert cleaned.returncode == 0, cleaned.stderr
    assert "1 unfinished uploads removed" in cleaned.stdout
    assert "0 orphans removed" in cleaned.stdout
    assert spool_files(installation) == []


def test_storage_commands_catch_up_and_check(server: Server, installation: dict[str, str]) -> None:
    token = sign_in(server, "admin@acme.example")
    supplier = first_supplier(server, token)
    fields = {"attached_type": "supplier", "attached_id": supplier, "category": "spec", "title": f"spec {uuid4().hex[:6]}"}
    response = httpx.post(
        f"{server.base}/api/v1/documents",
        content=multipart(fields, "spec.pdf", samples.pdf(), "application/pdf"),
        headers={"authorization": f"Bearer {token}", "content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    document = response.json()

    thumbnails = portal(installation, "storage", "thumbnails")
    assert thumbnails.returncode == 0, thumbnails.stderr
    again = portal(installation, "storage", "thumbnails")
    assert "0 previews rendered" in again.stdout

    intact = portal(installation, "storage", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "stored versions intact" in intact.stdout

    blobs = Path(installation["PORTAL_VAR_DIR"]) / "blobs"
    [blob] = blobs.glob(f"tenants/*/documents/{document['id']}/{document['current']['id']}")
    key = str(blob.relative_to(blobs))
    original = blob.read_bytes()
    blob.write_bytes(original.replace(b"%%EOF", b"%%EoF"))
    broken = portal(installation, "storage", "verify")
    assert broken.returncode == 1
    assert key in broken.stderr
    assert "sha256 mismatch" in broken.stderr
    blob.write_bytes(original)
