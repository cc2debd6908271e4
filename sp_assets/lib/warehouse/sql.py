"""What every part of the warehouse shares: the reserved schemas, the write target, small SQL helpers.

Layout: ``<mp>.<table>`` per marketplace code (``us.orders``), ``amazon.<table>`` union views
(``views``), and ``_sp_assets.loads``, the load ledger (``ledger``). The names live here once so the
write checks, the views and the ledger agree on which schemas are not marketplaces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from sp_assets.lib.naming import quote_identifier, safe_identifier

VIEW_SCHEMA = "amazon"
META_SCHEMA = "_sp_assets"
MARTS_SCHEMA = "marts"  # the analyst's layer (lib/marts), built by SQL, never a marketplace's copy of a table
LEDGER_TABLE = "loads"
RESERVED_SCHEMAS = frozenset({VIEW_SCHEMA, META_SCHEMA, MARTS_SCHEMA, "main", "information_schema", "pg_catalog",
                              "temp"})

# Names the warehouse gives its own temporary objects; a frame column may not start with ``_sp_``.
STAGED = "_sp_staged"
ROW = "_sp_row"


@dataclass(frozen=True)
class Target:
    """Everything a write needs to know about its table, computed before the lock is taken."""

    schema: str
    table: str
    operation: str
    source: str  # where the data came from, for the ledger (see ``ledger.LOAD_SOURCES``)
    columns: tuple[tuple[str, str], ...]  # (name, SQL type) the table must have, in creation order
    descriptions: Mapping[str, str] = field(default_factory=dict)
    table_description: str = ""
    partition_start: str | None = None
    partition_end: str | None = None
    note: str = ""
    typed_from_staged: bool = False  # add the staged frame's extra columns with DuckDB's inferred types
    # Columns created with the table but never added to an existing one: a load's candidate ``__raw``
    # columns, which its body keeps only if they hold something (``delimited``).
    provisional: frozenset[str] = frozenset()

    @property
    def qualified(self) -> str:
        return qualified(self.schema, self.table)


def qualified(schema: str, table: str) -> str:
    return f"{quote_identifier(schema, 'schema')}.{quote_identifier(table, 'table')}"


def check_write_schema(schema: str) -> None:
    """Writes go to marketplace schemas only: the views and the ledger are the warehouse's own."""
    safe_identifier(schema, "schema")
    if schema in RESERVED_SCHEMAS:
        raise ValueError(
            f"schema {schema!r} is reserved ({', '.join(sorted(RESERVED_SCHEMAS))}); write to a marketplace schema"
        )


def partition_text(value: object) -> str | None:
    """A window bound as the ledger stores it (ISO for dates and datetimes)."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_list(names: Sequence[str]) -> str:
    return ", ".join(quote_identifier(name, "column") for name in names)


def scalar(connection: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> int:
    """Run a DML statement and return its row count (fetchall: duckdb 2.0 rejects unfinished results)."""
    rows = connection.execute(sql, params).fetchall() if params else connection.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def table_columns(
    connection: duckdb.DuckDBPyConnection, schema: str, table: str, *, include_views: bool = False
) -> dict[str, str]:
    """``{column: DuckDB type}`` in table order; empty if the table (or, if asked, view) does not exist."""
    kinds = "" if include_views else "AND t.table_type = 'BASE TABLE'"
    rows = connection.execute(
        f"""SELECT c.column_name, c.data_type FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
            WHERE c.table_catalog = current_database() AND c.table_schema = ? AND c.table_name = ? {kinds}
            ORDER BY c.ordinal_position""",
        [schema, table],
    ).fetchall()
    return {name: sql_type for name, sql_type in rows}
