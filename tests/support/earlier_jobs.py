"""Jobs that earlier tests left in this process's database.

The tests of one xdist worker share its database, and a test's queued jobs
outlive it: emails to an SMTP server that is gone, previews of its
documents, retries with backoff. A test that runs every due job (the inline
``run_due_jobs()``, a claim of up to 100) would run those too: behind them
its own job starts minutes late on a loaded machine, and a retry of its own
comes due in the middle of one sweep. Tests that count attempts, wait for a
child process or look for queued jobs remove them first: their tests have
ended, and nothing they were for is looked at again.
"""

from __future__ import annotations

import pytest

from portal.jobs.queue import FAILED, QUEUED, RUNNING
from portal.jobs.tables import Job
from tenants.context import system_scope


async def remove_earlier_jobs() -> None:
    async with system_scope("test-remove-earlier-jobs"):
        # Running too: a claim that ran out is taken again like a due job.
        await Job.delete().where(Job.status.is_in([QUEUED, FAILED, RUNNING]))


@pytest.fixture(autouse=True)
def own_jobs_only(request: pytest.FixtureRequest) -> None:
    """For a folder whose tests count attempts or wait for their own job
    (imported by its conftest): earlier tests' jobs do not run beside them."""
    if "client" in request.fixturenames or "run" in request.fixturenames:
        request.getfixturevalue("run")(remove_earlier_jobs)
