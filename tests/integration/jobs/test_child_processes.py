"""CPU-bound handlers run in child processes of the runner: the runner's
event loop (the serving process's, in the embedded default) stays free
while one holds its thread; errors, deaths and overruns of a child are
recorded as failed attempts (parked here: one attempt allowed, so that
no retry of them meets a later test's claim) and the next job gets a working child."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from portal.jobs import enqueue, queue
from portal.jobs.children import GRACE_SECONDS, ChildJobFailed, ChildPool
from portal.jobs.queue import DONE, FAILED, PARKED
from portal.jobs.runner import Runner, run_due_jobs
from tests.integration.jobs.conftest import job

# A spawned child imports the app before its first job: generous on a loaded
# machine (one took 124 s in a CI run with both database phases going).
START_SECONDS = 300.0


async def _appears(path: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not await asyncio.to_thread(path.exists):
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared")
        await asyncio.sleep(0.05)


# Nothing renews these claims (the runner's loop is not running): they must
# outlast a child's start, or the test's own inline run_due_jobs() would
# claim the blocked job again and hold this loop until the release it waits
# to write.
CLAIM = timedelta(seconds=START_SECONDS * 3)


def _runner(grace: float = GRACE_SECONDS) -> Runner:
    """A runner with children at the parent's priority: at the production
    niceness they starved behind the suite's other phase (no child started
    within 300 s in a CI run)."""
    runner = Runner(children=True)
    runner.children = ChildPool(grace=grace, niceness=0)
    return runner


async def _run_due_in_children(runner: Runner) -> list[asyncio.Task[str]]:
    """Claim every due job for ``runner`` and start each in a task."""
    jobs = await queue.claim(runner.name, 100, CLAIM)
    # Only this test's: earlier tests' previews and PDFs, claimed with it,
    # once held both children past START_SECONDS (own_jobs_only removes them).
    assert [job.kind for job in jobs if not job.kind.startswith("test.")] == []
    return [asyncio.create_task(runner.execute(claimed)) for claimed in jobs]


def test_a_cpu_bound_job_runs_in_a_child_while_the_runners_loop_runs_other_jobs(run: Any, effects: Path) -> None:
    async def scenario() -> tuple[str, str]:
        runner = _runner()
        try:
            heavy = await enqueue("test.heavy", {"dir": str(effects), "key": "heavy", "block": True})
            tasks = await _run_due_in_children(runner)
            await _appears(effects / "heavy.attempt.1")
            # The heavy job holds its thread without yielding; were it on
            # this loop, nothing below could run until it was released.
            light_id = await enqueue("test.record", {"dir": str(effects), "key": "light"})
            # Whatever else is due in this database runs too; only ours is looked at.
            await run_due_jobs()
            (effects / "heavy.release").touch()
            await asyncio.gather(*tasks)
            assert heavy is not None
            assert light_id is not None
            heavy_row, light_row = await queue.get_job(heavy), await queue.get_job(light_id)
            assert heavy_row is not None
            assert light_row is not None
            return heavy_row.status, light_row.status
        finally:
            await runner.close()

    status, light = run(scenario)
    assert status == DONE
    assert light == DONE
    by_key = dict(line.split() for line in (effects / "effects.log").read_text().splitlines())
    assert set(by_key) == {"heavy", "light"}
    assert by_key["light"] == str(os.getpid())
    assert by_key["heavy"] != str(os.getpid())


def test_a_child_that_raises_or_dies_fails_the_attempt_and_the_next_job_gets_a_new_child(run: Any, effects: Path) -> None:
    async def scenario() -> tuple[Any, ...]:
        runner = _runner()
        try:
            refused = await enqueue("test.heavy", {"dir": str(effects), "key": "refused", "fail": 1}, max_attempts=1)
            await asyncio.gather(*await _run_due_in_children(runner))
            died = await enqueue("test.heavy", {"dir": str(effects), "key": "died", "exit": 1}, max_attempts=1)
            await asyncio.gather(*await _run_due_in_children(runner))
            later = await enqueue("test.heavy", {"dir": str(effects), "key": "later", "retry_after": 3600}, max_attempts=2)
            await asyncio.gather(*await _run_due_in_children(runner))
            after = await enqueue("test.heavy", {"dir": str(effects), "key": "after"})
            await asyncio.gather(*await _run_due_in_children(runner))
            return refused, died, later, after
        finally:
            await runner.close()

    refused, died, later, after = run(scenario)
    # The handler's RetryLater crosses from the child: its delay, not the backoff.
    waiting = job(run, later)
    assert (waiting.status, waiting.last_error) == (FAILED, "portal.jobs.retry.RetryLater: busy: later")
    assert waiting.run_at - datetime.now(UTC) > timedelta(minutes=50)
    refusal = "tests.support.job_handlers.Refused: refused attempt 1 of refused"
    assert (job(run, refused).status, job(run, refused).last_error) == (PARKED, refusal)
    assert (job(run, died).status, job(run, died).last_error) == (PARKED, "child process died")
    assert job(run, after).status == DONE
    assert (effects / "after.effect").exists()


def test_a_child_that_overruns_its_timeout_is_stopped_and_the_attempt_counts_as_timed_out(run: Any, effects: Path) -> None:
    async def scenario() -> tuple[Any, ...]:
        runner = _runner(grace=0.5)
        try:
            # Awaiting: cancelled at the timeout inside the child.
            waiting = await enqueue("test.heavy_brief", {"dir": str(effects), "key": "waiting", "hold": True}, max_attempts=1)
            await asyncio.gather(*await _run_due_in_children(runner))
            (effects / "waiting.release").touch()
            # Holding its thread: nothing in the child can cancel it, the
            # alarm ends the child.
            blocking = await enqueue("test.heavy_brief", {"dir": str(effects), "key": "blocking", "block": True}, max_attempts=1)
            await asyncio.gather(*await _run_due_in_children(runner))
            after = await enqueue("test.heavy", {"dir": str(effects), "key": "after"})
            await asyncio.gather(*await _run_due_in_children(runner))
            return waiting, blocking, after
        finally:
            await runner.close()

    waiting, blocking, after = run(scenario)
    assert (job(run, waiting).status, job(run, waiting).last_error) == (PARKED, "timed out")
    assert (job(run, blocking).status, job(run, blocking).last_error) == (PARKED, "timed out (child process stopped)")
    assert job(run, after).status == DONE
    assert not (effects / "waiting.effect").exists()
    assert not (effects / "blocking.effect").exists()


def test_a_child_started_while_the_database_is_out_of_reach_fails_its_job_not_the_pool(effects: Path, monkeypatch: Any, capfd: Any) -> None:
    # A port nobody listens on: the child inherits this environment when it
    # is spawned, as children of a runner do during a database outage.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"postgresql://portal@127.0.0.1:{port}/portal")
    monkeypatch.setenv("PORTAL_JOB_MODULES", "tests.support.job_handlers")
    pool = ChildPool(size=1, niceness=0)

    async def attempt(key: str) -> str:
        try:
            await pool.run("tests.support.job_handlers:heavy", {"dir": str(effects), "key": key}, START_SECONDS)
        except ChildJobFailed as failed:
            return failed.description
        return "done"

    async def scenario() -> tuple[str, str]:
        return await attempt("first"), await attempt("second")

    try:
        first, second = asyncio.run(scenario())
    finally:
        pool.shutdown()
    # Each job fails on the database it could not reach, in the same child:
    # the pool is not broken, and nothing wrote a traceback to the log.
    assert "Connect" in first, first
    assert "Connect" in second, second
    assert not (effects / "first.effect").exists()
    assert "Traceback" not in capfd.readouterr().err


# A runner's process with one child that has run a job, then waits.
ORPHANING_PARENT = """
import asyncio, sys
from portal.jobs.children import ChildPool

