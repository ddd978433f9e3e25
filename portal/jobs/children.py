"""CPU-heavy handlers (``Handler(cpu_bound=True)``) run in child processes.

A thread does not take a decode or a PDF rendering off the serving process:
Python code holds the interpreter lock, so requests on the event loop wait
behind it. A runner made with ``children=True`` (the app's in-process
runner and ``portal worker``) hands such a job to a small pool of spawned
processes; every other job keeps running on the runner's own loop.

A child is a fresh interpreter (``spawn``: nothing of the parent's event
loop, threads or pooled connections is copied): it reads the same settings
from the inherited environment, opens its own engine and storage, and runs
the handlers it is given on one event loop of its own, one job at a time.
The job's timeout is kept in the child; ``SIGALRM`` at its default action
ends a child that overruns it by a grace period whatever it is doing (a
native decode does not return to Python to be cancelled). A child that dies
(killed, out of memory) fails the jobs it held, which are then tried again
like any failed attempt; the next job gets a new child. A child whose
parent was killed outright ends itself within ``PARENT_CHECK_SECONDS``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from typing import Any

import structlog

log = structlog.get_logger(__name__)

# Two cores on the reference machine: one child keeps a core for requests,
# a second lets a long PDF not hold every preview back.
CHILD_PROCESSES = 2
# Renderers cache fonts and decoders; a fresh child now and then bounds
# what one process keeps.
JOBS_PER_CHILD = 200
GRACE_SECONDS = 30.0
# Added to the children's niceness (0 to 19; higher yields the CPU sooner).
CHILD_NICENESS = 10
# How often a child looks whether its parent is still there.
PARENT_CHECK_SECONDS = 1.0


class ChildJobFailed(Exception):
    """The handler raised in the child: ``description`` is its error."""

    def __init__(self, description: str, retry_in: timedelta | None = None) -> None:
        super().__init__(description)
        self.description = description
        # The handler's RetryLater delay, carried over from the child.
        self.retry_in = retry_in


class ChildPool:
    """The child processes of one runner, started on the first CPU-heavy job."""

    def __init__(self, size: int = CHILD_PROCESSES, grace: float = GRACE_SECONDS, niceness: int = CHILD_NICENESS) -> None:
        self.size = size
        self.grace = grace
        self.niceness = niceness
        self._executor: ProcessPoolExecutor | None = None

    async def run(self, target: str, payload: dict[str, Any], time_limit: float) -> None:
        executor = self._executor or self._start()
        started = time.monotonic()
        try:
            outcome = await asyncio.wrap_future(executor.submit(_run_in_child, target, payload, time_limit, self.grace))
        except BrokenProcessPool:
            if self._executor is executor:
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            overran = time.monotonic() - started >= time_limit
            raise ChildJobFailed("timed out (child process stopped)" if overran else "child process died") from None
        if outcome is not None:
            error, retry_seconds = outcome
            raise ChildJobFailed(error, None if retry_seconds is None else timedelta(seconds=retry_seconds))

    def _start(self) -> ProcessPoolExecutor:
        self._executor = ProcessPoolExecutor(
            max_workers=self.size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_started,
            # The runner names itself: a child that asked getppid() after
            # its runner died mid-start would watch init (pid 1) forever.
            initargs=(self.niceness, os.getpid()),
            max_tasks_per_child=JOBS_PER_CHILD,
        )
        return self._executor

    def shutdown(self) -> None:
        """Wait for the children's current jobs, then end them."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


# ---------------------------------------------------------------- in the child

_loop: asyncio.AbstractEventLoop | None = None
_engine_started = False


def _child_started(niceness: int, parent: int) -> None:
    global _loop
    from portal.jobs import registry
    from portal.logs import configure_logging
    from portal.settings import get_settings

    # The parent's Ctrl-C reaches the whole process group: the parent alone
    # decides when children stop (after their running jobs).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Background work: when the cores are busy, the requests of the serving
    # process go first and a preview simply finishes later.
    os.nice(niceness)
    threading.Thread(target=_end_with_parent, args=(parent,), name="parent-watch", daemon=True).start()
    settings = get_settings()
    configure_logging(json=settings.is_production)
    registry.load_modules(settings.job_modules)
    _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)


def _end_with_parent(parent: int) -> None:
    """A parent killed outright (SIGKILL, the out-of-memory killer) cannot
    stop its children, and a child waiting for work never hears of it: its
    end of the pipe keeps the pipe open. Orphaned, it would hold its memory
    and database connections until the machine restarts; it ends itself
    instead, and the job it held runs again once its claim runs out."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


async def _with_engine(function: Any, payload: dict[str, Any]) -> None:
    """The engine is started with the first job, not in the initializer: a
    child started while the database is out of reach then fails that one
    job (retried later like any failed attempt) instead of breaking the
    whole pool with a traceback from the initializer."""
    global _engine_started
    if not _engine_started:
        from portal.db import get_engine, start_engine

        await start_engine(get_engine())
        _engine_started = True
    await function(payload)


def _run_in_child(target: str, payload: dict[str, Any], timeout: float, grace: float) -> tuple[str, float | None] | None:
    """One job's handler; returns its error's description and the delay a
    ``RetryLater`` asked for, or None when it succeeded (an exception object
    of the handler's may not survive pickling)."""
    from portal.jobs import registry
    from portal.jobs.retry import RetryLater
    from portal.jobs.runner import describe_error

    assert _loop is not None
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, timeout + grace)
    try:
        function = registry.resolve(target)
        _loop.run_until_complete(asyncio.wait_for(_with_engine(function, payload), timeout=timeout))
    except Exception as exc:
        return describe_error(exc), exc.delay.total_seconds() if isinstance(exc, RetryLater) else None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None
