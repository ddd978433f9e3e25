"""A pooled PostgreSQL connection goes to the next request as it came: the
pool does not reset sessions between requests (portal.db.keep_session), so
the portal itself must leave nothing on one. Every connection of the pool
is checked after requests of a buyer and of a supplier user, each with its
tenant settings and statement timeout."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portal.db import POOL_SIZE, get_engine
from tests.integration.orders.conftest import OrderWorld, shop

__all__ = ["shop"]

pytestmark = pytest.mark.postgres

SESSION_STATE = """
SELECT current_setting('app.tenant_id', true) AS tenant,
       current_setting('app.supplier_id', true) AS supplier,
       current_setting('app.user_id', true) AS "user",
       current_setting('app.system', true) AS system,
       current_setting('statement_timeout') AS timeout,
       (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory') AS advisory_locks,
       (SELECT count(*) FROM pg_listening_channels()) AS channels,
       (SELECT count(*) FROM pg_cursors WHERE is_holdable) AS cursors,
       pg_backend_pid() AS pid
"""


async def _every_pooled_session() -> list[dict[str, Any]]:
    """The session state of every connection the pool holds: all of them
    taken at once, so none is handed out twice."""
    pool = get_engine().pool
    assert pool is not None
    connections = [await pool.acquire() for _ in range(POOL_SIZE)]
    try:
        return [dict(await connection.fetchrow(SESSION_STATE)) for connection in connections]
    finally:
        await asyncio.gather(*(pool.release(connection) for connection in connections))


def test_requests_leave_nothing_on_a_pooled_connection(client: Any, run: Any, shop: OrderWorld) -> None:
    for who in ("planner", "supplier_admin", "supplier_operator"):
        for path in ("/api/v1/orders", "/api/v1/documents", "/api/v1/progress-reports"):
            answer = client.get(path, headers=shop.as_(who))
            assert answer.status_code == 200, (who, path, answer.text)
    sessions = run(_every_pooled_session)
    assert len({session["pid"] for session in sessions}) == POOL_SIZE
    defaults = {"tenant": "", "supplier": "", "user": "", "system": ""}
    for session in sessions:
        # Never set on this connection (None) or set transaction-locally and
        # gone with the transaction (''): either way no tenant is left.
        assert {key: session[key] or "" for key in defaults} == defaults, session
        assert session["timeout"] == "0", session
        assert (session["advisory_locks"], session["channels"], session["cursors"]) == (0, 0, 0), session
