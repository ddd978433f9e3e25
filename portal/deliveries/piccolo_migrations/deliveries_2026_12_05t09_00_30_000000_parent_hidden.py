from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-05T09:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "deliveries follow their order's visibility for suppliers; lines their delivery's"

# Delivery lines used to be limited to the tenant alone here.
RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql("delivery", supplier_column="supplier", parents={"order": "outsourced_order"})
    + policy_sql("delivery_line", parents={"delivery": "delivery"})
)

forwards = indexes_and_policies("deliveries", ID, DESCRIPTION, [], RLS)
