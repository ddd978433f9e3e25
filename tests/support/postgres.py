"""A throwaway PostgreSQL cluster for the tests, started with initdb/pg_ctl.

One cluster serves a whole run; each test process (each xdist worker) has
its own database in it, copied from a migrated template.

initdb and postgres refuse to run as root: as root the cluster belongs to
the ``postgres`` system user and the commands run through runuser.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from tests.support.ports import free_port

OWNER = "portal_owner"
APP_ROLE = "portal_app"
APP_PASSWORD = "portal-app-password"
DATABASE = "portal"


def postgres_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)")
    return Path(candidates[-1]).parent


def _as_cluster_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass(frozen=True)
class PostgresCluster:
    directory: Path
    port: int
    # The database psql and the URLs name: this process's own.
    database: str = DATABASE

    @classmethod
    def start(cls) -> PostgresCluster:
        directory = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        data = directory / "data"
        port = free_port()
        binaries = postgres_bin()
        subprocess.run(
            _as_cluster_user([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", OWNER, "-E", "UTF8", "--no-sync"]),
            check=True,
            capture_output=True,
        )
        cluster = cls(directory, port)
        cluster.resume()
        cluster.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
        # The app connects as a role that owns nothing and cannot bypass RLS.
        cluster.psql(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        return cluster

    def psql(self, sql: str, database: str | None = None) -> str:
        result = subprocess.run(
            [
                str(postgres_bin() / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                OWNER,
                "-d",
                database or self.database,
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def copy(self, name: str) -> PostgresCluster:
        """A new database ``name`` copied from this one (which nobody may be
        connected to), as the same cluster seen from that database."""
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{self.database}"', database="postgres")
        return replace(self, database=name)

    @property
    def owner_url(self) -> str:
        return f"postgresql://{OWNER}@127.0.0.1:{self.port}/{self.database}"

    @property
    def app_url(self) -> str:
        return f"postgresql://{APP_ROLE}:{APP_PASSWORD}@127.0.0.1:{self.port}/{self.database}"

    def resume(self) -> None:
        """Start the server (again) on the same data and port."""
        settings = "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        options = f"-p {self.port} -k {self.directory} {settings}"
        command = [str(postgres_bin() / "pg_ctl"), "-D", str(self.directory / "data"), "-o", options, "-l", str(self.directory / "log")]
        subprocess.run(_as_cluster_user([*command, "-w", "start"]), check=True, capture_output=True)

    def pause(self) -> None:
        """Stop the server, keeping its data, as an outage would: open
        connections are cut."""
        command = [str(postgres_bin() / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop"]
        subprocess.run(_as_cluster_user(command), check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(
            _as_cluster_user([str(postgres_bin() / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)
