"""A real ``portal serve`` process on an installation of its own, for tests
that need what only a process shows: its log output, its resident memory,
its behaviour while the database goes away and comes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from tests.support.factories import PASSWORD
from tests.support.ports import free_port
from tests.support.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parents[2]

_SEED = """
import asyncio, json
from tests.support.factories import make_world
world = asyncio.run(make_world("live"))
print(json.dumps({"slug": world.slug, "suppliers": [str(s) for s in world.supplier_ids],
                  "emails": {key: account.email for key, account in world.accounts.items()}}))
"""


def installation_env(var: Path, cluster: PostgresCluster | None = None, **extra: str) -> dict[str, str]:
    """The environment of a fresh installation under ``var``: SQLite there,
    or a new database in ``cluster``; production mode, so logs are the JSON
    lines an operator's tooling reads."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_VAR_DIR=str(var),
        PORTAL_STORAGE_URL=f"file://{var}/blobs",
        PORTAL_SECRET_KEY="live-test-secret-key-that-is-long-enough-0123",
        PORTAL_DEFAULT_LOCALE="zh_CN",
        PORTAL_ENV="production",
    )
    env.update(extra)
    if cluster is None:
        env.setdefault("PORTAL_DATABASE_URL", f"sqlite:///{var}/portal.db")
    else:
        name = f"live_{uuid4().hex[:12]}"
        cluster.psql(f"CREATE DATABASE {name}", database="postgres")
        env["PORTAL_DATABASE_URL"] = cluster.app_url.rsplit("/", 1)[0] + "/" + name
        env["PORTAL_MIGRATION_DATABASE_URL"] = cluster.owner_url.rsplit("/", 1)[0] + "/" + name
    return env


def portal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portal", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)


@dataclass
class LiveWorld:
    slug: str
    suppliers: list[str]
    emails: dict[str, str]


def install(env: dict[str, str]) -> LiveWorld:
    """Migrate, then build one test world through the services."""
    migrated = portal(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    seeded = subprocess.run([sys.executable, "-c", _SEED], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert seeded.returncode == 0, seeded.stderr
    return LiveWorld(**json.loads(seeded.stdout.strip().splitlines()[-1]))


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()

    def start(self) -> None:
        command = [sys.executable, "-m", "portal", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"portal serve did not start: {self.output()}")

    def stop(self) -> None:
        self.stop_process()
        self.log.close()

    def stop_process(self) -> None:
        """End the process (if it still runs) but keep its log, so that
        ``start`` can bring the server back on the same port."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines written so far (production format)."""
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                event = json.loads(line)
                if name is None or event.get("event") == name:
                    lines.append(event)
        return lines

    def wait_for_event(self, name: str, match: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        """The first JSON log line named ``name`` that ``match`` accepts,
        waiting for it: a request's line is written once its last byte is
        out, which may be just after the client has its answer."""
        deadline = time.monotonic() + timeout
        while True:
            found = [event for event in self.events(name) if match(event)]
            if found:
                assert len(found) == 1, found
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {name} log line matched within {timeout} s")
            time.sleep(0.05)

    def peak_rss_kib(self) -> int:
        """The process's high-water mark of resident memory (VmHWM)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc status")

    def token(self, email: str, slug: str) -> str:
        response = httpx.post(f"{self.base}/api/v1/auth/token", json={"email": email, "password": PASSWORD, "tenant": slug}, timeout=30)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])
