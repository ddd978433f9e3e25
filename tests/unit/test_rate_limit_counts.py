"""The SQLite rate-limit counter: counted on the event loop when the
counters file is free, in a worker thread when it is not, one count either
way (portal.limits.services)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from portal.limits import services

KEY = "api:t:caller:1"
ENDS = 2_000_000_000


def _stored(path: str) -> int:
    with sqlite3.connect(services.counters_path(path)) as connection:
        (hits,) = connection.execute("SELECT hits FROM rate_limit_hit WHERE key = ?", (KEY,)).fetchone()
    return int(hits)


def test_counts_on_the_loop_and_in_the_thread_add_up(tmp_path: Path) -> None:
    path = str(tmp_path / "portal.db")
    # Before the thread made the counters' table there is nothing to count in.
    assert services._hit_sqlite_now(path, KEY, ENDS, 0) is None
    assert services._hit_sqlite(path, KEY, ENDS, 0) == 1
    assert services._hit_sqlite_now(path, KEY, ENDS, 0) == 2
    assert services._hit_sqlite(path, KEY, ENDS, 0) == 3
    assert _stored(path) == 3


def test_a_locked_file_is_left_to_the_thread_and_nothing_is_counted_twice(tmp_path: Path) -> None:
    path = str(tmp_path / "portal.db")
    assert services._hit_sqlite(path, KEY, ENDS, 0) == 1
    other_process = sqlite3.connect(services.counters_path(path), isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    try:
        assert services._hit_sqlite_now(path, KEY, ENDS, 0) is None
    finally:
        other_process.execute("COMMIT")
        other_process.close()
    assert _stored(path) == 1
    assert services._hit_sqlite_now(path, KEY, ENDS, 0) == 2
