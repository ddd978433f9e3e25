"""Test set-up shared by every suite.

The environment is fixed in ``pytest_configure``, before any portal module is
imported, because settings and the database engine are read once per
process. ``PORTAL_TEST_DATABASE=postgresql`` runs the same tests against a
throwaway PostgreSQL cluster, the app connecting as an unprivileged role.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.postgres import PostgresCluster

T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() == "true"
_state: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or _state:
        return
    var_dir = Path(tempfile.mkdtemp(prefix="portal-test-"))
    _state["var_dir"] = var_dir
    for variable in ("PORTAL_SMTP_URL", "PORTAL_S3_ENDPOINT", "PORTAL_ENV", "PORTAL_MIGRATION_DATABASE_URL"):
        os.environ.pop(variable, None)
    os.environ.update(
        PORTAL_VAR_DIR=str(var_dir),
        PORTAL_SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
        PORTAL_STORAGE_URL=f"file://{var_dir}/blobs",
        PORTAL_DEFAULT_LOCALE="zh_CN",
    )
    if os.environ.get("PORTAL_TEST_DATABASE") == "postgresql":
        cluster = PostgresCluster.start()
        _state["postgres"] = cluster
        os.environ["PORTAL_DATABASE_URL"] = cluster.app_url
        os.environ["PORTAL_MIGRATION_DATABASE_URL"] = cluster.owner_url
    else:
        os.environ["PORTAL_DATABASE_URL"] = f"sqlite:///{var_dir}/portal.db"
    subprocess.run([sys.executable, "-m", "portal", "migrate"], check=True, capture_output=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = _state.pop("postgres", None)
    if cluster is not None:
        cluster.stop()
    var_dir = _state.pop("var_dir", None)
    if var_dir is not None:
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    # Nothing may silently skip in CI: a skip there is a failure.
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which is a failure: {report.longrepr}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests run in the PostgreSQL pass and are deselected
    (not skipped) in the SQLite pass; browser tests run in the SQLite pass."""
    on_postgres = "postgres" in _state
    unwanted = "browser" if on_postgres else "postgres"
    kept = [item for item in items if item.get_closest_marker(unwanted) is None]
    dropped = [item for item in items if item.get_closest_marker(unwanted) is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    # Browser tests last: Playwright's sync API keeps an event loop running in
    # the main thread until the session ends, which async tests cannot share.
    items[:] = sorted(kept, key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def database_kind() -> str:
    return "postgresql" if "postgres" in _state else "sqlite"


@pytest.fixture(scope="session")
def postgres() -> PostgresCluster:
    """For tests marked ``postgres``, which only the PostgreSQL pass collects."""
    return _state["postgres"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def var_dir() -> Path:
    return _state["var_dir"]  # type: ignore[no-any-return]


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