async def main():
    pool = ChildPool(size=1, niceness=0)
    await pool.run("tests.support.job_handlers:heavy", {"dir": sys.argv[1], "key": "child"}, 300)
    print("ran", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    """Running or sleeping; a zombie nobody reaped has ended."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _runner_process(script: str, effects: Path) -> subprocess.Popen[bytes]:
    """A runner of its own, to kill outright: ``script`` run with the test handlers."""
    return subprocess.Popen(
        [sys.executable, "-c", script, str(effects)],
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "PORTAL_JOB_MODULES": "tests.support.job_handlers"},
        stdout=subprocess.PIPE,
    )


def _ended_within(child: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(child)


def test_a_child_whose_parent_was_killed_outright_ends_itself(effects: Path) -> None:
    parent = _runner_process(ORPHANING_PARENT, effects)
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline() == b"ran\n"
        child = int((effects / "child.effect").read_text())
        assert child != parent.pid
        assert _alive(child)
    finally:
        # SIGKILL: no shutdown of the pool, no chance to stop the children.
        parent.kill()
        parent.wait()
    assert _ended_within(child, 30), f"child {child} outlived its parent by 30 s"


# A runner that spawns a child and is killed before the child starts: the
# child begins its start (the pool's initializer) only once orphaned.
LATE_STARTING_PARENT = """
import multiprocessing, os, time

def start_when_orphaned(runner):
    while os.getppid() == runner:
        time.sleep(0.05)
    from portal.jobs.children import _child_started
    _child_started(0, runner)
    time.sleep(60)

if __name__ == "__main__":
    child = multiprocessing.get_context("fork").Process(target=start_when_orphaned, args=(os.getpid(),))
    child.start()
    print(child.pid, flush=True)
    time.sleep(3600)
"""


def test_a_child_whose_runner_died_before_it_started_ends_itself(effects: Path) -> None:
    """A replacement child may be spawned just as its runner is killed. Had
    it asked getppid() when starting, it would have watched init (pid 1),
    which never goes away: such children outlived CI runs, holding a deleted
    test database. The runner gives its own pid."""
    runner = _runner_process(LATE_STARTING_PARENT, effects)
    try:
        assert runner.stdout is not None
        child = int(runner.stdout.readline())
        assert _alive(child)
    finally:
        runner.kill()
        runner.wait()
    assert _ended_within(child, 30), f"child {child} outlived its runner by 30 s"
