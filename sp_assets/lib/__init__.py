"""Plain Python with no Dagster import: the SP-API client, the report lifecycle, warehouse writes.

Nothing below this package may import dagster, so each piece can be tested and reused alone.
"""
