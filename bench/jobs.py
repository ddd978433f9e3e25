"""The job queue on PostgreSQL: jobs per second with one and two
``portal worker`` processes, and the delay from an event to its email
reaching an SMTP server, each printed beside a floor measured in the same
run and the budget.

    .venv/bin/python bench/jobs.py                  # 1,000 jobs per run, 8 s of events at 50/s
    .venv/bin/python bench/jobs.py --jobs 500 --seconds 3    # a quick run

A throwaway PostgreSQL cluster (tests/support/postgres.py), migrated as the
owner; workers connect as the unprivileged app role, as in production.

- Throughput: ``--jobs`` no-op jobs (``bench.noop``) queued at once, then
  1 and then 2 workers (``--concurrency`` each) run them; jobs per second
  from the first claim to the last completion. Floor: the same number of
  jobs taken through the two statements a job costs at least (claim,
  complete), one after another on one connection, with no queue logic.
- Delay: a real ``emit("order.issued")`` every 1/``--rate`` s for
  ``--seconds`` s, each to one supplier user; two workers (started, and
  warmed up by 20 untimed events, as running workers are) run the dispatch
  and the mail jobs against a local aiosmtpd server; delay = the moment the
  server took the message minus the moment the event was committed. Floor:
  ``send_email`` straight to the same server (no queue). Budget: p95 under
  2 s at 50 events/s. The workers run with the default poll interval (what
  production runs), so the figure includes how fast a worker hears of a job
  queued by another process (``NOTIFY portal_jobs``). The delay is split
  into its stages from the job rows: event -> dispatch job done, dispatch
  done -> mail job done (claim, render, SMTP), mail done -> arrival.

It prints figures and never asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET_P95_SECONDS = 2.0


async def noop(payload: dict[str, Any]) -> None:
    """The ``bench.noop`` job: nothing, so the queue's own cost shows."""


def _register() -> None:
    from datetime import timedelta

    from portal.jobs.registry import Handler, register

    register(Handler("bench.noop", "bench.jobs:noop", timeout=timedelta(seconds=30)))


if __name__ != "__main__":
    # Imported by a worker through PORTAL_JOB_MODULES=bench.jobs.
    _register()


def _workers(count: int, concurrency: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "portal", "worker", "--concurrency", str(concurrency)]
    return [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=60)


async def _count(status: str, kind: str | None = None) -> int:
    from portal.jobs.queue import _transaction
    from portal.jobs.tables import Job

    async with _transaction():
        query = Job.count().where(Job.status == status)
        if kind:
            query = query.where(Job.kind == kind)
        return int(await query)


async def _queue_noops(n: int) -> None:
    from portal.db import get_engine
    from portal.jobs import enqueue

    for start in range(0, n, 500):
        async with get_engine().transaction():
            for _ in range(min(500, n - start)):
                await enqueue("bench.noop")


async def _wait_for(target: int) -> None:
    # Polls the table the workers write: there is no event to await across processes.
    while await _count("done", "bench.noop") < target:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def _throughput(n: int, workers: int, concurrency: int, env: dict[str, str], done_before: int) -> float:
    """Workers started and warmed up first (one job each), then ``n`` jobs
    queued at once; from the queueing to the last completion."""
    processes = _workers(workers, concurrency, env)
    try:
        await _queue_noops(workers)
        await _wait_for(done_before + workers)
        started = time.perf_counter()
        await _queue_noops(n)
        await _wait_for(done_before + workers + n)
        elapsed = time.perf_counter() - started
    finally:
        _stop(processes)
    return n / elapsed


async def _floor_throughput(n: int) -> float:
    """Two statements per job on one connection: the least a job costs."""
    from portal.db import get_engine

    engine: Any = get_engine()
    connection = await engine.get_new_connection()
    try:
        ids = [row["id"] for row in await connection.fetch("SELECT id FROM job WHERE kind = 'bench.noop' LIMIT $1", n)]
        started = time.perf_counter()
        for job_id in ids:
            await connection.execute("UPDATE job SET worker = 'floor', lease_until = now() WHERE id = $1", job_id)
            await connection.execute("UPDATE job SET finished_at = now() WHERE id = $1", job_id)
        return len(ids) / (time.perf_counter() - started)
    finally:
        await connection.close()


async def _world() -> tuple[Any, Any]:
    from tenants.context import operator_context, system_scope
    from tenants.tables import Tenant
    from tests.support.factories import make_world

    world = await make_world("bench")
    async with system_scope("bench"):
        tenant = await Tenant.objects().where(Tenant.id == world.tenant_id).first()
    return world, operator_context(tenant, "bench")


