"""The ``portal`` command as an operator runs it: a separate process, its
exit code, and what it writes on stdout and stderr."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from uuid import UUID, uuid4

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALL_ROLES = {"admin", "planner", "qa", "finance", "supplier_admin", "supplier_operator"}
SUPPLIER_ROLES = {"supplier_admin", "supplier_operator"}
UNREACHABLE_DATABASE = "postgresql://nobody@127.0.0.1:1/x"


def environment(base: dict[str, str] | None = None, /, **changes: str | None) -> dict[str, str]:
    """A copy of the test process's environment (or ``base``) with ``changes``;
    ``None`` removes a variable."""
    env = dict(os.environ if base is None else base)
    env.pop("PORTAL_DB_ROLE", None)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def portal(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal", *args],
        env=environment() if env is None else env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error output must be exactly one line and never a traceback."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result.stderr}"
    return lines[0]


@pytest.fixture
def fresh_env(fresh_installation: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """The environment of a new, migrated installation with an empty database
    of the same kind as the test run's and its own var directory (a copy of
    the run's migrated template: `portal migrate` has tests of its own)."""
    return environment(fresh_installation("cli"))


def test_serve_with_unreachable_database_fails_fast_with_one_line(tmp_path: Path) -> None:
    env = environment(PORTAL_DATABASE_URL=UNREACHABLE_DATABASE, PORTAL_MIGRATION_DATABASE_URL=None, PORTAL_VAR_DIR=str(tmp_path))
    # Giving up rather than retrying for ever: the timeout fails the test.
    result = portal("serve", "--port", "1", env=env, timeout=60)
    assert result.returncode != 0
    line = one_line_error(result)
    assert "PORTAL_DATABASE_URL" in line


def test_serve_with_unknown_storage_scheme_is_a_configuration_error() -> None:
    result = portal("serve", "--port", "1", env=environment(PORTAL_STORAGE_URL="ftp://x"), timeout=60)
    assert result.returncode == 2
    line = one_line_error(result)
    assert "PORTAL_STORAGE_URL" in line
    assert "ftp" in line


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["check"], ["storage", "gc", "--dry-run"]])
def test_a_bad_upload_limit_stops_serve_and_commands_before_they_start(command: list[str]) -> None:
    result = portal(*command, env=environment(PORTAL_UPLOAD_LIMITS_MB="photo=15,drawings=300"), timeout=60)
    assert result.returncode == 2
    line = one_line_error(result)
    assert line.startswith("portal: configuration error: PORTAL_UPLOAD_LIMITS_MB:")
    assert "drawings" in line


def test_storage_cors_apply_needs_s3_storage() -> None:
    result = portal("storage", "cors", "--apply", timeout=60)
    assert result.returncode == 1
    line = one_line_error(result)
    assert line.startswith("portal: PORTAL_STORAGE_URL: --apply needs s3:// storage")


def test_serve_with_unwritable_storage_names_the_storage(tmp_path: Path) -> None:
    # A regular file where the storage directory's parent should be.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    result = portal("serve", "--port", "1", env=environment(PORTAL_STORAGE_URL=f"file://{blocker}/blobs"), timeout=60)
    assert result.returncode != 0
    line = one_line_error(result)
    assert "PORTAL_STORAGE_URL" in line


def test_check_prints_the_configuration_and_ok_for_database_and_storage() -> None:
    result = portal("check", env=environment(PORTAL_UPLOAD_LIMITS_MB="photo=15"), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"^database\s+ok$", out, re.MULTILINE), out
    assert re.search(r"^storage\s+ok$", out, re.MULTILINE), out
    assert re.search(r"^PORTAL_UPLOAD_LIMITS_MB\s+drawing=200,.*photo=15,", out, re.MULTILINE), out
    assert re.search(r"^PORTAL_STORAGE_URL\s+" + re.escape(os.environ["PORTAL_STORAGE_URL"]) + "$", out, re.MULTILINE), out
    database_line = re.search(r"^PORTAL_DATABASE_URL\s+(\S+)$", out, re.MULTILINE)
    assert database_line, out
    password = re.match(r"^[a-z]+://[^:/@]+:([^@]+)@", os.environ["PORTAL_DATABASE_URL"])
    if password:
        # The PostgreSQL pass connects with a password: it must not be shown.
        assert password.group(1) not in out + result.stderr
        assert ":***@" in database_line.group(1)
    else:
        assert database_line.group(1) == os.environ["PORTAL_DATABASE_URL"]


