"""Test set-up shared by every suite.

The environment is fixed in ``pytest_configure``, before any portal module is
imported, because settings and the database engine are read once per
process. ``PORTAL_TEST_DATABASE=postgresql`` runs the same tests against a
throwaway PostgreSQL cluster, the app connecting as an unprivileged role.

Runs are parallel with ``-n N`` (pytest-xdist). The process that starts the
run migrates one template database (a SQLite file, or a database in the one
PostgreSQL cluster); every process that runs tests (each worker, or the only
process without ``-n``) works on its own copy, with its own var dir (blobs,
outbox), so workers never share state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.postgres import PostgresCluster
from tests.support.schedule import DurationRecorder, longest_files_first

T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() == "true"
ON_POSTGRES = os.environ.get("PORTAL_TEST_DATABASE") == "postgresql"
# Cheap argon2 (production refuses it) and no slow-down after a failed
# sign-in: the suite signs in thousands of times. tests/unit/tenants/
# test_passwords.py checks the production parameters, test_login_throttle.py
# the delay.
TEST_ENVIRONMENT = {
    "PORTAL_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "PORTAL_DEFAULT_LOCALE": "zh_CN",
    "PORTAL_PASSWORD_HASH": "cheap",
    "PORTAL_LOGIN_DELAY_STEP": "0",
    # Every test signs in from the same address; the limits have their own
    # tests with servers of their own (tests/integration/runtime).
    "PORTAL_RATE_LIMITS": "off",
    # The tests' app runs no jobs behind their back: a test runs what is due
    # with ``run(run_due_jobs)`` and then looks at the effect. Servers and
    # commands started by tests get the default (jobs in process).
    "PORTAL_JOBS_IN_PROCESS": "false",
}
_state: dict[str, Any] = {}


def _migrate() -> None:
    subprocess.run([sys.executable, "-m", "portal", "migrate"], check=True, capture_output=True)


def _start_run(config: pytest.Config) -> None:
    """In the process that starts the run: a root folder, the PostgreSQL
    cluster, and the migrated template every test process copies."""
    root = Path(tempfile.mkdtemp(prefix="portal-test-"))
    _state["root"] = root
    template = root / "template"
    template.mkdir()
    os.environ.update(PORTAL_VAR_DIR=str(template), PORTAL_STORAGE_URL=f"file://{template}/blobs")
    if ON_POSTGRES:
        cluster = PostgresCluster.start()
        _state["cluster"] = cluster
        os.environ.update(PORTAL_DATABASE_URL=cluster.app_url, PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url)
    else:
        os.environ["PORTAL_DATABASE_URL"] = f"sqlite:///{template}/portal.db"
    _migrate()


def _join_run(name: str, root: Path, template: PostgresCluster | None) -> None:
    """In a process that runs tests: its own var dir and database copy."""
    var_dir = root / name
    var_dir.mkdir()
    _state["var_dir"] = var_dir
    _state["template"] = template
    os.environ.update(PORTAL_VAR_DIR=str(var_dir), PORTAL_STORAGE_URL=f"file://{var_dir}/blobs")
    if template is not None:
        cluster = template.copy(f"portal_{name}")
        _state["postgres"] = cluster
        os.environ.update(PORTAL_DATABASE_URL=cluster.app_url, PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url)
    else:
        shutil.copyfile(root / "template" / "portal.db", var_dir / "portal.db")
        os.environ["PORTAL_DATABASE_URL"] = f"sqlite:///{var_dir}/portal.db"
        os.environ.pop("PORTAL_MIGRATION_DATABASE_URL", None)


def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        cluster = None
        if worker["portal_postgres"] is not None:
            directory, port = worker["portal_postgres"]
            cluster = PostgresCluster(Path(directory), port)
        _join_run(worker["workerid"], Path(worker["portal_root"]), cluster)
        return
    for variable in ("PORTAL_SMTP_URL", "PORTAL_S3_ENDPOINT", "PORTAL_ENV", "PORTAL_MIGRATION_DATABASE_URL", "PORTAL_BASE_URL"):
        os.environ.pop(variable, None)
    os.environ.update(TEST_ENVIRONMENT)
    counts = os.environ.get("PORTAL_TEST_COUNTS")
    if counts:
        config.pluginmanager.register(PhaseCounts(Path(counts)), "portal-phase-counts")
    durations = os.environ.get("PORTAL_TEST_DURATIONS")
    if durations:
        config.pluginmanager.register(DurationRecorder(Path(durations)), "portal-test-durations")
    _start_run(config)
    if getattr(config.option, "dist", "no") == "no":
        _join_run("main", _state["root"], _state.get("cluster"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the process that starts the run: what each worker joins."""
    cluster = _state.get("cluster")
    node.workerinput["portal_root"] = str(_state["root"])
    node.workerinput["portal_postgres"] = (str(cluster.directory), cluster.port) if cluster else None


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = _state.pop("cluster", None)
    if cluster is not None:
        cluster.stop()
    root = _state.pop("root", None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    # Nothing may silently skip in CI: a skip there is a failure.
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which is a failure: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    # A module-level skip or importorskip hides a whole file: in CI that is a
    # collection error.
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped at collection under CI=true, which is a failure: {report.longrepr}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests run in the PostgreSQL pass and are deselected
    (not skipped) in the SQLite pass; browser tests run in the SQLite pass."""
    unwanted = "browser" if ON_POSTGRES else "postgres"
    kept = [item for item in items if item.get_closest_marker(unwanted) is None]
    dropped = [item for item in items if item.get_closest_marker(unwanted) is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    # Browser tests last: Playwright's sync API keeps an event loop running in
    # the main thread until the session ends, which async tests cannot share.
    # Files longest first (tests/support/schedule.py): xdist hands them out
    # in this order (with --no-loadscope-reorder), so each worker keeps it too.
    items[:] = longest_files_first(kept, "postgresql" if ON_POSTGRES else "sqlite")


def pytest_deselected(items: list[pytest.Item]) -> None:
    # In the PostgreSQL pass under CI, deselecting (-m, -k) a test that needs
    # PostgreSQL would pass the run without it.
    if IN_CI and ON_POSTGRES:
        hidden = [item.nodeid for item in items if item.get_closest_marker("postgres") is not None]
        if hidden:
            raise pytest.UsageError(f"CI=true: the PostgreSQL pass may not deselect PostgreSQL tests: {', '.join(hidden[:5])}")


class PhaseCounts:
    """Counts the run's outcomes, and the passes of PostgreSQL and browser
    tests, in the process that reports (the only one, or xdist's
    controller), and writes them to the file ``PORTAL_TEST_COUNTS`` names:
    ``make test`` prints and checks them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.counts: dict[str, int] = {}

    def add(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.add("errors")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.add(report.outcome)
            if report.passed:
                for marker in ("postgres", "browser"):
                    if marker in report.keywords:
                        self.add(f"{marker}_passed")
        elif report.failed:
            self.add("errors")
        elif report.skipped and report.when == "setup":
            self.add("skipped")

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        database = "postgresql" if ON_POSTGRES else "sqlite"
        self.path.write_text(json.dumps({**self.counts, "exitstatus": int(exitstatus), "database": database}))


@pytest.fixture(scope="session")
def database_kind() -> str:
    return "postgresql" if ON_POSTGRES else "sqlite"


@pytest.fixture(scope="session")
def postgres() -> PostgresCluster:
    """For tests marked ``postgres``, which only the PostgreSQL pass collects:
    the cluster, seen from this process's database (``psql``, URLs)."""
    return _state["postgres"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def var_dir() -> Path:
    """This process's var dir (outbox, blobs), which the app uses too."""
    return _state["var_dir"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def fresh_installation() -> Callable[[str], dict[str, str]]:
    """``fresh_installation(label)``: the environment (a copy of
    ``os.environ``) of a new, migrated, empty installation with its own var
    dir and database, for a server process or a command to work on."""

    def make(label: str) -> dict[str, str]:
        var = _state["var_dir"].parent / f"{_state['var_dir'].name}-{label}-{uuid.uuid4().hex[:8]}"
        var.mkdir()
        # A server of its own runs its jobs in process, as `make run` does.
        env = {**os.environ, "PORTAL_VAR_DIR": str(var), "PORTAL_STORAGE_URL": f"file://{var}/blobs", "PORTAL_JOBS_IN_PROCESS": "true"}
        template: PostgresCluster | None = _state["template"]
        if template is not None:
            cluster = template.copy(var.name.replace("-", "_"))
            env.update(PORTAL_DATABASE_URL=cluster.app_url, PORTAL_MIGRATION_DATABASE_URL=cluster.owner_url)
        else:
            shutil.copyfile(var.parent / "template" / "portal.db", var / "portal.db")
            env["PORTAL_DATABASE_URL"] = f"sqlite:///{var}/portal.db"
        return env

    return make


@pytest.fixture(scope="session")
def app() -> Any:
    from portal.asgi import create_app

    return create_app()


@pytest.fixture(scope="session")
def client(app: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def run(client: Any) -> Callable[[Callable[..., Awaitable[T]]], T]:
    """Run a coroutine function on the app's own event loop: the PostgreSQL
    pool lives there, so seeding through services must too."""

    def call(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return client.blocking_portal.call(fn, *args)  # type: ignore[no-any-return]

    return call


async def _forget_failed_sign_ins() -> None:
    from tenants.context import system_scope
    from tenants.tables import LoginThrottle

    async with system_scope("test-reset-throttle"):
        await LoginThrottle.delete(force=True)


@pytest.fixture(autouse=True)
def fresh_login_throttle(request: pytest.FixtureRequest) -> None:
    """Every test that talks to the app starts with no failed sign-ins on
    record: the TestClient's address is always "testclient", so the
    per-address limit would otherwise count the whole run's failures."""
    if "client" in request.fixturenames or "run" in request.fixturenames:
        request.getfixturevalue("run")(_forget_failed_sign_ins)
