"""The job queue on the suite's database (SQLite, then PostgreSQL): run
once, retried with backoff, parked with the last error, retried by an
admin, never lost with a rollback, unique keys and periodic slots once per
cluster, and real worker processes that share, crash and stop."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from portal.jobs import enqueue
from portal.jobs.queue import DONE, FAILED, PARKED, QUEUED, RUNNING, claim, complete_all, offer_periodic, retry
from portal.jobs.runner import run_due_jobs
from tests.integration.jobs.conftest import ROOT, job, wait_until


def record(effects: Path, key: str, **extra: Any) -> dict[str, Any]:
    return {"dir": str(effects), "key": key, **extra}


def effect_lines(effects: Path) -> list[str]:
    log = effects / "effects.log"
    return log.read_text().splitlines() if log.exists() else []


def test_a_queued_job_runs_once_and_is_done(run: Any, effects: Path) -> None:
    job_id = run(lambda: enqueue("test.record", record(effects, "a")))
    assert job(run, job_id).status == QUEUED
    run(run_due_jobs)
    assert job(run, job_id).status == DONE
    assert job(run, job_id).attempts == 1
    run(run_due_jobs)
    assert [line.split()[0] for line in effect_lines(effects)] == ["a"]


def test_jobs_finished_together_are_recorded_in_one_go_each_only_for_the_attempt_its_worker_holds(run: Any, effects: Path) -> None:
    first = run(lambda: enqueue("test.record", record(effects, "p"), run_at=datetime.now(UTC) - timedelta(seconds=2)))
    second = run(lambda: enqueue("test.record", record(effects, "q"), run_at=datetime.now(UTC) - timedelta(seconds=1)))
    now = datetime.now(UTC)
    held = run(lambda: claim("runner-a", 2, timedelta(seconds=60), now=now))
    assert {item.id for item in held} == {first, second}
    # runner-a stalls past its lease; runner-b takes the older job again.
    [taken] = run(lambda: claim("runner-b", 1, timedelta(seconds=60), now=now + timedelta(minutes=2)))
    assert (taken.id, taken.attempts) == (first, 2)

    # runner-a's late outcomes: only the job it still holds is recorded.
    assert run(lambda: complete_all(held, "runner-a")) == {second}
    assert job(run, second).status == DONE
    assert (job(run, first).status, job(run, first).attempts) == (RUNNING, 2)
    assert run(lambda: complete_all([taken], "runner-b")) == {first}
    assert job(run, first).status == DONE


def test_a_failing_job_backs_off_then_is_parked_with_its_error_and_an_admin_retries_it(run: Any, effects: Path) -> None:
    job_id = run(lambda: enqueue("test.record", record(effects, "b", fail=5)))
    run(run_due_jobs)
    first = job(run, job_id)
    assert (first.status, first.attempts) == (FAILED, 1)
    assert "refused attempt 1 of b" in first.last_error
    # Not due again before its backoff (10 s and more) has passed.
    assert run(lambda: run_due_jobs(datetime.now(UTC) + timedelta(seconds=5))) == {}
    later = datetime.now(UTC) + timedelta(minutes=2)
    run(lambda: run_due_jobs(later))
    assert job(run, job_id).attempts == 2
    run(lambda: run_due_jobs(later + timedelta(minutes=5)))
    parked = job(run, job_id)
    assert (parked.status, parked.attempts) == (PARKED, 3)  # test.record allows three attempts
    assert "refused attempt 3 of b" in parked.last_error
    assert effect_lines(effects) == []

    env = {**os.environ}
    listing = subprocess.run([sys.executable, "-m", "portal", "jobs", "parked"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    assert str(job_id) in listing.stdout
    assert "refused attempt 3 of b" in listing.stdout
    again = subprocess.run(
        [sys.executable, "-m", "portal", "jobs", "retry", str(job_id)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert (job(run, job_id).status, job(run, job_id).attempts) == (QUEUED, 0)
    missing = subprocess.run(
        [sys.executable, "-m", "portal", "jobs", "retry", str(uuid4())], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert missing.returncode == 1
    assert "no parked or failed job" in missing.stderr


def test_a_job_enqueued_in_a_transaction_that_rolls_back_does_not_exist(run: Any, effects: Path) -> None:
    from portal.db import get_engine, open_transaction
    from portal.jobs.queue import get_job

    class Undone(Exception):
        pass

    async def enqueue_then_fail() -> Any:
        ids = []
        try:
            async with open_transaction(get_engine(), writes=True):
                ids.append(await enqueue("test.record", record(effects, "c")))
                raise Undone
        except Undone:
            pass
        return await get_job(ids[0])

    assert run(enqueue_then_fail) is None
    run(run_due_jobs)
    assert effect_lines(effects) == []


def test_a_unique_key_is_queued_once(run: Any, effects: Path) -> None:
    key = f"once-{uuid4()}"
    first = run(lambda: enqueue("test.record", record(effects, "d"), unique_key=key))
    second = run(lambda: enqueue("test.record", record(effects, "d2"), unique_key=key))
    assert first is not None
    assert second is None
    run(run_due_jobs)
    assert [line.split()[0] for line in effect_lines(effects)] == ["d"]


def test_a_periodic_job_is_offered_once_per_slot_however_many_runners_offer_it(run: Any) -> None:
    from portal.jobs.queue import list_jobs

    # A moment in the future no other test offers: one slot of every periodic job.
    moment = datetime(2031, 1, 1, 12, 0, 30, tzinfo=UTC)
    added = [run(lambda: offer_periodic(moment)) for _ in range(3)]
    assert added[0] >= 3
    assert added[1:] == [0, 0]
    slot_jobs = [row for row in run(lambda: list_jobs([QUEUED], 10000)) if row.kind.startswith("periodic:") and row.run_at.year == 2031]
    assert sorted(row.kind for row in slot_jobs) == sorted({row.kind for row in slot_jobs})
    assert {"periodic:audit.checkpoint", "periodic:jobs.prune"} <= {row.kind for row in slot_jobs}


def test_two_workers_share_the_queue_and_never_run_the_same_job(run: Any, effects: Path, workers: Any) -> None:
    keys = [f"e{n}" for n in range(24)]

    async def enqueue_all() -> None:
        for key in keys:
            await enqueue("test.record", record(effects, key))

    first, second = workers(concurrency=3), workers(concurrency=3)
    run(enqueue_all)
    # Two interpreters start and share one database with the rest of a loaded
    # suite: the time allowed is for the slowest machine, not the 30 s of the
    # other waits.
    wait_until(lambda: len(effect_lines(effects)) == len(keys), timeout=120, what="every job's effect")
    # Every job started exactly once: one attempt file each, none twice.
    attempts = sorted(path.name for path in effects.glob("*.attempt.*"))
    assert attempts == sorted(f"{key}.attempt.1" for key in keys)
    ran_in = {line.split()[1] for line in effect_lines(effects)}
    assert ran_in <= {str(first.pid), str(second.pid)}


def test_a_worker_killed_in_the_middle_of_a_job_leaves_it_to_run_again_with_its_effect_once(run: Any, effects: Path, workers: Any) -> None:
    # The job stops after its effect's first half: started, effect not yet written.
    job_id = run(lambda: enqueue("test.record", record(effects, "f", hold=True)))
    doomed = workers(concurrency=1)
    wait_until(lambda: (effects / "f.attempt.1").exists(), what="the first attempt to start")
    doomed.kill()
    assert job(run, job_id).status == "running"
    # Its lease runs out (a minute); then any runner takes it again.
    (effects / "f.release").write_text("go")
    run(lambda: run_due_jobs(datetime.now(UTC) + timedelta(minutes=2)))
    done = job(run, job_id)
    assert (done.status, done.attempts) == (DONE, 2)
    assert [line.split()[0] for line in effect_lines(effects)] == ["f"]


def test_sigterm_lets_the_running_job_finish_before_the_worker_exits(run: Any, effects: Path, workers: Any) -> None:
    job_id = run(lambda: enqueue("test.record", record(effects, "g", hold=True)))
    worker = workers(concurrency=1)
    wait_until(lambda: (effects / "g.attempt.1").exists(), what="the job to start")
    worker.process.send_signal(15)
    # Still running the job: it has not exited and the job is its.
    assert worker.process.poll() is None
    (effects / "g.release").write_text("go")
    assert worker.process.wait(timeout=60) == 0
    assert job(run, job_id).status == DONE
    assert [line.split()[0] for line in effect_lines(effects)] == ["g"]


def test_retry_refuses_a_job_that_is_not_parked_or_failed(run: Any, effects: Path) -> None:
    job_id = run(lambda: enqueue("test.record", record(effects, "h")))
    assert run(lambda: retry(job_id)) is False
    run(run_due_jobs)
    assert run(lambda: retry(job_id)) is False
