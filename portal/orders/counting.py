"""Order counts per tenant, supplier and status, kept exact by the database.

The board shows how many orders are in each status; counting them on every
request reads every order of the tenant. Instead ``order_status_count``
holds one row per tenant, supplier and status, and triggers on
``outsourced_order`` move it in the same statement as every insert, status
or supplier change and delete, whichever code path made it (a service, a
handover's transfer, a bulk import, an operator's SQL). The counts are as
exact as the orders: a rolled-back change rolls its count back with it.

On PostgreSQL a status change moves two count rows; both are taken in one
fixed order (supplier, then status) so that two transactions moving orders
between the same two statuses in opposite directions cannot deadlock.
"""

from __future__ import annotations

_SQLITE_ADD = (
    "INSERT INTO order_status_count (tenant, supplier, status, orders) VALUES (NEW.tenant, NEW.supplier, NEW.status, 1) "
    "ON CONFLICT (tenant, supplier, status) DO UPDATE SET orders = orders + 1;"
)
_SQLITE_REMOVE = (
    "UPDATE order_status_count SET orders = orders - 1 WHERE tenant = OLD.tenant AND supplier = OLD.supplier AND status = OLD.status;"
)

TRIGGERS: dict[str, list[str]] = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION portal_order_count(t uuid, s uuid, st varchar, delta integer) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO order_status_count (tenant, supplier, status, orders) VALUES (t, s, st, delta)
  ON CONFLICT (tenant, supplier, status) DO UPDATE SET orders = order_status_count.orders + excluded.orders
$$""",
        """CREATE OR REPLACE FUNCTION portal_order_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM portal_order_count(NEW.tenant, NEW.supplier, NEW.status, 1);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM portal_order_count(OLD.tenant, OLD.supplier, OLD.status, -1);
  ELSIF (OLD.tenant, OLD.supplier, OLD.status) IS DISTINCT FROM (NEW.tenant, NEW.supplier, NEW.status) THEN
    IF (OLD.supplier::text, OLD.status) < (NEW.supplier::text, NEW.status) THEN
      PERFORM portal_order_count(OLD.tenant, OLD.supplier, OLD.status, -1);
      PERFORM portal_order_count(NEW.tenant, NEW.supplier, NEW.status, 1);
    ELSE
      PERFORM portal_order_count(NEW.tenant, NEW.supplier, NEW.status, 1);
      PERFORM portal_order_count(OLD.tenant, OLD.supplier, OLD.status, -1);
    END IF;
  END IF;
  RETURN NULL;
END $$""",
        "DROP TRIGGER IF EXISTS order_counted ON outsourced_order",
        "CREATE TRIGGER order_counted AFTER INSERT OR DELETE OR UPDATE OF tenant, supplier, status ON outsourced_order "
        "FOR EACH ROW EXECUTE FUNCTION portal_order_counted()",
    ],
    "sqlite": [
        f"CREATE TRIGGER IF NOT EXISTS order_counted_insert AFTER INSERT ON outsourced_order BEGIN {_SQLITE_ADD} END",
        f"CREATE TRIGGER IF NOT EXISTS order_counted_delete AFTER DELETE ON outsourced_order BEGIN {_SQLITE_REMOVE} END",
        "CREATE TRIGGER IF NOT EXISTS order_counted_update AFTER UPDATE OF tenant, supplier, status ON outsourced_order "
        "WHEN OLD.tenant IS NOT NEW.tenant OR OLD.supplier IS NOT NEW.supplier OR OLD.status IS NOT NEW.status "
        f"BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
    ],
}

BACKFILL = (
    "INSERT INTO order_status_count (tenant, supplier, status, orders) "
    "SELECT tenant, supplier, status, count(*) FROM outsourced_order GROUP BY tenant, supplier, status"
)
