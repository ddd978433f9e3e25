"""The whole suite as ``make test`` runs it: three phases, a summary line
each, and a non-zero exit when any phase fails.

- sqlite: every test but the browser ones, on the embedded database;
- postgresql: the integration and tenancy tests again on PostgreSQL
  (tests marked ``postgres`` run only here);
- browser: the Playwright tests, on the embedded database.

The PostgreSQL phase runs beside the other two (one chain after the other
would leave a core idle while each phase's last files finish); each phase is
spread over ``PORTAL_TEST_WORKERS`` xdist workers (default 2). A phase's
output is printed whole when it ends, pytest's closing lines included.

Under ``CI=true`` a phase also fails when it ran no test, when its tests
were skipped, or when the tests it exists for did not run: PostgreSQL tests
in the PostgreSQL phase, browser tests in the browser phase.

Each phase hands out its files longest first (tests/support/schedule.py);
``python -m tests.support.suite --record-durations`` runs the suite and keeps
its seconds per file in tests/support/durations.json for later runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.schedule import DURATIONS

IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Phase:
    name: str
    arguments: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    # The marker whose tests this phase exists to run, checked under CI.
    required: str | None = None
    output: str = ""
    exit_code: int | None = None
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    # Seconds per test file, when the run records them (--record-durations).
    durations: dict[str, float] = field(default_factory=dict)

    @property
    def database(self) -> str:
        return self.environment.get("PORTAL_TEST_DATABASE", "sqlite")

    def command(self, workers: str) -> list[str]:
        # Files in the order tests/conftest.py gives them (longest first,
        # tests/support/schedule.py), not xdist's (most tests first).
        return [sys.executable, "-m", "pytest", "-n", workers, "--dist", "loadfile", "--no-loadscope-reorder", *self.arguments]

    def run(self, workers: str, record: bool = False) -> None:
        with tempfile.TemporaryDirectory(prefix=f"portal-phase-{self.name}-") as folder:
            counts = Path(folder) / "counts.json"
            durations = Path(folder) / "durations.json"
            env = {**os.environ, **self.environment, "PORTAL_TEST_COUNTS": str(counts)}
            if record:
                env["PORTAL_TEST_DURATIONS"] = str(durations)
            started = time.monotonic()
            result = subprocess.run(self.command(workers), cwd=ROOT, env=env, capture_output=True, text=True, check=False)
            self.seconds = time.monotonic() - started
            self.output = result.stdout + result.stderr
            self.exit_code = result.returncode
            self.counts = json.loads(counts.read_text()) if counts.exists() else {}
            self.durations = json.loads(durations.read_text()) if durations.exists() else {}
        print(f"\n===== phase {self.name} =====\n{self.output}", flush=True)

    def problems(self) -> list[str]:
        found = []
        if self.exit_code != 0:
            # 5 is pytest's "no tests collected": a failure too.
            found.append(f"pytest exited with {self.exit_code}")
        if not self.counts:
            found.append("no counts were written (tests/conftest.py did not run?)")
        if IN_CI:
            if self.counts.get("passed", 0) == 0:
                found.append("no test passed")
            if self.counts.get("skipped", 0):
                found.append(f"{self.counts['skipped']} skipped")
            if self.required and self.counts.get(f"{self.required}_passed", 0) == 0:
                found.append(f"none of the {self.required} tests ran")
        return found

    def summary(self) -> str:
        counts = ", ".join(f"{self.counts.get(key, 0)} {key}" for key in ("passed", "failed", "skipped", "errors"))
        verdict = "; ".join(self.problems()) or "ok"
        return f"phase {self.name:<10} {counts} in {self.seconds:.0f} s: {verdict}  [pytest {' '.join(self.command('N')[3:])}]"


def phases() -> tuple[list[Phase], list[Phase]]:
    """Two chains that run side by side."""
    sqlite = Phase("sqlite", ["-m", "not browser"])
    browser = Phase("browser", ["-m", "browser", "tests/browser"], required="browser")
    postgresql = Phase("postgresql", ["tests/integration", "tests/tenancy"], {"PORTAL_TEST_DATABASE": "postgresql"}, required="postgres")
    return [sqlite, browser], [postgresql]


def record_durations(everything: list[Phase]) -> None:
    """Keep this run's seconds per file in tests/support/durations.json,
    which orders the files of later runs (tests/support/schedule.py)."""
    table: dict[str, dict[str, float]] = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    for database in {phase.database for phase in everything}:
        measured = {
            file: round(seconds, 1) for phase in everything if phase.database == database for file, seconds in phase.durations.items()
        }
        table[database] = dict(sorted(measured.items()))
    DURATIONS.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"seconds per file written to {DURATIONS.relative_to(ROOT)}")


def main() -> int:
    workers = os.environ.get("PORTAL_TEST_WORKERS", "2")
    record = "--record-durations" in sys.argv[1:]
    chains = phases()
    started = time.monotonic()
    threads = [threading.Thread(target=lambda chain=chain: [phase.run(workers, record) for phase in chain]) for chain in chains]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [phase for chain in chains for phase in chain]
    print("\n===== make test: phases =====")
    for phase in everything:
        print(phase.summary())
    failed = [phase.name for phase in everything if phase.problems()]
    verdict = f"FAILED ({', '.join(failed)})" if failed else "all phases passed"
    print(f"total {time.monotonic() - started:.0f} s with {workers} workers per phase: {verdict}")
    if record:
        # A failed test still took its time: the figures are kept either way.
        record_durations(everything)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
