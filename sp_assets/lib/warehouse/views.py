"""The ``amazon.<table>`` views: every marketplace's copy of a table in one relation.

A user asks "orders across all marketplaces" without knowing which schemas exist. The view is
rebuilt inside the write that created a table or added a column to it, so it always covers every
marketplace schema and every column (``UNION ALL BY NAME`` fills a column one marketplace lacks with
null). A table with its own ``marketplace`` column keeps it as ``source_marketplace``.
"""

from __future__ import annotations

import duckdb

from sp_assets.lib.naming import quote_identifier, safe_identifier
from sp_assets.lib.warehouse.sql import RESERVED_SCHEMAS, VIEW_SCHEMA, literal, table_columns

MARKETPLACE_COLUMN = "marketplace"
SOURCE_MARKETPLACE_COLUMN = "source_marketplace"


def rebuild_union_view(connection: duckdb.DuckDBPyConnection, table: str) -> None:
    """``amazon.<table>``: every marketplace's table, UNION ALL BY NAME, with a ``marketplace`` column."""
    schemas = marketplace_schemas(connection, table)
    if not schemas:
        return
    selects = []
    for schema in schemas:
        has_marketplace = MARKETPLACE_COLUMN in table_columns(connection, schema, table)
        star = (
            f"* EXCLUDE ({MARKETPLACE_COLUMN}), {MARKETPLACE_COLUMN} AS {SOURCE_MARKETPLACE_COLUMN}"
            if has_marketplace
            else "*"
        )
        selects.append(
            f"SELECT {literal(schema)} AS {MARKETPLACE_COLUMN}, {star} "
            f"FROM {quote_identifier(schema, 'schema')}.{quote_identifier(table, 'table')}"
        )
    connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{VIEW_SCHEMA}"')
    connection.execute(
        f'CREATE OR REPLACE VIEW "{VIEW_SCHEMA}".{quote_identifier(table, "table")} AS '
        + " UNION ALL BY NAME ".join(selects)
    )


def marketplace_schemas(connection: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The marketplace schemas (not reserved, safe names) that hold a base table ``table``."""
    reserved = ", ".join(literal(name) for name in sorted(RESERVED_SCHEMAS))
    rows = connection.execute(
        f"""SELECT schema_name FROM duckdb_tables()
            WHERE database_name = current_database() AND NOT temporary AND table_name = ?
              AND schema_name NOT IN ({reserved})
            ORDER BY schema_name""",
        [table],
    ).fetchall()
    return [name for (name,) in rows if _is_safe(name)]


def _is_safe(name: str) -> bool:
    try:
        safe_identifier(name)
    except ValueError:
        return False
    return True
