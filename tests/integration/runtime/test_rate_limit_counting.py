"""The rate limit's count (portal.limits.services) stays exact when many
requests of one caller count at once, in two processes on one database: of
the requests over a window's budget exactly the budget passes, and every
request is counted. On PostgreSQL a count never needs a connection of the
request pool, so counting cannot queue behind the requests' transactions
(the requests of one token used to wait for a pooled connection twice)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.support.live import ROOT

BUDGET = 150
PER_PROCESS = 120
# A fixed moment, so both processes count in the same window.
NOW = 1_900_000_000.0

_COUNT = """
import asyncio, json, sys
from portal.limits.rates import Rate
from portal.limits.services import close_counters, hit

async def main(caller, budget, requests, now):
    rate = Rate(budget, 86400)
    # Waves of concurrent requests, as a busy process sees them.
    answers = []
    for _ in range(requests // 30):
        answers += await asyncio.gather(*(hit("api", caller, rate, now=now) for _ in range(30)))
    await close_counters()
    print(json.dumps(sum(answer is None for answer in answers)))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
"""

_STORED = """
import asyncio, json, sys
from portal.limits.services import counters_path
from portal.db import get_engine
from piccolo.engine.sqlite import SQLiteEngine

async def main(caller):
    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        import sqlite3
        with sqlite3.connect(counters_path(engine.path)) as connection:
            rows = connection.execute("SELECT hits FROM rate_limit_hit WHERE key LIKE ?", (f"api:{caller}:%",)).fetchall()
        print(json.dumps([row[0] for row in rows]))
    else:
        rows = await engine._run_in_new_connection("SELECT hits FROM rate_limit_hit WHERE key LIKE $1", [f"api:{caller}:%"])
        print(json.dumps([row["hits"] for row in rows]))

asyncio.run(main(sys.argv[1]))
"""

# Every pooled connection held by a transaction that waits, as under load;
# then a count. With the count in the pool it would wait for them.
_POOL_TAKEN = """
import asyncio, json
from portal.db import POOL_SIZE, get_engine, start_engine, stop_engine
from portal.limits.rates import Rate
from portal.limits.services import close_counters, hit

async def main():
    engine = get_engine()
    await start_engine(engine)
    held = [await engine.pool.acquire() for _ in range(POOL_SIZE)]
    try:
        answer = await asyncio.wait_for(hit("api", "t:pool-taken", Rate(5, 60)), timeout=120)
    finally:
        for connection in held:
            await engine.pool.release(connection)
        await close_counters()
        await stop_engine(engine)
    print(json.dumps(answer))

asyncio.run(main())
"""


def _run(script: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _answer(process: subprocess.Popen[str]) -> object:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_counting_at_once_let_exactly_the_budget_through(fresh_installation: Callable[[str], dict[str, str]]) -> None:
    env = fresh_installation("limits")
    caller = "t:two-processes"
    first, second = (_run(_COUNT, env, caller, str(BUDGET), str(PER_PROCESS), str(NOW)) for _ in range(2))
    passed = [_answer(first), _answer(second)]
    assert sum(passed) == BUDGET  # type: ignore[arg-type]
    # Each process had budget left for all of its own requests: only the
    # shared count can have refused any.
    assert all(0 < count <= PER_PROCESS for count in passed)  # type: ignore[operator]
    # Every request counted, the refused ones too, in one window's row.
    assert _answer(_run(_STORED, env, caller)) == [2 * PER_PROCESS]


@pytest.mark.postgres
def test_a_count_does_not_wait_for_the_request_pool(fresh_installation: Callable[[str], dict[str, str]]) -> None:
    env = fresh_installation("limits-pool")
    assert _answer(_run(_POOL_TAKEN, env)) is None
    assert _answer(_run(_STORED, env, "t:pool-taken")) == [1]