async def _stages(emitted: dict[str, float]) -> dict[str, list[float]]:
    """Per event number: when its dispatch job and its mail job finished."""
    import json

    from portal.jobs.tables import Job
    from tenants.context import system_scope

    async with system_scope("bench"):
        rows = await Job.select(Job.kind, Job.payload, Job.finished_at).where(
            Job.kind.is_in(["notifications.dispatch", "mail.send"]) & (Job.status == "done")
        )
    dispatched: dict[str, float] = {}
    mailed: dict[str, float] = {}
    for row in rows:
        payload = json.loads(row["payload"])
        if row["kind"] == "notifications.dispatch":
            number = (payload.get("params") or {}).get("number", "")
            dispatched[number] = row["finished_at"].timestamp()
        else:
            for word in str(payload.get("subject", "")).split():
                if word.startswith("B-"):
                    mailed[word] = row["finished_at"].timestamp()
    stages: dict[str, list[float]] = {"event -> dispatch done": [], "dispatch done -> mail done": []}
    for number, at in emitted.items():
        if number in dispatched and number in mailed:
            stages["event -> dispatch done"].append(dispatched[number] - at)
            stages["dispatch done -> mail done"].append(mailed[number] - dispatched[number])
    return stages


async def _floor_delays(smtp: Any) -> list[float]:
    """Floor: ``send_email`` straight to the SMTP server, no queue."""
    from portal.notifications.mail import Email, send_email
    from portal.settings import get_settings

    floor = []
    direct = dataclasses.replace(get_settings(), smtp_url=smtp.url)
    for i in range(20):
        sent = time.time()
        await send_email(Email(to="floor@bench.example", subject=f"floor {i}", text="."), direct)
        floor.append(smtp.arrivals[f"floor {i}"] - sent)
    return floor


@dataclasses.dataclass
class DelayRun:
    workers: int
    sent: int
    delays: list[float]
    stages: dict[str, list[float]]
    # User + system CPU per delivered event: of the worker processes, of PostgreSQL.
    cpu_per_event: float
    postgres_cpu_per_event: float
    load: float


async def _delays(
    world: Any, context: Any, workers: int, rate: float, seconds: float, env: dict[str, str], smtp: Any, data: Path
) -> DelayRun:
    from portal.notifications.services import emit
    from tenants.context import tenant_scope

    supplier = world.supplier_ids[0]
    admin = world.accounts["supplier_admin"].user_id
    processes = _workers(workers, 8, env)
    emitted: dict[str, float] = {}
    try:
        await _warm_up(context, supplier, admin, smtp, f"W-{workers}")
        cpu_before, postgres_before = _cpu_seconds(processes), _postgres_cpu(data)
        count = int(rate * seconds)
        started = time.perf_counter()
        for i in range(count):
            number = f"B-{workers}-{i:05d}"
            async with tenant_scope(context):
                await emit("order.issued", supplier=supplier, users=[admin], params={"number": number, "buyer": "bench"})
            emitted[number] = time.time()
            pause = started + (i + 1) / rate - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
        deadline = time.time() + 120
        # The SMTP server runs in a thread of its own: poll what it recorded.
        while len([key for key in emitted if key in smtp.numbers]) < count and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        # Idle polling and heartbeats add a little after the last arrival: read now.
        worker_cpu, postgres_cpu = _cpu_seconds(processes) - cpu_before, _postgres_cpu(data) - postgres_before
        load = os.getloadavg()[0]
    finally:
        _stop(processes)
    delays = [smtp.numbers[number] - at for number, at in emitted.items() if number in smtp.numbers]
    delivered = max(len(delays), 1)
    return DelayRun(workers, count, delays, await _stages(emitted), worker_cpu / delivered, postgres_cpu / delivered, load)


