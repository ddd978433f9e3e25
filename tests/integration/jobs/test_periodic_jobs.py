"""The built-in periodic jobs do their work when the queue runs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from portal.jobs.queue import offer_periodic
from portal.jobs.runner import run_due_jobs
from tests.support.factories import make_world


def test_the_hourly_audit_checkpoint_job_signs_a_new_tenants_chain_head(run: Any) -> None:
    from portal.audit.checkpoints import newest_checkpoint
    from portal.audit.keys import key_ring
    from portal.documents.storage import process_storage

    world = run(make_world, "ckpt")
    assert run(lambda: newest_checkpoint(process_storage(), world.tenant_id, key_ring())).checkpoint is None
    # A slot of its own, a day ahead: no other runner has offered it yet.
    moment = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1, minutes=uuid4().int % 50)
    assert run(lambda: offer_periodic(moment)) >= 1
    # Every job due by then runs first, in order: the worker database holds
    # what the earlier tests left (retries of deliveries to closed ports,
    # notifications), over a thousand in the suite, which used up
    # run_due_jobs' default limit before the checkpoint was reached.
    run(lambda: run_due_jobs(moment, limit=100_000))
    found = run(lambda: newest_checkpoint(process_storage(), world.tenant_id, key_ring())).checkpoint
    assert found is not None
    assert found.seq >= 1
