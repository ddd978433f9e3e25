"""Jobs that earlier tests left in this process's database.

The tests of one xdist worker share its database, and a test's queued jobs
outlive it: emails to an SMTP server that is gone, previews of its
documents, retries with backoff. A test that runs every due job (the inline
``run_due_jobs()``, a claim of up to 100) would run those too: behind them
its own job starts minutes late on a loaded machine, and a retry of its own
comes due in the middle of one sweep. Tests that count attempts or wait for
a child process set them aside first.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.jobs.queue import FAILED, QUEUED, RUNNING
from portal.jobs.tables import Job
from tenants.context import system_scope

# Past any clock a test moves forward: such jobs are never due again.
NEVER = datetime(9000, 1, 1, tzinfo=UTC)


async def set_aside_earlier_jobs() -> None:
    async with system_scope("test-set-aside-jobs"):
        await Job.update({Job.run_at: NEVER}).where(Job.status.is_in([QUEUED, FAILED]))
        # A claim that ran out is taken again like a due job.
        await Job.update({Job.lease_until: NEVER}).where(Job.status == RUNNING)


@pytest.fixture(autouse=True)
def own_jobs_only(request: pytest.FixtureRequest) -> None:
    """For a folder whose tests count attempts or wait for their own job
    (imported by its conftest): earlier tests' jobs do not run beside them."""
    if "client" in request.fixturenames or "run" in request.fixturenames:
        request.getfixturevalue("run")(set_aside_earlier_jobs)