def _cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> float:
    """User and system CPU time the worker processes used so far (Linux
    /proc): a figure the machine's load changes far less than the delays."""
    return sum(_process_cpu(process.pid) for process in processes)


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0.0
    # utime and stime are the 14th and 15th fields; the split starts at the 3rd.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu(data: Path) -> float:
    """CPU time of the cluster's postmaster and its children (the backends
    serving the workers stay connected through a run, so their counters
    cover it): the statements a job costs show here."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    total = _process_cpu(postmaster)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


WARM_UP_EVENTS = 20


async def _warm_up(context: Any, supplier: Any, admin: Any, smtp: Any, prefix: str) -> None:
    """Until a few untimed events went all the way through: the workers
    have started and imported what the first dispatch imports (push, chat,
    webhooks), as a worker that has been running for a while has. Without
    this the first timed events waited for interpreter start-up, which on a
    machine without a bytecode cache (PYTHONDONTWRITEBYTECODE) is seconds of
    compiling per worker."""
    from portal.notifications.services import emit
    from tenants.context import tenant_scope

    numbers = [f"{prefix}-{i:05d}" for i in range(WARM_UP_EVENTS)]
    for number in numbers:
        async with tenant_scope(context):
            await emit("order.issued", supplier=supplier, users=[admin], params={"number": number, "buyer": "bench"})
    deadline = time.time() + 180
    # The SMTP server runs in a thread of its own: poll what it recorded.
    while not all(number in smtp.numbers for number in numbers):
        if time.time() > deadline:
            raise SystemExit("the workers did not deliver the warm-up events within 3 minutes")
        await asyncio.sleep(0.1)


class _Smtp:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        from tests.support.ports import free_port

        self.arrivals: dict[str, float] = {}
        self.numbers: dict[str, float] = {}
        smtp = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                from email import policy
                from email.parser import BytesParser

                message = BytesParser(policy=policy.default).parsebytes(envelope.content)
                subject = str(message["Subject"])
                now = time.time()
                smtp.arrivals[subject] = now
                for word in subject.split():
                    if word.startswith(("B-", "W-")):
                        smtp.numbers[word] = now
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.url = f"smtp://127.0.0.1:{self.port}"


def _quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()

    import logging

    from portal.logs import configure_logging

    # The figures, not one log line per email this process sends.
    configure_logging(json=False, level=logging.WARNING)

    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster.start()
    var = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    smtp = _Smtp()
    smtp.controller.start()
    try:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
        env.update(
            PORTAL_VAR_DIR=str(var),
            PORTAL_STORAGE_URL=f"file://{var}/blobs",
            PORTAL_DATABASE_URL=cluster.app_url,
            PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url,
            PORTAL_SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
            PORTAL_PASSWORD_HASH="cheap",
            PORTAL_JOB_MODULES="bench.jobs",
            PORTAL_SMTP_URL=smtp.url,
        )
        subprocess.run([sys.executable, "-m", "portal", "migrate"], check=True, capture_output=True, cwd=ROOT, env=env)
        os.environ.update(env)
        _register()

        async def run() -> None:
            from portal.db import get_engine, start_engine, stop_engine

            engine = get_engine()
            await start_engine(engine)
            try:
                one = await _throughput(args.jobs, 1, args.concurrency, env, 0)
                two = await _throughput(args.jobs, 2, args.concurrency, env, args.jobs + 1)
                floor = await _floor_throughput(args.jobs)
                print(f"jobs/s through the queue ({args.jobs} no-op jobs, --concurrency {args.concurrency} per worker)")
                print(f"  1 worker   {one:8.0f} jobs/s")
                print(f"  2 workers  {two:8.0f} jobs/s")
                print(f"  floor      {floor:8.0f} jobs/s   (claim + complete statements alone, one connection, no queue)")
                print(f"  machine load (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
                direct = await _floor_delays(smtp)
                f50, f95 = _quantiles(direct)
                world, context = await _world()
                for workers in (1, 2):
                    run = await _delays(world, context, workers, args.rate, args.seconds, env, smtp, cluster.directory / "data")
                    p50, p95 = _quantiles(run.delays)
                    verdict = "within" if p95 < BUDGET_P95_SECONDS else "OVER"
                    print(
                        f"event -> email at the SMTP server, {workers} worker{'s' if workers > 1 else ''}"
                        f" ({len(run.delays)} of {run.sent} events at {args.rate:g}/s)"
                    )
                    budget = f"budget p95 {BUDGET_P95_SECONDS * 1000:.0f} ms: {verdict}"
                    print(f"  p50 {p50 * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms   {budget}")
                    print(f"  floor: send_email straight to the server p50 {f50 * 1000:.0f} ms, p95 {f95 * 1000:.0f} ms")
                    for stage, values in run.stages.items():
                        if values:
                            s50, s95 = _quantiles(values)
                            print(f"    {stage:28s} p50 {s50 * 1000:7.0f} ms   p95 {s95 * 1000:7.0f} ms")
                    print(
                        f"  CPU (user + system) per event, dispatch and mail jobs: workers {run.cpu_per_event * 1000:.1f} ms,"
                        f" PostgreSQL {run.postgres_cpu_per_event * 1000:.1f} ms"
                    )
                    print(f"  machine load (1 min) {run.load:.1f} on {os.cpu_count()} cores: the workers, PostgreSQL,")
                    print("  the SMTP server and this process share them; read the delay against the load")
            finally:
                await stop_engine(engine)

        asyncio.run(run())
    finally:
        smtp.controller.stop()
        cluster.stop()


if __name__ == "__main__":
    main()
