"""Job handlers for the tests. A worker process loads them through
``PORTAL_JOB_MODULES=tests.support.job_handlers``; the test process by
importing this module.

``test.record`` leaves its traces in the folder its payload names:
``<key>.attempt.<n>`` when an attempt starts, then the effect, written once
(``<key>.effect``, created exclusively: a second run finds it and does
nothing, the way a real handler checks before acting) and a line per run
that made it in ``effects.log``. With ``hold`` it waits after starting until
the file ``<key>.release`` exists; with ``fail`` it raises on its first
``fail`` attempts.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from portal.jobs.registry import Handler, register
from portal.jobs.retry import RetryLater


class Refused(Exception):
    pass


async def record(payload: dict[str, Any]) -> None:
    folder = Path(payload["dir"])
    key = payload["key"]
    attempt = await asyncio.to_thread(_start, folder, key)
    if attempt <= int(payload.get("fail", 0)):
        raise Refused(f"refused attempt {attempt} of {key}")
    if payload.get("hold"):
        await asyncio.to_thread(_wait_for, folder / f"{key}.release")
    await asyncio.to_thread(_effect, folder, key)


def _start(folder: Path, key: str) -> int:
    attempt = len(list(folder.glob(f"{key}.attempt.*"))) + 1
    (folder / f"{key}.attempt.{attempt}").write_text(str(os.getpid()))
    return attempt


# Written by the effects fixture (tests/integration/jobs/conftest.py) when
# its test ends: every hold and block of that test's jobs lets go.
RELEASED = "released"
# A job held this long was left behind by its test (which failed, or whose
# claim ran out and let an inline run take the job): it must not hold a
# later test's event loop for ever.
HELD_AT_MOST_SECONDS = 300.0


def _wait_for(path: Path) -> None:
    """Until ``path`` exists, or its folder's test has ended (the effects
    fixture writes ``released`` then)."""
    deadline = time.monotonic() + HELD_AT_MOST_SECONDS
    # Another process writes the file: there is no event to wait on.
    while not path.exists() and not (path.parent / RELEASED).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} never appeared")
        time.sleep(0.02)


def _effect(folder: Path, key: str) -> None:
    try:
        with (folder / f"{key}.effect").open("x") as handle:
            handle.write(str(os.getpid()))
    except FileExistsError:
        return
    with (folder / "effects.log").open("a") as log:
        log.write(f"{key} {os.getpid()}\n")


register(Handler("test.record", "tests.support.job_handlers:record", max_attempts=3))


async def heavy(payload: dict[str, Any]) -> None:
    """``test.heavy`` (CPU-bound: runs in a child process): like ``record``,
    but ``block`` holds its thread without yielding until the release file
    exists (as a native decode holds the interpreter) and ``exit`` ends the
    process in the middle of its first ``exit`` attempts; ``retry_after``
    asks for the next attempt after that many seconds."""
    folder = Path(payload["dir"])
    key = payload["key"]
    attempt = _start(folder, key)
    if attempt <= int(payload.get("exit", 0)):
        os._exit(3)
    if payload.get("retry_after"):
        raise RetryLater(f"busy: {key}", timedelta(seconds=int(payload["retry_after"])))
    if attempt <= int(payload.get("fail", 0)):
        raise Refused(f"refused attempt {attempt} of {key}")
    if payload.get("block"):
        _wait_for(folder / f"{key}.release")
    if payload.get("hold"):
        await asyncio.to_thread(_wait_for, folder / f"{key}.release")
    _effect(folder, key)


register(Handler("test.heavy", "tests.support.job_handlers:heavy", max_attempts=3, cpu_bound=True))
register(Handler("test.heavy_brief", "tests.support.job_handlers:heavy", max_attempts=3, timeout=timedelta(seconds=1), cpu_bound=True))
