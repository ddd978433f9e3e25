"""Worker processes and helpers for the job tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import tests.support.job_handlers  # noqa: F401 - registers test.record in this process
from tests.integration.runtime.conftest import pass_cluster
from tests.support.earlier_jobs import own_jobs_only
from tests.support.job_handlers import RELEASED

__all__ = ["own_jobs_only", "pass_cluster"]

ROOT = Path(__file__).resolve().parents[3]


def wait_until(check: Callable[[], Any], timeout: float = 30.0, what: str = "the condition") -> Any:
    """Poll for the thing itself; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Worker:
    """A real ``portal worker`` process on this test process's database."""

    def __init__(self, concurrency: int = 2, **env: str) -> None:
        self.env = {**os.environ, "PORTAL_JOB_MODULES": "tests.support.job_handlers", "PORTAL_JOBS_POLL_SECONDS": "0.1", **env}
        self.concurrency = concurrency
        self.process: subprocess.Popen[bytes] | None = None
        # A file, not a pipe: nobody reads a pipe while the test waits, and a
        # full one would stop the worker at its next log line.
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the fixture after the test

    def start(self) -> Worker:
        command = [sys.executable, "-m", "portal", "worker", "--concurrency", str(self.concurrency)]
        self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=self.output, stderr=subprocess.STDOUT)
        return self

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def workers() -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(concurrency: int = 2, **env: str) -> Worker:
        worker = Worker(concurrency, **env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        # Shown by pytest when the test failed: what each worker said.
        print(f"--- portal worker {worker.pid} ---\n{worker.log()[-20000:]}")
        worker.output.close()


@pytest.fixture
def effects(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "effects"
    folder.mkdir()
    yield folder
    # A job of this test still queued or claimed (the test failed, or its
    # claim ran out) may yet be run by a later test's inline runner in this
    # database: it must find its release there and not hold that loop.
    (folder / RELEASED).touch()


def job(run: Any, job_id: UUID | None) -> Any:
    """The job's row as the queue reports it."""
    from portal.jobs.queue import get_job

    assert job_id is not None
    found = run(get_job, job_id)
    assert found is not None
    return found
