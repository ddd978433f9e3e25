"""Scorecards computed ahead of time: one row per supplier and period,
filled by the ``kpi.scorecards`` job and read by the API and the board."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tenants.tables import Supplier, Tenant


class ScorecardFigures(Table):
    """A supplier's scorecard for one period (``2026-11``, ``2026-Q4``) as
    ``portal.quality.scorecards`` computed it, kept as its JSON (without the
    rank, which depends on who asks). ``covers_until``: every change stamped
    before it is in the figures (docs/kpi.md, "Precomputed figures")."""

    supplier_scope = "supplier"

    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, on_delete=OnDelete.cascade, null=False, index=True)
    supplier = ForeignKey(Supplier, on_delete=OnDelete.cascade, null=False)
    period = Varchar(length=7)
    # The zone the period's bounds were taken in: a tenant moving to another
    # zone moves every boundary.
    time_zone = Varchar(length=64)
    figures = Text()
    covers_until = Timestamptz()
    # Computed after the period's end: figures taken while it was running
    # are computed again once it has ended.
    ended = Boolean(default=False)
    computed_at = Timestamptz(default=TimestamptzNow())


TABLES = (ScorecardFigures,)
