"""The queue's operations on the job table, the same on SQLite and PostgreSQL.

Claiming is one ``UPDATE ... RETURNING``: on PostgreSQL its subquery takes
the rows ``FOR UPDATE SKIP LOCKED``, so workers on any number of machines
each get other jobs without waiting on each other; on SQLite the claim runs
in an IMMEDIATE transaction, the database's one writer, so two runners
cannot both take a row. A claim holds a lease; a job whose lease ran out
(its worker died) is claimed again. Every attempt is counted when it is
claimed, so a job that kills its worker every time is still parked.

A job committed on PostgreSQL also notifies the channel ``portal_jobs``
(``pg_notify`` in the same statement, delivered by the database at commit,
so never before the job is visible): runners in other processes listening
there claim it at once instead of at their next poll.

Times come from Python (``now`` can be given), never from the database's
clock: the clocks of the app, the worker and the database may differ, and
tests move time forward to see retries and reminders.
"""

from __future__ import annotations

import contextlib
import functools
import json
import operator
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.query.functions.aggregate import Count

from portal.db import get_engine, open_transaction, sqlite_writer_turn
from portal.jobs import registry
from portal.jobs.tables import Job

QUEUED, RUNNING, FAILED, PARKED, DONE = "queued", "running", "failed", "parked", "done"
STATUSES = (QUEUED, RUNNING, FAILED, PARKED, DONE)
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
DONE_RETENTION = timedelta(days=7)
ERROR_LIMIT = 4000

_wakers: set[Any] = set()
CHANNEL = "portal_jobs"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ClaimedJob:
    id: UUID
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    tenant: UUID | None


@dataclass(frozen=True)
class JobRow:
    id: UUID
    kind: str
    status: str
    attempts: int
    max_attempts: int
    run_at: datetime
    last_error: str
    tenant: UUID | None
    created_at: datetime
    finished_at: datetime | None


@contextlib.asynccontextmanager
async def _transaction() -> AsyncIterator[None]:
    """Join the caller's transaction (an enqueue commits or rolls back with
    the change that caused it), or run the statement on its own."""
    engine = get_engine()
    if engine.current_transaction.get() is not None:
        yield
        return
    if isinstance(engine, PostgresEngine):
        # Each queue operation is one statement, atomic on its own (the job
        # table has no row-level policy to set up): BEGIN and COMMIT would
        # only add two round trips to every claim and every outcome.
        yield
        return
    turn = sqlite_writer_turn() if isinstance(engine, SQLiteEngine) else contextlib.nullcontext()
    async with turn, open_transaction(engine, writes=True):
        yield


async def enqueue(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    delay: timedelta | None = None,
    run_at: datetime | None = None,
    unique_key: str | None = None,
    tenant: UUID | None = None,
    max_attempts: int | None = None,
) -> UUID | None:
    """Queue a job of a registered ``kind``. Inside a transaction (a request,
    a service call) the job is written in it: it exists exactly when the
    change that asked for it was committed. With ``unique_key`` a second
    enqueue of the same key does nothing and returns None. ``payload`` is
    JSON (UUIDs, dates and Decimals are written as strings)."""
    handler = registry.handler_for(kind)
    job_id = uuid4()
    when = run_at or utcnow() + (delay or timedelta(0))
    body = json.dumps(payload or {}, default=str, ensure_ascii=False)
    insert = (
        "INSERT INTO job (id, kind, payload, status, run_at, attempts, max_attempts, worker, last_error,"
        " unique_key, tenant, created_at) VALUES ({}, {}, {}, 'queued', {}, 0, {}, '', '', {}, {}, {})"
        " ON CONFLICT DO NOTHING RETURNING id"
    )
    engine = get_engine()
    postgres = isinstance(engine, PostgresEngine)
    if postgres:
        # Only a row really inserted notifies; the database folds repeats
        # within one transaction into one notification.
        insert = f"WITH added AS ({insert}) SELECT id, pg_notify('{CHANNEL}', '') FROM added"  # noqa: S608 - constants, values are parameters
    # Inside a transaction on PostgreSQL the NOTIFY wakes every runner, this
    # process's too, at commit; waking now would claim before the job exists.
    wake_now = not (postgres and engine.current_transaction.get() is not None)
    async with _transaction():
        rows = await Job.raw(
            insert,
            job_id,
            kind,
            body,
            when,
            max_attempts or handler.max_attempts,
            unique_key,
            tenant,
            utcnow(),
        )
    if not rows:
        return None
    if wake_now:
        wake()
    return job_id


