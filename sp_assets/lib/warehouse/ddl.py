"""Creating tables and absorbing schema drift, inside the write's transaction.

A write never fails because Amazon added a column: a column new to the data is added to the table
(``ALTER TABLE ... ADD COLUMN``), and a table column the data lacks is simply written as null. A text
column that a load now types (a table from before typing) is converted, keeping its rows
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
    """Convert the table's text columns that this load types (a table from before typing), keeping its rows.

    ``parsers`` maps a column to the DuckDB expression that parses its text (``textformats.parse_sql``).
    Each existing VARCHAR column among them becomes the load's type, so every row keeps its value, now
    typed; a value that does not parse keeps its text in ``<column>__raw`` (added if needed, at the
    end) rather than becoming a silent null. Inside the write's transaction: a failure leaves the
    table as it was. Returns (added raw columns, unparsed counts).

    The table is rebuilt (``CREATE TABLE ... AS SELECT``, drop, rename, comments copied) rather than
    altered column by column: DuckLake only allows widening type changes, and DuckDB 1.5 refuses to
    commit a transaction that updates a table and then alters it (the raw text must be saved before
    the column is typed). The rebuild is DDL only, so the rows the load then writes commit with it.
    """
    existing = table_columns(connection, target.schema, target.table)
    wanted = dict(target.columns)
    typed = {name: parsed for name, parsed in parsers.items()
             if existing.get(name) == VARCHAR and wanted.get(name, VARCHAR) != VARCHAR}
    if not typed:
        return (), {}
    unparsed: dict[str, int] = {}
    for name, parsed in typed.items():
        failed = failed_sql(quote_identifier(name, "column"), parsed)
        count = scalar(connection, f"SELECT count(*) FROM {target.qualified} WHERE {failed}")
        if count:
            unparsed[name] = count
    added = tuple(raw_column(name) for name in unparsed if raw_column(name) not in existing)
    selects = [_migrated_column(name, typed, wanted, unparsed) for name in existing]
    selects += [f"CASE WHEN {failed_sql(quote_identifier(name, 'column'), typed[name])} THEN "
                f"{quote_identifier(name, 'column')} END AS {quote_identifier(raw_column(name), 'column')}"
                for name in unparsed if raw_column(name) in added]
    _rebuild(connection, target, ", ".join(selects))
    return added, unparsed


def _migrated_column(name: str, typed: Mapping[str, str], wanted: Mapping[str, str], unparsed: Mapping[str, int]
                     ) -> str:
    """One column of the rebuilt table: typed by its parser, or the raw text saved, or as it was."""
    column = quote_identifier(name, "column")
    if name in typed:
        return f"CAST(({typed[name]}) AS {wanted[name]}) AS {column}"
    for source in unparsed:
        if name == raw_column(source):  # an existing raw column: this migration's failures overwrite it
            failed = failed_sql(quote_identifier(source, "column"), typed[source])
            return f"CASE WHEN {failed} THEN {quote_identifier(source, 'column')} ELSE {column} END AS {column}"
    return column


def _rebuild(connection: duckdb.DuckDBPyConnection, target: Target, selects: str) -> None:
    """Replace the table by ``SELECT selects FROM`` it, under the same name, with its comments."""
    table_comment, column_comments = _comments(connection, target)
    rebuilt = quote_identifier(f"{target.table}__sp_migrating", "table")
    schema = quote_identifier(target.schema, "schema")
    connection.execute(f"CREATE TABLE {schema}.{rebuilt} AS SELECT {selects} FROM {target.qualified}")
    connection.execute(f"DROP TABLE {target.qualified}")
    connection.execute(f"ALTER TABLE {schema}.{rebuilt} RENAME TO {quote_identifier(target.table, 'table')}")
    if table_comment:
        connection.execute(f"COMMENT ON TABLE {target.qualified} IS {literal(table_comment)}")
    for name, text in column_comments.items():
        connection.execute(f"COMMENT ON COLUMN {target.qualified}.{quote_identifier(name, 'column')} "
                           f"IS {literal(text)}")


def _comments(connection: duckdb.DuckDBPyConnection, target: Target) -> tuple[str | None, dict[str, str]]:
    """The table's comment and its columns' (those that have one)."""
    table = connection.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? "
        "AND table_name = ?", [target.schema, target.table]).fetchone()
    columns = connection.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ? AND comment IS NOT NULL", [target.schema, target.table]).fetchall()
    return (table[0] if table else None), {name: text for name, text in columns if text}
