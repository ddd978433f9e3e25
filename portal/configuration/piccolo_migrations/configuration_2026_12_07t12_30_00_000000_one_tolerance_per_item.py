from tenants.rls import keep_one_per, rows_and_indexes

ID = "2026-12-07T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one tolerance per item, for real: the unique index was never made"

# 2026-12-06T02:07:30 asked for a unique item_tolerance_item "IF NOT
# EXISTS", and Piccolo had already named its plain index of the item column
# so: the unique one was silently skipped, and two saves of a material's
# tolerance at once stored two rows. The newest row of each item stays.
STATEMENTS = [
    keep_one_per("item_tolerance", "tenant, item", "updated_at"),
    "DROP INDEX IF EXISTS item_tolerance_item",
    "CREATE UNIQUE INDEX item_tolerance_item ON item_tolerance (tenant, item)",
]

forwards = rows_and_indexes("configuration", ID, DESCRIPTION, STATEMENTS)
