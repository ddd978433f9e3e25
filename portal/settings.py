"""One settings object, read from the environment once and shared by the app,
the CLI and ``piccolo_conf.py``."""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from portal.documents.content import CATEGORIES
from portal.limits.rates import DEFAULT_LIMITS, Rate, parse_rate_limits

log = structlog.get_logger(__name__)

DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")
STORAGE_SCHEMES = ("file", "s3")
SECRET_KEY_MIN_LENGTH = 32
MB = 1024 * 1024
UPLOAD_LIMIT_RANGE_MB = (1, 5000)
# "cheap" argon2 parameters exist for the test suite, which hashes hundreds of
# passwords; production refuses them.
PASSWORD_HASH_STRENGTHS = ("strong", "cheap")
LOGIN_DELAY_STEP_SECONDS = 0.2
STATEMENT_TIMEOUT_MS = 30_000
SLOW_QUERY_MS = 500
METRICS_TOKEN_MIN_LENGTH = 16
JOBS_POLL_SECONDS = 1.0


class ConfigError(Exception):
    """Bad configuration; the message names the variable so one line says it all."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    port: int
    environment: str
    var_dir: Path
    database_url: str
    migration_database_url: str
    storage_url: str
    secret_key: str
    smtp_url: str | None
    s3_endpoint: str | None
    aws_region: str
    default_locale: str
    https: bool
    base_url: str
    mail_from: str
    # Bytes per document category: the defaults of ``CATEGORIES``, some
    # overridden by PORTAL_UPLOAD_LIMITS_MB.
    upload_limits: Mapping[str, int]
    # PORTAL_AUDIT_KEY keys the audit chain; unset, a key derived from
    # secret_key does (portal.audit.keys). Retired keys, or retired secret
    # keys the audit key was derived from, stay in PORTAL_AUDIT_OLD_KEYS so
    # the events and checkpoints they signed still verify.
    audit_key: str | None = None
    audit_old_keys: tuple[str, ...] = ()
    hash_strength: str = "strong"
    # Added to a failed sign-in's answer per failure counted on its keys.
    login_delay_step: float = LOGIN_DELAY_STEP_SECONDS
    # Bearer token Prometheus presents at /metrics; None: /metrics is off.
    metrics_token: str | None = None
    # Requests per window per caller, by limit name; empty: no rate limits.
    rate_limits: Mapping[str, Rate] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    # PostgreSQL: each request transaction's statement_timeout; 0 = none.
    statement_timeout_ms: int = STATEMENT_TIMEOUT_MS
    # PostgreSQL: statements slower than this are logged; 0 = none.
    slow_query_ms: int = SLOW_QUERY_MS
    # The embedded default runs jobs inside the app process; production
    # turns this off and runs `portal worker` processes instead.
    jobs_in_process: bool = True
    jobs_poll_seconds: float = JOBS_POLL_SECONDS
    # Modules imported by every job runner to register more handlers.
    job_modules: tuple[str, ...] = ()

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def database_kind(self) -> str:
        return "sqlite" if self.database_url.startswith("sqlite") else "postgresql"

    @property
    def sqlite_path(self) -> Path:
        return sqlite_path(self.database_url)

    @property
    def storage_kind(self) -> str:
        return urlsplit(self.storage_url).scheme

    @property
    def local_storage_path(self) -> Path:
        return Path(self.storage_url.removeprefix("file://"))

    @property
    def s3_bucket(self) -> str:
        return urlsplit(self.storage_url).netloc

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        var_dir = Path(env.get("PORTAL_VAR_DIR", "var"))
        environment = env.get("PORTAL_ENV", "development")
        if environment not in ("development", "production"):
            raise ConfigError("PORTAL_ENV", f"must be 'development' or 'production', not {environment!r}")
        database_url = _database_url("PORTAL_DATABASE_URL", env.get("PORTAL_DATABASE_URL", f"sqlite:///{var_dir}/portal.db"))
        migration_url = env.get("PORTAL_MIGRATION_DATABASE_URL")
        storage_url = _storage_url(env.get("PORTAL_STORAGE_URL", f"file://{var_dir}/blobs"))
        smtp_url = env.get("PORTAL_SMTP_URL") or None
        if smtp_url and urlsplit(smtp_url).scheme not in ("smtp", "smtps"):
            raise ConfigError("PORTAL_SMTP_URL", "must look like smtp://host:port or smtps://host:port")
        try:
            port = int(env.get("PORT", "8000"))
        except ValueError:
            raise ConfigError("PORT", f"must be a number, not {env['PORT']!r}") from None
        return cls(
            port=port,
            environment=environment,
            var_dir=var_dir,
            database_url=database_url,
            migration_database_url=_database_url("PORTAL_MIGRATION_DATABASE_URL", migration_url) if migration_url else database_url,
            storage_url=storage_url,
            secret_key=_secret_key(env, var_dir, production=environment == "production"),
            smtp_url=smtp_url,
            s3_endpoint=env.get("PORTAL_S3_ENDPOINT") or None,
            aws_region=env.get("AWS_REGION", "us-east-1"),
            default_locale=env.get("PORTAL_DEFAULT_LOCALE", "zh_CN"),
            https=env.get("PORTAL_HTTPS", "false").lower() in ("1", "true", "yes"),
            # Links in emails come from here, never from a request's Host header.
            base_url=env.get("PORTAL_BASE_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            mail_from=env.get("PORTAL_MAIL_FROM") or "portal@localhost",
            upload_limits=parse_upload_limits(env.get("PORTAL_UPLOAD_LIMITS_MB")),
            audit_key=_audit_key(env.get("PORTAL_AUDIT_KEY") or None),
            audit_old_keys=tuple(filter(None, (part.strip() for part in env.get("PORTAL_AUDIT_OLD_KEYS", "").split(",")))),
            hash_strength=_hash_strength(env.get("PORTAL_PASSWORD_HASH", "strong"), production=environment == "production"),
            login_delay_step=_login_delay_step(env.get("PORTAL_LOGIN_DELAY_STEP")),
            metrics_token=_metrics_token(env.get("PORTAL_METRICS_TOKEN") or None),
            rate_limits=_rate_limits(env.get("PORTAL_RATE_LIMITS")),
            statement_timeout_ms=_milliseconds("PORTAL_STATEMENT_TIMEOUT_MS", env.get("PORTAL_STATEMENT_TIMEOUT_MS"), STATEMENT_TIMEOUT_MS),
            slow_query_ms=_milliseconds("PORTAL_SLOW_QUERY_MS", env.get("PORTAL_SLOW_QUERY_MS"), SLOW_QUERY_MS),
            jobs_in_process=_flag("PORTAL_JOBS_IN_PROCESS", env.get("PORTAL_JOBS_IN_PROCESS", "true")),
            jobs_poll_seconds=_poll_seconds(env.get("PORTAL_JOBS_POLL_SECONDS")),
            job_modules=tuple(filter(None, (part.strip() for part in env.get("PORTAL_JOB_MODULES", "").split(",")))),
        )


def sqlite_path(url: str) -> Path:
    # sqlite:///var/portal.db is relative, sqlite:////tmp/portal.db absolute.
    return Path(url.removeprefix("sqlite:///"))


def _database_url(variable: str, url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in DATABASE_SCHEMES:
        raise ConfigError(variable, f"unknown database scheme {scheme!r}; use sqlite:///path or postgresql://user:pass@host:port/db")
    if scheme == "sqlite" and not url.startswith("sqlite:///"):
        raise ConfigError(variable, "a SQLite URL has three slashes: sqlite:///var/portal.db")
    return url


def _hash_strength(strength: str, *, production: bool) -> str:
    if strength not in PASSWORD_HASH_STRENGTHS:
        raise ConfigError("PORTAL_PASSWORD_HASH", f"use 'strong' or 'cheap', not {strength!r}")
    if production and strength != "strong":
        raise ConfigError("PORTAL_PASSWORD_HASH", "only 'strong' in production: 'cheap' is for the test suite")
    return strength


def _login_delay_step(value: str | None) -> float:
    if value is None:
        return LOGIN_DELAY_STEP_SECONDS
    try:
        step = float(value)
    except ValueError:
        raise ConfigError("PORTAL_LOGIN_DELAY_STEP", f"must be a number of seconds, not {value!r}") from None
    if not 0 <= step <= 1:
        raise ConfigError("PORTAL_LOGIN_DELAY_STEP", f"use 0 to 1 seconds, not {value}")
    return step


def _metrics_token(token: str | None) -> str | None:
    if token is not None and len(token) < METRICS_TOKEN_MIN_LENGTH:
        raise ConfigError("PORTAL_METRICS_TOKEN", f"must be at least {METRICS_TOKEN_MIN_LENGTH} characters")
    return token


def _rate_limits(value: str | None) -> dict[str, Rate]:
    try:
        return parse_rate_limits(value)
    except ValueError as exc:
        raise ConfigError("PORTAL_RATE_LIMITS", str(exc)) from None


def _milliseconds(variable: str, value: str | None, default: int) -> int:
    if value is None or not value.strip():
        return default
    if not value.strip().isdigit() or int(value) > 3_600_000:
        raise ConfigError(variable, f"use a whole number of milliseconds from 0 (off) to 3600000, not {value!r}")
    return int(value)


def _flag(variable: str, value: str) -> bool:
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ConfigError(variable, f"use true or false, not {value!r}")


def _poll_seconds(value: str | None) -> float:
    if value is None:
        return JOBS_POLL_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError("PORTAL_JOBS_POLL_SECONDS", f"must be a number of seconds, not {value!r}") from None
    if not 0.05 <= seconds <= 60:
        raise ConfigError("PORTAL_JOBS_POLL_SECONDS", f"use 0.05 to 60 seconds, not {value}")
    return seconds


def _storage_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in STORAGE_SCHEMES:
        raise ConfigError("PORTAL_STORAGE_URL", f"unknown storage scheme {parts.scheme!r}; use file://path or s3://bucket")
    if parts.scheme == "s3" and not parts.netloc:
        raise ConfigError("PORTAL_STORAGE_URL", "an S3 URL names its bucket: s3://bucket")
    return url


def parse_upload_limits(value: str | None) -> dict[str, int]:
    """``"photo=15,drawing=300"`` -> bytes per category; categories not
    named keep their default."""
    limits = {key: category.limit_mb * MB for key, category in CATEGORIES.items()}
    low, high = UPLOAD_LIMIT_RANGE_MB
    for part in filter(None, (item.strip() for item in (value or "").split(","))):
        key, equals, megabytes = (piece.strip() for piece in part.partition("="))
        if key not in CATEGORIES:
            raise ConfigError("PORTAL_UPLOAD_LIMITS_MB", f"unknown category {key!r}; use one of {', '.join(CATEGORIES)}")
        if not equals:
            raise ConfigError("PORTAL_UPLOAD_LIMITS_MB", f"{key}: give a size, e.g. {key}=25")
        try:
            number = int(megabytes)
        except ValueError:
            raise ConfigError("PORTAL_UPLOAD_LIMITS_MB", f"{key}: {megabytes!r} is not a whole number of MB") from None
        if not low <= number <= high:
            raise ConfigError("PORTAL_UPLOAD_LIMITS_MB", f"{key}: use {low} to {high} MB, not {number}")
        limits[key] = number * MB
    return limits


def _audit_key(key: str | None) -> str | None:
    if key is not None and len(key) < SECRET_KEY_MIN_LENGTH:
        raise ConfigError("PORTAL_AUDIT_KEY", f"must be at least {SECRET_KEY_MIN_LENGTH} characters")
    return key


def _secret_key(env: Mapping[str, str], var_dir: Path, *, production: bool) -> str:
    key = env.get("PORTAL_SECRET_KEY")
    if key:
        if len(key) < SECRET_KEY_MIN_LENGTH:
            raise ConfigError("PORTAL_SECRET_KEY", f"must be at least {SECRET_KEY_MIN_LENGTH} characters")
        return key
    if production:
        raise ConfigError("PORTAL_SECRET_KEY", "must be set in production (PORTAL_ENV=production)")
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    log.warning("secret_key_generated", path=str(key_file), hint="set PORTAL_SECRET_KEY in production")
    return key


@functools.cache
def get_settings() -> Settings:
    return Settings.from_env(os.environ)
