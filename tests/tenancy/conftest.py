"""Fixtures of the isolation matrix modules: each module seeds its own two
worlds (see tests/tenancy/matrix.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tenancy.matrix import Worlds, make_worlds, route_handlers


@pytest.fixture(scope="module")
def worlds(client: Any, run: Any) -> Worlds:
    return make_worlds(client, run)


@pytest.fixture(scope="module")
def handlers(app: Any) -> dict[tuple[str, str], Any]:
    return route_handlers(app)
