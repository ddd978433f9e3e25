from tenants.rls import rows_and_indexes

ID = "2026-12-08T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "demo NCRs from a rejected receipt name their source as the services do"

# The KPI demo history wrote source 'delivery', which no NCR page knows
# (portal.quality.ncrs.SOURCES): each such NCR's page answered 500.
STATEMENTS = ["UPDATE ncr SET source = 'delivery_line' WHERE source = 'delivery'"]

forwards = rows_and_indexes("quality", ID, DESCRIPTION, STATEMENTS)