def wake() -> None:
    """Tell this process's runners that work may be waiting (they also poll,
    for work queued by other processes)."""
    for waker in list(_wakers):
        waker()


# No input in the text: every value is a parameter.
_CLAIM = (
    "UPDATE job SET status = 'running', attempts = attempts + 1, worker = {}, lease_until = {}"
    " WHERE id IN (SELECT id FROM job"
    " WHERE (status IN ('queued', 'failed') AND run_at <= {}) OR (status = 'running' AND lease_until < {})"
    " ORDER BY run_at LIMIT {}LOCK)"
    " RETURNING id, kind, payload, attempts, max_attempts, tenant"
)


def _claim_sql(postgres: bool) -> str:
    return _CLAIM.replace("LOCK", " FOR UPDATE SKIP LOCKED" if postgres else "")


async def claim(worker: str, limit: int, lease: timedelta, now: datetime | None = None) -> list[ClaimedJob]:
    """Take up to ``limit`` due jobs (or jobs whose lease ran out) for
    ``worker``, leased until ``now + lease``."""
    if limit <= 0:
        return []
    now = now or utcnow()
    postgres = isinstance(get_engine(), PostgresEngine)
    async with _transaction():
        rows = await Job.raw(_claim_sql(postgres), worker, now + lease, now, now, limit)
    return [
        ClaimedJob(
            id=_uuid(row["id"]),
            kind=row["kind"],
            payload=json.loads(row["payload"] or "{}"),
            attempts=int(row["attempts"]),
            max_attempts=int(row["max_attempts"]),
            tenant=_uuid(row["tenant"]) if row["tenant"] else None,
        )
        for row in rows
    ]


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


async def extend(job_ids: list[UUID], worker: str, until: datetime) -> None:
    """Keep the leases of jobs this worker still runs."""
    if not job_ids:
        return
    async with _transaction():
        await Job.update({Job.lease_until: until}).where(Job.id.is_in(job_ids) & (Job.worker == worker) & (Job.status == RUNNING))


async def complete(job: ClaimedJob, worker: str, now: datetime | None = None) -> bool:
    """Mark the job done; False when this worker no longer held it (its lease
    ran out and another worker took it)."""
    return job.id in await complete_all([job], worker, now)


