"""The ``portal`` command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from portal.settings import MB, ConfigError, Settings, get_settings

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"portal: {message}", err=True)
    sys.exit(code)


def load_settings() -> Settings:
    try:
        return get_settings()
    except ConfigError as exc:
        fail(f"configuration error: {exc}", code=2)


def run(coroutine_fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        from portal.db import get_engine, start_engine, stop_engine

        engine = get_engine()
        await start_engine(engine)
        try:
            return await coroutine_fn()
        finally:
            await stop_engine(engine)

    return asyncio.run(main())


def preflight(settings: Settings) -> None:
    """One clear line naming the variable when the database or storage
    cannot be reached, instead of a traceback from deep inside a driver."""
    from portal.db import get_engine, ping
    from portal.documents.storage import open_storage

    async def check() -> None:
        try:
            await ping(get_engine())
        except Exception as exc:
            fail(f"PORTAL_DATABASE_URL: cannot reach the database ({_reason(exc)})")
        try:
            await open_storage(settings).check()
        except Exception as exc:
            fail(f"PORTAL_STORAGE_URL: cannot reach the document storage ({_reason(exc)})")

    asyncio.run(check())


def _reason(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@click.group()
def main() -> None:
    """Outsourcing collaboration portal."""
    # Log lines go to stderr so that JSON printed on stdout stays parseable.
    from portal.logs import configure_logging

    configure_logging(json=False)
    # The operator's terminal language (LANG), English when it names none.
    from portal.i18n import current_locale, normalize_locale

    terminal = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    current_locale.set(normalize_locale(terminal.split(".")[0]) or "en")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Defaults to $PORT or 8000.")
@click.option("--workers", type=int, default=1, show_default=True)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int | None, workers: int, reload: bool) -> None:
    """Serve the portal over HTTP."""
    import uvicorn

    settings = load_settings()
    preflight(settings)
    uvicorn.run(
        "portal.asgi:create_app",
        factory=True,
        host=host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        access_log=False,
        proxy_headers=True,
    )


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    # Before the engine exists: migrations connect as the owning role.
    os.environ["PORTAL_DB_ROLE"] = "owner"
    settings = load_settings()
    from portal.migrations import migrate_database

    try:
        run(lambda: migrate_database(settings))
    except Exception as exc:
        fail(f"migration failed: {_reason(exc)}")
    click.echo("portal: database is up to date")


@main.command()
@click.option("--credentials", is_flag=True, help="Print the demo accounts as JSON.")
@click.option("--if-empty", is_flag=True, help="Only when the database has no tenant yet (used by `make run`).")
def demo(credentials: bool, if_empty: bool) -> None:
    """Load the demo data (safe to run again)."""
    load_settings()
    from tenants.demo import DEMO_ACCOUNTS, any_tenant_exists, load_demo

    if if_empty and run(any_tenant_exists):
        click.echo("portal: the database already has data; demo not loaded")
        return
    if not credentials:
        created = run(load_demo)
        click.echo("portal: demo data loaded" if created else "portal: demo data already present")
        return
    run(load_demo)
    click.echo(json.dumps(DEMO_ACCOUNTS, ensure_ascii=False, indent=2))


@main.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True, help="Jobs run at the same time.")
def worker(concurrency: int) -> None:
    """Run background jobs until stopped (SIGTERM lets running jobs finish)."""
    settings = load_settings()
    preflight(settings)
    import signal

    from portal.jobs.registry import load_modules
    from portal.jobs.runner import Runner

    load_modules(settings.job_modules)

    async def work() -> None:
        # CPU-heavy jobs in child processes: mail and webhooks keep flowing
        # (and leases kept alive) while a PDF renders.
        runner = Runner(concurrency=concurrency, poll_seconds=settings.jobs_poll_seconds, children=True)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, runner.stop)
        click.echo(f"portal worker {runner.name}: taking jobs ({concurrency} at a time)", err=True)
        await runner.run()

    run(work)


@main.group("jobs", invoke_without_command=True)
@click.option("--status", "statuses", multiple=True, type=click.Choice(["queued", "running", "failed", "parked", "done"]))
@click.option("--limit", type=int, default=100, show_default=True)
@click.pass_context
def jobs_group(ctx: click.Context, statuses: tuple[str, ...], limit: int) -> None:
    """List queued, running, failed and parked jobs (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    load_settings()
    from portal.jobs.queue import counts, list_jobs

    async def listing() -> tuple[dict[str, int], list[Any]]:
        return await counts(), await list_jobs(list(statuses) or None, limit)

    totals, rows = run(listing)
    click.echo("  ".join(f"{status} {n}" for status, n in totals.items()))
    for row in rows:
        error = row.last_error.strip().splitlines()[-1] if row.last_error.strip() else ""
        click.echo(
            f"{row.id}  {row.status:8} {row.kind:24} attempts {row.attempts}/{row.max_attempts}  "
            f"run_at {row.run_at:%Y-%m-%d %H:%M:%S}Z" + (f"  last error: {error}" if error else "")
        )


@jobs_group.command("parked")
def jobs_parked() -> None:
    """Parked jobs (gave up after their attempts) with their last error."""
    load_settings()
    from portal.jobs.queue import PARKED, list_jobs

    for row in run(lambda: list_jobs([PARKED], 1000)):
        click.echo(f"{row.id}  {row.kind}  attempts {row.attempts}  parked {row.finished_at:%Y-%m-%d %H:%M:%S}Z")
        click.echo("    " + row.last_error.replace("\n", "\n    "))


@jobs_group.command("retry")
@click.argument("job_id", type=click.UUID)
def jobs_retry(job_id: Any) -> None:
    """Queue a parked or failed job again, its attempts counted from zero."""
    load_settings()
    from portal.jobs.queue import retry

    if not run(lambda: retry(job_id)):
        fail(f"no parked or failed job {job_id}")
    click.echo(f"portal: job {job_id} queued again")


@jobs_group.command("run")
def jobs_run() -> None:
    """Run every due job now, in this process, until none is left."""
    load_settings()
    from portal.jobs.runner import run_due_jobs

    outcomes = run(run_due_jobs)
    click.echo("portal: " + (", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "no job was due"))


@main.command("create-tenant")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--locale", default="zh_CN", show_default=True)
@click.option("--time-zone", default="Asia/Shanghai", show_default=True)
@click.option("--currency", default="CNY", show_default=True)
def create_tenant(slug: str, name: str, locale: str, time_zone: str, currency: str) -> None:
    """Create a buyer tenant."""
    load_settings()
    from portal.errors import DomainError
    from tenants.services.tenants import TenantCreate
    from tenants.services.tenants import create_tenant as create

    try:
        tenant = run(lambda: create(TenantCreate(slug=slug, name=name, locale=locale, time_zone=time_zone, currency=currency)))
    except DomainError as exc:
        message, fields = exc.translated()
        details = [f"{name}: {problem}" for name, problem in fields.items() if problem != message]
        fail(" ".join([message, *details]))
    click.echo(json.dumps({"id": str(tenant.id), "slug": tenant.slug}))


@main.command()
def check() -> None:
    """Print the configuration and whether the database and storage answer."""
    settings = load_settings()
    from portal.db import get_engine
    from portal.documents.storage import open_storage
    from portal.health import probe

    for name, value in describe(settings).items():
        click.echo(f"{name:32} {value}")
    parts = asyncio.run(probe(get_engine(), open_storage(settings)))
    for name, state in parts.items():
        click.echo(f"{name:32} {state}")
    if any(state != "ok" for state in parts.values()):
        sys.exit(1)


def describe(settings: Settings) -> dict[str, Any]:
    from portal.audit.keys import ring_of

    return {
        "PORTAL_ENV": settings.environment,
        "PORT": settings.port,
        "PORTAL_DATABASE_URL": _mask(settings.database_url),
        "PORTAL_STORAGE_URL": settings.storage_url,
        "PORTAL_S3_ENDPOINT": settings.s3_endpoint or "-",
        "PORTAL_SMTP_URL": _mask(settings.smtp_url) if settings.smtp_url else f"unset: emails go to {settings.outbox_dir}/",
        "PORTAL_SECRET_KEY": "set" if os.environ.get("PORTAL_SECRET_KEY") else f"generated in {settings.var_dir}/secret_key",
        "PORTAL_AUDIT_KEY": f"{'set' if settings.audit_key else 'derived from PORTAL_SECRET_KEY'} (key id {ring_of(settings).current.id})",
        "PORTAL_AUDIT_OLD_KEYS": len(settings.audit_old_keys),
        "PORTAL_UPLOAD_LIMITS_MB": ",".join(f"{key}={size // MB}" for key, size in settings.upload_limits.items()),
        "PORTAL_METRICS_TOKEN": "set" if settings.metrics_token else "unset: /metrics answers 404",
        "PORTAL_RATE_LIMITS": ",".join(f"{name}={rate}" for name, rate in settings.rate_limits.items()) or "off",
        "PORTAL_STATEMENT_TIMEOUT_MS": settings.statement_timeout_ms,
        "PORTAL_SLOW_QUERY_MS": settings.slow_query_ms,
        "PORTAL_JOBS_IN_PROCESS": "true" if settings.jobs_in_process else "false: run `portal worker`",
        "PORTAL_JOBS_POLL_SECONDS": settings.jobs_poll_seconds,
        "PORTAL_JOB_MODULES": ",".join(settings.job_modules) or "-",
    }


def _mask(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


@main.command()
@click.argument("destination", type=click.Path(path_type=Path))
def backup(destination: Path) -> None:
    """Dump the database and copy every stored object into DESTINATION (a
    new or empty folder), with a manifest of their sha256."""
    from portal.backup import BackupError
    from portal.backup import backup as make_backup
    from portal.documents.storage import open_storage

    settings = load_settings()
    try:
        summary = asyncio.run(make_backup(settings, open_storage(settings), destination))
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"portal: backup in {destination}: {summary.database} database, {summary.objects} objects, {summary.bytes} bytes")


@main.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
def restore(source: Path) -> None:
    """Restore a backup folder into an empty database and document storage,
    then migrate (grants for the app role, newer migrations)."""
    # Before the engine exists: the dump is loaded as the owning role.
    os.environ["PORTAL_DB_ROLE"] = "owner"
    from portal.backup import BackupError, restore_files
    from portal.documents.storage import open_storage
    from portal.migrations import migrate_database

    settings = load_settings()
    try:
        summary = asyncio.run(restore_files(settings, open_storage(settings), source))
    except BackupError as exc:
        fail(str(exc))
    try:
        run(lambda: migrate_database(settings))
    except Exception as exc:
        fail(f"restored, but the migration failed: {_reason(exc)}")
    click.echo(f"portal: restored {summary.database} database and {summary.objects} objects ({summary.bytes} bytes) from {source}")


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Check every tenant's hash chain; name any edited, deleted or reordered event."""
    load_settings()
    from portal.audit.verify import verify_all

    problems = run(verify_all)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo("portal: audit trail intact")


@audit.command("checkpoint")
@click.option("--tenant", "slugs", multiple=True, help="Only this tenant (slug); may be repeated.")
def audit_checkpoint(slugs: tuple[str, ...]) -> None:
    """Sign each tenant's chain head into the document storage (when it moved),
    so that verify detects a later truncated or rewritten tail."""
    load_settings()
    from portal.audit.checkpoints import CheckpointRefused, write_checkpoints
    from tenants.context import system_scope
    from tenants.tables import Tenant

    async def checkpoint() -> int:
        tenant_ids = None
        if slugs:
            async with system_scope("audit-checkpoint"):
                rows = await Tenant.select(Tenant.id, Tenant.slug).where(Tenant.slug.is_in(list(slugs)))
            unknown = sorted(set(slugs) - {row["slug"] for row in rows})
            if unknown:
                fail(f"no tenant {', '.join(unknown)}")
            tenant_ids = [row["id"] for row in rows]
        return await write_checkpoints(tenant_ids=tenant_ids)

    try:
        written = run(checkpoint)
    except CheckpointRefused as exc:
        for problem in exc.problems:
            click.echo(f"refused: {problem}", err=True)
        click.echo(f"portal: {exc.written} audit checkpoints written; run `portal audit verify`", err=True)
        sys.exit(1)
    click.echo(f"portal: {written} audit checkpoints written")


@main.group("storage")
def storage_group() -> None:
    """Document storage: orphans, integrity, previews."""


@storage_group.command("gc")
@click.option(
    "--older-than", "older_than", type=float, default=24.0, show_default=True, help="Hours; younger objects may be uploads in flight."
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def storage_gc(older_than: float, dry_run: bool) -> None:
    """Remove stored objects that no document version points to."""
    from datetime import timedelta

    from portal.documents.maintenance import collect_garbage
    from portal.documents.storage import open_storage

    settings = load_settings()
    storage = open_storage(settings)
    scratch = [settings.var_dir / "spool"]
    report = run(lambda: collect_garbage(storage, grace=timedelta(hours=older_than), dry_run=dry_run, scratch=scratch))
    verb = "would remove" if dry_run else "removed"
    for key in report.orphans:
        click.echo(f"{verb} orphan {key}")
    for name in report.staged:
        click.echo(f"{verb} unfinished upload {name}")
    for key in report.unknown:
        click.echo(f"left alone (not a document key): {key}", err=True)
    click.echo(
        f"portal: {report.scanned} objects scanned, {len(report.orphans)} orphans {verb}, "
        f"{len(report.staged)} unfinished uploads {verb}, {report.too_young} younger than {older_than:g} h kept"
    )


@storage_group.command("cors")
@click.option("--apply", "apply_rule", is_flag=True, help="Set the rule on the bucket (its other CORS rules are kept).")
def storage_cors(apply_rule: bool) -> None:
    """Print the CORS rule an S3 bucket needs for the browser's direct
    uploads from PORTAL_BASE_URL's origin (JSON for put-bucket-cors)."""
    from portal.documents.maintenance import apply_cors_rule, cors_rule
    from portal.documents.storage import S3Storage, open_storage

    settings = load_settings()
    rule = cors_rule(settings.base_url)
    if not apply_rule:
        click.echo(json.dumps({"CORSRules": [rule]}, indent=2))
        return
    storage = open_storage(settings)
    if not isinstance(storage, S3Storage):
        fail("PORTAL_STORAGE_URL: --apply needs s3:// storage (local storage takes no direct uploads)")
    try:
        rules = asyncio.run(apply_cors_rule(storage, rule))
    except Exception as exc:
        fail(f"PORTAL_STORAGE_URL: could not set the CORS rule on s3://{storage.bucket} ({_reason(exc)})")
    click.echo(json.dumps({"CORSRules": rules}, indent=2))
    click.echo(f"portal: CORS rule {rule['ID']!r} set on s3://{storage.bucket} for {rule['AllowedOrigins'][0]}", err=True)


@storage_group.command("verify")
def storage_verify() -> None:
    """Re-hash every stored document version; name each mismatch."""
    from portal.documents.maintenance import verify_objects
    from portal.documents.storage import open_storage

    settings = load_settings()
    storage = open_storage(settings)
    checked, problems = run(lambda: verify_objects(storage))
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        sys.exit(1)
    click.echo(f"portal: {checked} stored versions intact")


@storage_group.command("thumbnails")
@click.option("--limit", type=int, default=None, help="At most this many.")
def storage_thumbnails(limit: int | None) -> None:
    """Render every preview still missing (safe to run again)."""
    from portal.documents.previews import render_pending_previews
    from portal.documents.storage import open_storage

    settings = load_settings()
    storage = open_storage(settings)
    counts = run(lambda: render_pending_previews(storage, limit=limit))
    click.echo(
        f"portal: {counts.get('ready', 0)} previews rendered, {counts.get('failed', 0)} failed, {counts.get('pending', 0)} left for later"
    )
