"""The job table: durable work outside a request."""

from __future__ import annotations

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Job(Table):
    """One unit of background work.

    ``status``: queued (waits for ``run_at``), running (a worker holds it
    until ``lease_until``), failed (an attempt failed; waits for ``run_at``
    to try again), parked (gave up after ``max_attempts``; an admin retries
    it), done. ``unique_key`` makes an enqueue idempotent: a periodic job's
    slot, or an effect that must be asked for once. Not tenant data: no RLS;
    ``tenant`` only says whose work it is, for listings."""

    id = UUID(primary_key=True)
    kind = Varchar(length=100)
    payload = Text(default="{}")
    status = Varchar(length=10, default="queued")
    run_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    max_attempts = Integer(default=8)
    lease_until = Timestamptz(null=True, default=None)
    worker = Varchar(length=100, default="")
    last_error = Text(default="")
    unique_key = Varchar(length=200, null=True, default=None)
    tenant = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


TABLES = (Job,)