async def complete_all(jobs: list[ClaimedJob], worker: str, now: datetime | None = None) -> set[UUID]:
    """Mark jobs done in one statement (a runner records the jobs that
    finished together at once); returns the ids this worker still held,
    each fenced by its own attempt."""
    if not jobs:
        return set()
    held = functools.reduce(operator.or_, [(Job.id == job.id) & (Job.attempts == job.attempts) for job in jobs])
    async with _transaction():
        rows = await (
            Job.update({Job.status: DONE, Job.finished_at: now or utcnow(), Job.lease_until: None, Job.last_error: ""})
            .where((Job.worker == worker) & (Job.status == RUNNING) & held)
            .returning(Job.id)
        )
    return {_uuid(row["id"]) for row in rows}


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, ... up to an hour, with a tenth of jitter so that
    jobs that failed together do not come back together."""
    seconds = min(BACKOFF_BASE.total_seconds() * 2 ** max(attempts - 1, 0), BACKOFF_CAP.total_seconds())
    return timedelta(seconds=seconds * random.uniform(1, 1.1))


async def fail(job: ClaimedJob, worker: str, error: str, now: datetime | None = None, *, retry_in: timedelta | None = None) -> str:
    """Record a failed attempt: tried again after a backoff (or after
    ``retry_in``, when the handler was told when to come back), or parked
    once ``max_attempts`` were made. Returns the new status."""
    now = now or utcnow()
    status = PARKED if job.attempts >= job.max_attempts else FAILED
    values: dict[Any, Any] = {Job.status: status, Job.last_error: error[:ERROR_LIMIT], Job.lease_until: None}
    if status == FAILED:
        values[Job.run_at] = now + (retry_in if retry_in is not None else backoff(job.attempts))
    else:
        values[Job.finished_at] = now
    async with _transaction():
        await Job.update(values).where(_held(job, worker))
    return status


def _held(job: ClaimedJob, worker: str) -> Any:
    # The attempt number fences: a worker whose lease ran out (and whose job
    # was claimed again) cannot record the newer attempt's outcome.
    return (Job.id == job.id) & (Job.worker == worker) & (Job.status == RUNNING) & (Job.attempts == job.attempts)


async def retry(job_id: UUID, now: datetime | None = None) -> bool:
    """An admin's retry of a parked or failed job: queued now, with its
    attempts counted from zero. False when there is no such job to retry."""
    async with _transaction():
        rows = await (
            Job.update({Job.status: QUEUED, Job.run_at: now or utcnow(), Job.attempts: 0, Job.finished_at: None})
            .where((Job.id == job_id) & Job.status.is_in([PARKED, FAILED]))
            .returning(Job.id)
        )
    if rows:
        wake()
    return bool(rows)


_ROW_COLUMNS = (
    Job.id,
    Job.kind,
    Job.status,
    Job.attempts,
    Job.max_attempts,
    Job.run_at,
    Job.last_error,
    Job.tenant,
    Job.created_at,
    Job.finished_at,
)


async def get_job(job_id: UUID) -> JobRow | None:
    async with _transaction():
        row = await Job.select(*_ROW_COLUMNS).where(Job.id == job_id).first()
    return JobRow(**row) if row else None


async def list_jobs(statuses: list[str] | None = None, limit: int = 100, tenant: UUID | None = None) -> list[JobRow]:
    """Jobs, newest first; by default everything but done ones; with
    ``tenant``, only that tenant's."""
    async with _transaction():
        query = Job.select(*_ROW_COLUMNS).where(Job.status.is_in(statuses or [QUEUED, RUNNING, FAILED, PARKED]))
        if tenant is not None:
            query = query.where(Job.tenant == tenant)
        rows = await query.order_by(Job.created_at, ascending=False).limit(limit)
    return [JobRow(**row) for row in rows]


async def counts() -> dict[str, int]:
    async with _transaction():
        rows = await Job.select(Job.status, Count(Job.id, alias="n")).group_by(Job.status)
    found = {row["status"]: int(row["n"]) for row in rows}
    return {status: found.get(status, 0) for status in STATUSES}


async def offer_periodic(now: datetime | None = None) -> int:
    """Enqueue each periodic job for its current slot unless some runner
    already did (the slot is the job's unique key); returns how many this
    call added."""
    now = now or utcnow()
    added = 0
    for periodic in registry.PERIODIC.values():
        seconds = periodic.interval.total_seconds()
        slot = int(now.timestamp() // seconds)
        start = datetime.fromtimestamp(slot * seconds, UTC)
        job = await enqueue(periodic.kind, {"slot": slot}, run_at=start, unique_key=f"{periodic.kind}:{slot}")
        added += job is not None
    return added


async def prune_job(payload: dict[str, Any]) -> None:
    """Periodic: forget done jobs after a week (parked ones stay until an
    admin looks at them)."""
    async with _transaction():
        await Job.delete().where((Job.status == DONE) & (Job.finished_at < utcnow() - DONE_RETENTION))
