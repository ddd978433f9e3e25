from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-05T09:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "a draft order, its lines and revisions are hidden from the supplier in the database too"

# The scoping layer's rule again (Order.supplier_visible, supplier_parents):
# a supplier user sees an order once issued, and its lines and revisions
# only through an order it sees. Lines and revisions used to be limited to
# the tenant alone here.
RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql("outsourced_order", supplier_column="supplier", visible="status <> 'draft'")
    + policy_sql("order_line", parents={"order": "outsourced_order"})
    + policy_sql("order_revision", parents={"order": "outsourced_order"})
)

forwards = indexes_and_policies("orders", ID, DESCRIPTION, [], RLS)