def test_check_masks_the_password_and_reports_an_unreachable_database(tmp_path: Path) -> None:
    secret = "s3cret-Passw0rd"
    env = environment(
        PORTAL_DATABASE_URL=f"postgresql://portal:{secret}@127.0.0.1:1/portal",
        PORTAL_MIGRATION_DATABASE_URL=None,
        PORTAL_VAR_DIR=str(tmp_path),
    )
    result = portal("check", env=env, timeout=60)
    assert result.returncode != 0
    assert secret not in result.stdout + result.stderr
    assert "postgresql://portal:***@127.0.0.1:1/portal" in result.stdout
    assert re.search(r"^database\s+error$", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^storage\s+ok$", result.stdout, re.MULTILINE), result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_jobs_prints_the_count_of_each_status() -> None:
    result = portal("jobs", timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.match(r"queued \d+  running \d+  failed \d+  parked \d+  done \d+$", result.stdout.splitlines()[0]), result.stdout


def test_create_tenant_prints_json_and_refuses_a_taken_slug() -> None:
    slug = f"cli-{uuid4().hex[:10]}"
    first = portal("create-tenant", "--slug", slug, "--name", "X")
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert created["slug"] == slug
    assert UUID(created["id"])
    assert set(created) == {"id", "slug"}

    second = portal("create-tenant", "--slug", slug, "--name", "X")
    assert second.returncode != 0
    assert second.stdout == ""
    line = one_line_error(second)
    assert line.startswith("portal:")
    assert "taken" in line


def test_demo_is_idempotent(fresh_env: dict[str, str]) -> None:
    first = portal("demo", env=fresh_env)
    assert first.returncode == 0, first.stderr
    assert "demo data loaded" in first.stdout
    second = portal("demo", env=fresh_env)
    assert second.returncode == 0, second.stderr
    assert "already present" in second.stdout
    if_empty = portal("demo", "--if-empty", env=fresh_env)
    assert if_empty.returncode == 0, if_empty.stderr
    assert "demo not loaded" in if_empty.stdout


def test_demo_credentials_cover_every_role_and_a_shared_account(fresh_env: dict[str, str]) -> None:
    result = portal("demo", "--credentials", env=fresh_env)
    assert result.returncode == 0, result.stderr
    accounts = json.loads(result.stdout)
    assert isinstance(accounts, list)
    assert accounts
    for account in accounts:
        assert set(account) == {"email", "password", "tenant", "role", "supplier"}, account
        assert account["password"]
        # A supplier user belongs to a supplier; buyer staff do not.
        assert (account["supplier"] is not None) == (account["role"] in SUPPLIER_ROLES), account
    assert {account["tenant"] for account in accounts} >= {"acme", "globex"}
    for tenant in ("acme", "globex"):
        assert {account["role"] for account in accounts if account["tenant"] == tenant} == ALL_ROLES
    tenants_of: dict[str, set[str]] = {}
    for account in accounts:
        tenants_of.setdefault(account["email"], set()).add(account["tenant"])
    assert any(len(tenants) >= 2 for tenants in tenants_of.values())
    # The accounts were loaded too: running demo again finds them present.
    assert "already present" in portal("demo", env=fresh_env).stdout


@pytest.mark.parametrize("command", [["demo", "--credentials"], ["create-tenant", "--slug", "first-start", "--name", "X"]])
def test_json_output_stays_parseable_on_a_first_start(fresh_env: dict[str, str], command: list[str]) -> None:
    """On the first start without PORTAL_SECRET_KEY a key is generated and
    a warning logged; the warning must not land in the JSON on stdout."""
    env = environment(fresh_env, PORTAL_SECRET_KEY=None)
    assert not (Path(env["PORTAL_VAR_DIR"]) / "secret_key").exists()
    result = portal(*command, env=env)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)


def test_migrate_again_is_a_no_op() -> None:
    result = portal("migrate")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
