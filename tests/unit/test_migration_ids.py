"""Piccolo records a migration as run by its ID within its app: two files of
one app with the same ID mean the second is silently skipped forever."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ID_LINE = re.compile(r'^ID = "([^"]+)"$', re.MULTILINE)


def migration_ids() -> dict[Path, list[str]]:
    folders = sorted({*ROOT.glob("portal/*/piccolo_migrations"), *ROOT.glob("tenants/piccolo_migrations")})
    found: dict[Path, list[str]] = {}
    for folder in folders:
        found[folder] = [match[1] for path in folder.glob("*.py") if (match := ID_LINE.search(path.read_text()))]
    return found


def test_every_app_has_migrations_to_check() -> None:
    assert sum(len(ids) for ids in migration_ids().values()) > 20


def test_no_two_migrations_of_one_app_share_an_id() -> None:
    repeated = {
        str(folder.relative_to(ROOT)): [name for name, count in Counter(ids).items() if count > 1]
        for folder, ids in migration_ids().items()
    }
    assert {folder: ids for folder, ids in repeated.items() if ids} == {}
