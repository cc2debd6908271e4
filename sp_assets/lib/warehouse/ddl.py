"""Creating tables and absorbing schema drift, inside the write's transaction.

A write never fails because Amazon added a column: a column new to the data is added to the table
(``ALTER TABLE ... ADD COLUMN``), and a table column the data lacks is simply written as null. A text
column that a load now types (a table from before typing) is converted in place, keeping its rows
(``migrate_text_columns``). Table
and column descriptions of a ``TableSpec`` become DuckDB comments, so ``duckdb_columns()`` documents
the warehouse. Tables carry no PRIMARY KEY constraint (see ``frames.plan_merge``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb

from sp_assets.lib.naming import quote_identifier
from sp_assets.lib.tablespec import VARCHAR
from sp_assets.lib.textformats import failed_sql, raw_column
from sp_assets.lib.warehouse.sql import ROW, STAGED, Target, literal, scalar, table_columns


def ensure_table(connection: duckdb.DuckDBPyConnection, target: Target) -> tuple[bool, tuple[str, ...]]:
    """Create the table, or add the columns it lacks (schema drift); report (created, added columns).

    ``target.provisional`` columns are only part of a new table: adding a column to a table that
    has rows writes a null for every row (in memory, under the load's memory limit), so the body
    of the write adds such a column itself, only when it turns out to be needed."""
    wanted = dict(target.columns)
    if target.typed_from_staged:
        for name, sql_type in staged_types(connection).items():
            if name != ROW:
                wanted.setdefault(name, sql_type)
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(target.schema, 'schema')}")
    existing = table_columns(connection, target.schema, target.table)
    if not existing:
        definitions = ", ".join(f"{quote_identifier(name, 'column')} {sql}" for name, sql in wanted.items())
        connection.execute(f"CREATE TABLE {target.qualified} ({definitions})")
        comment(connection, target, list(wanted), table=True)
        return True, ()
    added = [name for name in wanted if name not in existing and name not in target.provisional]
    for name in added:
        connection.execute(
            f"ALTER TABLE {target.qualified} ADD COLUMN {quote_identifier(name, 'column')} {wanted[name]}"
        )
    comment(connection, target, added, table=False)
    return False, tuple(added)


def staged_types(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """DuckDB's own type for each staged frame column (a NULL-only column becomes VARCHAR)."""
    relation = connection.sql(f"SELECT * FROM {STAGED} LIMIT 0")
    types = {}
    for name, duck_type in zip(relation.columns, relation.types, strict=True):
        text = str(duck_type)
        types[name] = VARCHAR if text.strip('"').upper() == "NULL" else text
    return types


def comment(
    connection: duckdb.DuckDBPyConnection, target: Target, columns: Sequence[str], *, table: bool
) -> None:
    """Spec descriptions become DuckDB comments, so ``duckdb_columns()`` documents the warehouse."""
    if table and target.table_description:
        connection.execute(f"COMMENT ON TABLE {target.qualified} IS {literal(target.table_description)}")
    for name in columns:
        description = target.descriptions.get(name)
        if description:
            column = f"{target.qualified}.{quote_identifier(name, 'column')}"
            connection.execute(f"COMMENT ON COLUMN {column} IS {literal(description)}")


def migrate_text_columns(
    connection: duckdb.DuckDBPyConnection, target: Target, parsers: Mapping[str, str]
) -> tuple[tuple[str, ...], dict[str, int]]:
    """Convert in place the table's text columns that this load types (a table from before typing).

    ``parsers`` maps a column to the DuckDB expression that parses its text (``textformats.parse_sql``).
    Each existing VARCHAR column among them becomes the load's type (``ALTER ... SET DATA TYPE ...
    USING``), so every row keeps its value, now typed; a value that does not parse keeps its text in
    ``<column>__raw`` (added if needed) rather than becoming a silent null. Inside the write's
    transaction: a failure leaves the table as it was. Returns (added raw columns, unparsed counts).
    """
    existing = table_columns(connection, target.schema, target.table)
    wanted = dict(target.columns)
    added: list[str] = []
    unparsed: dict[str, int] = {}
    for name, parsed in parsers.items():
        if existing.get(name) != VARCHAR or wanted.get(name, VARCHAR) == VARCHAR:
            continue
        column = quote_identifier(name, "column")
        failed = failed_sql(column, parsed)
        count = scalar(connection, f"SELECT count(*) FROM {target.qualified} WHERE {failed}")
        if count:
            raw = raw_column(name)
            if raw not in existing and raw not in added:
                connection.execute(f"ALTER TABLE {target.qualified} ADD COLUMN {quote_identifier(raw, 'column')} "
                                   f"{VARCHAR}")
                added.append(raw)
            connection.execute(f"UPDATE {target.qualified} SET {quote_identifier(raw, 'column')} = {column} "
                               f"WHERE {failed}")
            unparsed[name] = count
        connection.execute(
            f"ALTER TABLE {target.qualified} ALTER COLUMN {column} SET DATA TYPE {wanted[name]} USING ({parsed})"
        )
    return tuple(added), unparsed
