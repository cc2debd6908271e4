"""The load ledger ``_sp_assets.loads``: one row per write, in the same transaction as the data.

Without it a partition that legitimately has zero rows looks the same as one never loaded; with it,
"loaded, 0 rows" is visible, and so is where each load came from: ``source`` says whether the rows
came from Amazon or from the sp_assets sandbox (synthetic data), so fake data can never pass for
real data in a warehouse. A ledger written before ``source`` existed gets the column added in place
by the next write; its older rows keep NULL (unknown).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import polars as pl

from sp_assets.lib.naming import quote_identifier
from sp_assets.lib.warehouse.sql import LEDGER_TABLE, META_SCHEMA, Target, literal, table_columns

# Where a load's rows came from; a Warehouse is constructed with one of these.
LOAD_SOURCES = ("amazon", "sandbox")

SOURCE_COMMENT = (
    "Where the rows of this load came from: 'amazon' (the Selling Partner API) or 'sandbox' (synthetic "
    "data from the sp_assets sandbox). NULL (unknown) for loads recorded before this column existed."
)

# (SQL type, polars dtype) per column, in table order; the dtype serves empty results.
LEDGER_COLUMNS: dict[str, tuple[str, pl.DataType]] = {
    "load_id": ("BIGINT", pl.Int64()),
    "schema_name": ("VARCHAR NOT NULL", pl.String()),
    "table_name": ("VARCHAR NOT NULL", pl.String()),
    "operation": ("VARCHAR NOT NULL", pl.String()),
    "partition_start": ("VARCHAR", pl.String()),
    "partition_end": ("VARCHAR", pl.String()),
    "rows": ("BIGINT NOT NULL", pl.Int64()),
    "inserted": ("BIGINT", pl.Int64()),
    "updated": ("BIGINT", pl.Int64()),
    "deleted": ("BIGINT", pl.Int64()),
    "skipped": ("BIGINT", pl.Int64()),
    "written_at": ("TIMESTAMPTZ NOT NULL", pl.Datetime("us", "UTC")),
    "note": ("VARCHAR", pl.String()),
    "source": ("VARCHAR", pl.String()),
}
_COMMENTS = {"source": SOURCE_COMMENT}
_LEDGER = f"{quote_identifier(META_SCHEMA, 'schema')}.{quote_identifier(LEDGER_TABLE, 'table')}"


def check_source(source: object) -> str:
    """``source`` as given if it is one of ``LOAD_SOURCES``; else a ValueError naming the argument."""
    if source not in LOAD_SOURCES:
        raise ValueError(f"source must be one of {', '.join(map(repr, LOAD_SOURCES))}; got {source!r}")
    return str(source)


def ensure_ledger(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the ledger, or add the columns an older ledger lacks (they stay NULL on its old rows)."""
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(META_SCHEMA, 'schema')}")
    existing = table_columns(connection, META_SCHEMA, LEDGER_TABLE)
    if not existing:
        definitions = ", ".join(f'"{name}" {sql}' for name, (sql, _) in LEDGER_COLUMNS.items())
        connection.execute(f"CREATE TABLE {_LEDGER} ({definitions})")
        _comment(connection, list(LEDGER_COLUMNS))
        return
    missing = [name for name in LEDGER_COLUMNS if name not in existing]
    for name in missing:
        connection.execute(f'ALTER TABLE {_LEDGER} ADD COLUMN "{name}" {LEDGER_COLUMNS[name][0]}')
    _comment(connection, missing)


def _comment(connection: duckdb.DuckDBPyConnection, columns: Sequence[str]) -> None:
    for name in columns:
        if name in _COMMENTS:
            connection.execute(f'COMMENT ON COLUMN {_LEDGER}."{name}" IS {literal(_COMMENTS[name])}')


def record_load(connection: duckdb.DuckDBPyConnection, target: Target, counts: Any) -> None:
    """The ledger row, in the same transaction as the data, so both land or neither does.

    ``counts`` is the write's ``transaction.Counts`` (inserted, updated, deleted, unchanged, stale).
    """
    ensure_ledger(connection)
    names = ", ".join(f'"{name}"' for name in LEDGER_COLUMNS)
    connection.execute(
        f"""INSERT INTO {_LEDGER} ({names}) SELECT coalesce((SELECT max(load_id) FROM {_LEDGER}), 0) + 1,
            ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?""",
        [
            target.schema,
            target.table,
            target.operation,
            target.partition_start,
            target.partition_end,
            counts.inserted + counts.updated,
            counts.inserted,
            counts.updated,
            counts.deleted,
            counts.unchanged + counts.stale,
            target.note or None,
            target.source,
        ],
    ).fetchall()


def empty_loads() -> pl.DataFrame:
    """The ledger's shape with no rows: what ``loads()`` returns before anything was written."""
    return pl.DataFrame(schema={name: dtype for name, (_, dtype) in LEDGER_COLUMNS.items()})


def loads_query(existing: Sequence[str], filters: dict[str, str]) -> tuple[str, list[str]]:
    """SQL for the ledger rows, newest first, with every ledger column even on an older ledger.

    A column the stored ledger lacks (``source`` before its first write since the upgrade) reads as
    NULL, so callers always get the same columns; the ledger itself is only migrated by a write.
    """
    selects = [
        f'"{name}"' if name in existing else f'CAST(NULL AS {sql.removesuffix(" NOT NULL")}) AS "{name}"'
        for name, (sql, _) in LEDGER_COLUMNS.items()
    ]
    where = " AND ".join(f'"{column}" = ?' for column in filters)
    sql = (
        f"SELECT {', '.join(selects)} FROM {_LEDGER} {f'WHERE {where}' if where else ''} "
        "ORDER BY written_at DESC, load_id DESC"
    )
    return sql, list(filters.values())
