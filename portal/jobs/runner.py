"""Runs jobs: ``portal worker`` processes, or the app's own process in the
embedded default (``PORTAL_JOBS_IN_PROCESS``).

A runner claims at most as many jobs as it has free slots, runs each in a
task of its own with an empty context (no request, tenant or transaction
leaks in), keeps their leases alive while they run and records each
outcome. ``stop()`` stops claiming and lets the running jobs finish: SIGTERM
on a worker never abandons a job half done (and if the process dies anyway,
the lease runs out and another runner takes the job again). With
``children=True`` the handlers marked ``cpu_bound`` run in child processes
(portal/jobs/children.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import socket
import traceback
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import structlog

from portal.jobs import queue, registry
from portal.jobs.children import ChildJobFailed, ChildPool
from portal.jobs.queue import ClaimedJob
from portal.jobs.retry import RetryLater
from portal.outage import database_unavailable

if TYPE_CHECKING:
    from portal.settings import Settings

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=60)
HEARTBEAT_SECONDS = 15.0
# Beside requests: enough for mail to flow while a preview renders.
IN_PROCESS_CONCURRENCY = 4


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:6]}"


class Runner:
    def __init__(self, *, concurrency: int = 4, poll_seconds: float = 1.0, name: str | None = None, children: bool = False) -> None:
        self.concurrency = concurrency
        self.children = ChildPool() if children else None
        self.poll_seconds = poll_seconds
        self.name = name or worker_name()
        self._running: dict[Any, asyncio.Task[str]] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._next_offer: datetime | None = None
        # The last claim took every free slot: more work may be waiting.
        self._saturated = False
        self._loop: asyncio.AbstractEventLoop | None = None
        # Jobs done while their outcome waits to be written (see _record_done).
        self._done: list[tuple[ClaimedJob, asyncio.Future[bool]]] = []
        self._recording: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Claim and run jobs until ``stop()``; then wait for the running ones."""
        self._loop = asyncio.get_running_loop()
        waker = self._waker()
        queue._wakers.add(waker)
        heartbeat = asyncio.create_task(self._heartbeat(), context=contextvars.Context())
        listener = asyncio.create_task(self._listen(), context=contextvars.Context())
        log.info("job_runner_started", worker=self.name, concurrency=self.concurrency)
        try:
            while not self._stopping.is_set():
                # Cleared before the claim, not after: a wake-up that arrives
                # while claiming (NOTIFY, a slot coming free) must not be lost
                # until the next poll.
                self._wake.clear()
                try:
                    await self.tick()
                except Exception as exc:
                    # The database went away: keep polling, it comes back.
                    if database_unavailable(exc):
                        log.warning("job_runner_database_unavailable", error=str(exc))
                    else:
                        log.exception("job_runner_tick_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._either(), timeout=self.poll_seconds)
        finally:
            queue._wakers.discard(waker)
            if self._running:
                await asyncio.gather(*self._running.values(), return_exceptions=True)
            await self.close()
            heartbeat.cancel()
            listener.cancel()
            log.info("job_runner_stopped", worker=self.name)

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        """End the child processes (``run`` does it when it stops)."""
        if self.children is not None:
            await asyncio.to_thread(self.children.shutdown)

    def _waker(self) -> Callable[[], None]:
        def wake() -> None:
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._wake.set()
            else:
                loop.call_soon_threadsafe(self._wake.set)

        return wake

    async def _listen(self) -> None:
        """On PostgreSQL, wake on ``NOTIFY portal_jobs`` from any process, on
        a connection of its own (LISTEN needs a session: through PgBouncer in
        transaction mode it hears nothing, and polling still finds the work).
        A lost connection is opened again after a poll interval."""
        from piccolo.engine.postgres import PostgresEngine

        from portal.db import get_engine

        engine = get_engine()
        if not isinstance(engine, PostgresEngine):
            return
        while not self._stopping.is_set():
            closed = asyncio.Event()
            try:
                connection = await engine.get_new_connection()
            except Exception as exc:
                log.warning("job_listener_unavailable", error=str(exc))
            else:
                try:
                    connection.add_termination_listener(lambda _connection, lost=closed: lost.set())
                    await connection.add_listener(queue.CHANNEL, lambda *_args: self._wake.set())
                    stop = asyncio.ensure_future(self._stopping.wait())
                    lost = asyncio.ensure_future(closed.wait())
                    try:
                        await asyncio.wait({stop, lost}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        stop.cancel()
                        lost.cancel()
                finally:
                    if not connection.is_closed():
                        await connection.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_seconds)

    async def _either(self) -> None:
        wake = asyncio.ensure_future(self._wake.wait())
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({wake, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            stop.cancel()

    # ------------------------------------------------------------ one round

    async def tick(self, now: datetime | None = None) -> int:
        """Offer periodic jobs when a slot began, claim what fits; returns how
        many jobs were started."""
        now_ = now or queue.utcnow()
        if self._next_offer is None or now_ >= self._next_offer:
            await queue.offer_periodic(now_)
            self._next_offer = now_ + min((p.interval for p in registry.PERIODIC.values()), default=timedelta(minutes=1)) / 4
        free = self.concurrency - len(self._running)
        jobs = await queue.claim(self.name, free, LEASE, now=now)
        self._saturated = len(jobs) >= free
        for job in jobs:
            task = asyncio.create_task(self.execute(job, now=now), context=contextvars.Context())
            self._running[job.id] = task
            task.add_done_callback(functools.partial(self._finished, job.id))
        return len(jobs)

    def _finished(self, key: Any, _task: asyncio.Task[str]) -> None:
        self._running.pop(key, None)
        # A slot came free while work may be waiting: look at once. When the
        # last claim left slots empty, the queue was drained and new work
        # wakes us itself (in-process, NOTIFY); claiming after every finished
        # job would double the statements the database runs.
        if self._saturated:
            self._wake.set()

    async def execute(self, job: ClaimedJob, now: datetime | None = None) -> str:
        """Run one claimed job and record its outcome (done, failed, parked)."""
        try:
            handler = registry.handler_for(job.kind)
            if handler.cpu_bound and self.children is not None:
                await self.children.run(handler.target, job.payload, handler.timeout.total_seconds())
            else:
                function = registry.resolve(handler.target)
                await asyncio.wait_for(function(job.payload), timeout=handler.timeout.total_seconds())
        except Exception as exc:
            error = describe_error(exc)
            retry_in = exc.delay if isinstance(exc, RetryLater) else exc.retry_in if isinstance(exc, ChildJobFailed) else None
            try:
                status = await queue.fail(job, self.name, error, now=now, retry_in=retry_in)
            except Exception as lost:
                _outcome_not_recorded(job, lost)
                return "unknown"
            level = log.error if status == queue.PARKED else log.warning
            level("job_failed", job=str(job.id), kind=job.kind, attempt=job.attempts, status=status, error=error.splitlines()[0])
            return status
        try:
            await self._record_done(job, now)
        except Exception as lost:
            # The effect happened; the lease runs out and the job runs again,
            # which an idempotent handler shrugs off.
            _outcome_not_recorded(job, lost)
            return "unknown"
        log.info("job_done", job=str(job.id), kind=job.kind, attempt=job.attempts)
        return queue.DONE

    async def _record_done(self, job: ClaimedJob, now: datetime | None) -> bool:
        """Mark ``job`` done, together with the jobs that finished while the
        previous statement was on its way: under load one statement records
        several outcomes; alone, a job is written at once, as before."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._done.append((job, future))
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._write_done(now), context=contextvars.Context())
        return await future

    async def _write_done(self, now: datetime | None) -> None:
        while self._done:
            batch, self._done = self._done, []
            try:
                held = await queue.complete_all([job for job, _future in batch], self.name, now=now)
            except Exception as exc:
                for _job, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for job, future in batch:
                if not future.done():
                    future.set_result(job.id in held)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await queue.extend(list(self._running), self.name, queue.utcnow() + LEASE)
            except Exception as exc:
                log.warning("job_lease_not_extended", error=str(exc))


def _outcome_not_recorded(job: ClaimedJob, exc: Exception) -> None:
    # A database outage is one warning, as for requests: no traceback per job.
    if database_unavailable(exc):
        log.warning("job_outcome_not_recorded", job=str(job.id), kind=job.kind, error=str(exc))
    else:
        log.exception("job_outcome_not_recorded", job=str(job.id), kind=job.kind)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ChildJobFailed):
        return exc.description
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip()


async def run_due_jobs(now: datetime | None = None, *, limit: int = 1000) -> dict[str, int]:
    """Run every job due by ``now`` in this task, one after another, until
    none is left (tests, ``portal jobs run``): the same claim and the same
    outcomes as a worker. Jobs queued by the jobs themselves run too."""
    runner = Runner(concurrency=1, name=f"inline:{worker_name()}")
    outcomes: dict[str, int] = {}
    for _ in range(limit):
        jobs = await queue.claim(runner.name, 1, LEASE, now=now)
        if not jobs:
            break
        status = await runner.execute(jobs[0], now=now)
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


@contextlib.asynccontextmanager
async def in_process_jobs(settings: Settings) -> AsyncIterator[None]:
    """The embedded default: the app process runs jobs beside its requests
    (``PORTAL_JOBS_IN_PROCESS``, on unless turned off); stopping the app
    lets running jobs finish."""
    if not settings.jobs_in_process:
        yield
        return
    registry.load_modules(settings.job_modules)
    # CPU-heavy jobs in child processes: a preview decoding in a thread here
    # would hold the interpreter lock while requests wait.
    runner = Runner(concurrency=IN_PROCESS_CONCURRENCY, poll_seconds=settings.jobs_poll_seconds, children=True)
    task = asyncio.create_task(runner.run(), context=contextvars.Context())
    try:
        yield
    finally:
        runner.stop()
        await task
