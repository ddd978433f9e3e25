"""What the database-backed rate limit adds to an API call: the same
``GET /api/v1/orders`` against one server with the limits on and one with
them off, on SQLite (and on PostgreSQL with ``--postgresql``).

    .venv/bin/python -m bench.rate_limit_cost [--postgresql]

Prints the median and 95th percentile of N sequential calls for each.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.live import Server, install, installation_env
from tests.support.postgres import PostgresCluster

CALLS = 300


def measure(cluster: PostgresCluster | None, limits: str) -> tuple[float, float]:
    env = installation_env(Path(tempfile.mkdtemp(prefix="bench-limits-")), cluster, PORTAL_RATE_LIMITS=limits)
    world = install(env)
    server = Server(env)
    server.start()
    try:
        auth = {"authorization": f"Bearer {server.token(world.emails['planner'], world.slug)}"}
        with httpx.Client(timeout=60) as client:
            for _ in range(20):
                client.get(f"{server.base}/api/v1/orders", headers=auth)
            times = []
            for _ in range(CALLS):
                started = time.perf_counter()
                answer = client.get(f"{server.base}/api/v1/orders", headers=auth)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text
    finally:
        server.stop()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


def main() -> None:
    cluster = PostgresCluster.start() if "--postgresql" in sys.argv else None
    try:
        for limits in ("off", f"api={CALLS * 10}/60"):
            median, p95 = measure(cluster, limits)
            kind = "postgresql" if cluster else "sqlite"
            print(f"{kind} limits {limits}: median {median:.1f} ms, p95 {p95:.1f} ms over {CALLS} calls")
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
