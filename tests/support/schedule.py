"""The order xdist hands out test files: the longest first.

``--dist loadfile`` gives each worker a whole file at a time, in the order
the files come. xdist's own order (``--loadscope-reorder``) is by number of
tests, so a file of a few slow tests (a live server, a cluster outage, a
worker killed mid-job) came last and ran alone while the other worker sat
idle: in the PostgreSQL phase that tail was minutes long. Handing out the
longest files first (the classic longest-processing-time rule) leaves the
short files to fill in at the end, so both workers finish close together.

How long a file takes comes from ``durations.json`` beside this module:
seconds per file and database, recorded by a whole run
(``python -m tests.support.suite --record-durations``). A file that is not
there (new, renamed) is estimated from its number of tests, so a stale
table costs balance, never a test. ``tests/support/suite.py`` runs pytest
with ``--no-loadscope-reorder`` so that xdist keeps this order.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

DURATIONS = Path(__file__).with_name("durations.json")
# Seconds per test for a file the table does not know, when the table has
# no figures for this database at all.
DEFAULT_SECONDS_PER_TEST = 0.5


def file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def recorded(database: str) -> dict[str, float]:
    """Seconds per file of ``database``'s phases, as last recorded."""
    if not DURATIONS.exists():
        return {}
    table: dict[str, dict[str, float]] = json.loads(DURATIONS.read_text())
    return table.get(database, {})


def longest_files_first(items: list[pytest.Item], database: str) -> list[pytest.Item]:
    """``items`` with each file's tests together and in their own order,
    the files by expected time, longest first; browser tests after all
    others (see ``tests/conftest.py``)."""
    seconds = recorded(database)
    counts = Counter(file_of(item) for item in items)
    known = [file for file in counts if file in seconds]
    per_test = sum(seconds[file] for file in known) / sum(counts[file] for file in known) if known else DEFAULT_SECONDS_PER_TEST

    def cost(file: str) -> float:
        return seconds.get(file, counts[file] * per_test)

    position = {id(item): index for index, item in enumerate(items)}
    return sorted(
        items,
        key=lambda item: (item.get_closest_marker("browser") is not None, -cost(file_of(item)), file_of(item), position[id(item)]),
    )


class DurationRecorder:
    """In the process that reports (xdist's controller): the seconds each
    file took (set-up, call and tear-down of its tests, so a module's
    fixtures count too), written as JSON to ``path`` when the run ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        file = report.nodeid.split("::", 1)[0]
        self.seconds[file] = self.seconds.get(file, 0.0) + report.duration

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.path.write_text(json.dumps(self.seconds))
