"""The round trips of an authenticated read on PostgreSQL, counted so that
they cannot silently grow back (docs/performance.md "Request cost and
scale"). Each one costs the serving process an event-loop wake-up and
asyncpg's protocol work, and the server a parse, bind and execute.

A session this process has cached opens its transaction with one
statement that writes the RLS settings and reads the auth generation; the
rate limit's count, where limits are on, goes over a connection of its
own (not counted here); a warm pooled
connection prepares nothing again. When the generation moved, the
settings written for the cached context are emptied before anything else
runs, and the session is read again as on a first request."""

from __future__ import annotations

from typing import Any

import pytest

from portal.db import POOL_SIZE, get_engine
from tests.integration.orders.conftest import OrderWorld, shop
from tests.support.round_trips import RoundTrip, recorded_round_trips

__all__ = ["shop"]

pytestmark = pytest.mark.postgres

LIMITS = "portal rate limits"


def _of_pool(trips: list[RoundTrip]) -> list[RoundTrip]:
    return [trip for trip in trips if trip.connection != LIMITS]


def _list_orders(client: Any, shop: OrderWorld) -> list[RoundTrip]:
    with recorded_round_trips() as trips:
        answer = client.get("/api/v1/orders", headers=shop.as_("supplier_operator"))
    assert answer.status_code == 200, answer.text
    return list(trips)


def test_a_supplier_order_list_makes_seven_round_trips_on_the_pool(client: Any, shop: OrderWorld) -> None:
    # Warm: the statements prepared on whichever pooled connections serve
    # (asyncpg hands out the most recently used live one first).
    for _ in range(POOL_SIZE + 1):
        _list_orders(client, shop)
    pool = _of_pool(_list_orders(client, shop))
    assert [trip.kind for trip in pool if trip.kind == "prepare"] == [], pool
    assert len(pool) == 7, "\n".join(map(str, pool))
    begin, settings, *domain, commit = pool
    assert (begin.kind, begin.sql.strip()) == ("simple", "BEGIN;")
    assert "auth_generation" in settings.sql
    assert "set_config('app.tenant_id'" in settings.sql
    # The board's page with sorts off around it, and its status counts.
    assert [trip.sql.split('"', 2)[1] if '"' in trip.sql else "" for trip in domain if "FROM" in trip.sql] == [
        "outsourced_order",
        "order_status_count",
    ], domain
    assert (commit.kind, commit.sql.strip()) == ("simple", "COMMIT;")


async def _move_the_generation() -> None:
    await get_engine()._run_in_new_connection("UPDATE auth_generation SET value = value + 1 WHERE id = 1")


def test_a_moved_generation_empties_the_written_settings_before_the_session_is_read(client: Any, run: Any, shop: OrderWorld) -> None:
    _list_orders(client, shop)
    run(_move_the_generation)
    pool = _of_pool(_list_orders(client, shop))
    written, emptied, session = pool[1], pool[2], pool[3]
    assert "auth_generation" in written.sql
    assert "set_config('app.tenant_id'" in written.sql
    assert "set_config('app.tenant_id'" in emptied.sql
    assert "auth_generation" not in emptied.sql
    assert emptied.args[:4] == ("", "", "", ""), emptied
    assert '"auth_session"' in session.sql
    # Then the context read anew is written, and the list runs under it.
    assert sum("set_config('app.tenant_id'" in trip.sql for trip in pool) == 3, "\n".join(map(str, pool))
    assert len(_of_pool(_list_orders(client, shop))) == 7
