"""The ``amazon.<table>`` views: every marketplace's copy of a table in one relation.

A user asks "orders across all marketplaces" without knowing which schemas exist. The view is
rebuilt inside the write that created a table or added a column to it, so it always covers every
marketplace schema and every column (``UNION ALL BY NAME`` fills a column one marketplace lacks with
null). Each row says where it came from: ``account`` and ``marketplace``, read back from the schema's
name (``acme_us``: account ``acme``, marketplace ``us``; ``us``, the name when one seller account is
configured: account ``default``), so a query over the views reads the same with one account or many.
A table with its own ``marketplace`` or ``account`` column keeps it as ``source_marketplace`` /
``source_account``.

**Current-state views.** ``orders`` is replaced by purchase day, so an order's status there is the
one of the day's last re-pull and freezes once the day leaves the schedule's ``days_back``;
``orders_upsert`` merges every update by order id. ``<mp>.orders_current`` is ``orders`` (one row per
order loaded by purchase day) with each row taken from ``orders_upsert`` instead wherever that holds
a newer ``last_update_date`` for the order; ``current_source`` says which. ``amazon.orders_current``
unions them like the other views. They are (re)built inside the write that creates or alters either
table, or that writes one of them while the view is missing (a warehouse from before the view).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from sp_assets.lib.marketplaces import split_entry_name
from sp_assets.lib.naming import quote_identifier, safe_identifier
from sp_assets.lib.orders import ORDERS, ORDERS_UPSERT
from sp_assets.lib.tablespec import TableSpec
from sp_assets.lib.warehouse.sql import RESERVED_SCHEMAS, VIEW_SCHEMA, literal, qualified, table_columns

MARKETPLACE_COLUMN = "marketplace"
SOURCE_MARKETPLACE_COLUMN = "source_marketplace"
ACCOUNT_COLUMN = "account"
SOURCE_ACCOUNT_COLUMN = "source_account"
# The columns every view adds, each renamed to source_<name> where the table has its own.
_ORIGIN_COLUMNS = {ACCOUNT_COLUMN: SOURCE_ACCOUNT_COLUMN, MARKETPLACE_COLUMN: SOURCE_MARKETPLACE_COLUMN}
CURRENT_SOURCE_COLUMN = "current_source"


@dataclass(frozen=True)
class CurrentView:
    """``<mp>.<name>``: the rows of ``base``, each replaced by the row of ``updates`` with the same key
    when that one has a newer version (the key and version are the updates table's spec's)."""

    name: str
    base: TableSpec
    updates: TableSpec

    @property
    def key(self) -> tuple[str, ...]:
        return self.updates.primary_key

    @property
    def version(self) -> str:
        if self.updates.version_column is None:
            raise ValueError(f"{self.updates.name} has no version column, so no row of it can be 'newer'")
        return self.updates.version_column


CURRENT_VIEWS = (CurrentView("orders_current", ORDERS, ORDERS_UPSERT),)


def refresh_views(connection: duckdb.DuckDBPyConnection, schema: str, table: str, *, changed: bool) -> None:
    """The views over ``<schema>.<table>``, after a write to it (inside its transaction).

    ``changed``: the write created the table or added a column, so every view over it is rebuilt; a
    current-state view is also built when it is missing (written before that view existed), and the
    union view when it predates its ``account`` column (a warehouse written before issue 19), so the
    marts and analysts can rely on that column after any write.
    """
    if changed or not _union_has_account(connection, table):
        rebuild_union_view(connection, table)
    for view in CURRENT_VIEWS:
        reads_table = table in (view.base.name, view.updates.name)
        if reads_table and (changed or not _view_exists(connection, schema, view.name)):
            rebuild_current_view(connection, schema, view)


def origin(schema: str) -> tuple[str, str]:
    """``(account, marketplace)`` the views give every row of ``schema``: the one place that says it, so
    anything else labelling rows by seller account (the marts) reads the views' own values."""
    return split_entry_name(schema)


def rebuild_union_view(connection: duckdb.DuckDBPyConnection, table: str) -> None:
    """``amazon.<table>``: every marketplace's table, UNION ALL BY NAME, with ``account`` and ``marketplace``."""
    _union(connection, table, marketplace_schemas(connection, table))


def _union(connection: duckdb.DuckDBPyConnection, relation: str, schemas: list[str]) -> None:
    """``amazon.<relation>`` over ``<schema>.<relation>`` (a table or a view) of each of ``schemas``."""
    if not schemas:
        return
    selects = []
    for schema in schemas:
        columns = table_columns(connection, schema, relation, include_views=True)
        own = [name for name in _ORIGIN_COLUMNS if name in columns]
        star = "*" if not own else (f"* EXCLUDE ({', '.join(own)}), "
                                    + ", ".join(f"{name} AS {_ORIGIN_COLUMNS[name]}" for name in own))
        account, marketplace = origin(schema)
        selects.append(f"SELECT {literal(account)} AS {ACCOUNT_COLUMN}, {literal(marketplace)} AS "
                       f"{MARKETPLACE_COLUMN}, {star} FROM {qualified(schema, relation)}")
    connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{VIEW_SCHEMA}"')
    connection.execute(
        f'CREATE OR REPLACE VIEW "{VIEW_SCHEMA}".{quote_identifier(relation, "table")} AS '
        + " UNION ALL BY NAME ".join(selects)
    )


def rebuild_current_view(connection: duckdb.DuckDBPyConnection, schema: str, view: CurrentView) -> None:
    """``<schema>.<view>`` and ``amazon.<view>``; nothing while the base table lacks the key or version."""
    base = table_columns(connection, schema, view.base.name)
    if not {*view.key, view.version} <= set(base):
        return
    updates = table_columns(connection, schema, view.updates.name)
    select = _current_sql(schema, view, list(base), list(updates))
    connection.execute(f"CREATE OR REPLACE VIEW {qualified(schema, view.name)} AS {select}")
    _union(connection, view.name, [s for s in marketplace_schemas(connection, view.base.name)
                                   if _view_exists(connection, s, view.name)])


def _current_sql(schema: str, view: CurrentView, base: list[str], updates: list[str]) -> str:
    """The view's SELECT: ``base``'s columns, in its order, each from the newer of the two rows."""
    source = literal(view.base.name)
    if not {*view.key, view.version} <= set(updates):
        return f"SELECT *, {source} AS {CURRENT_SOURCE_COLUMN} FROM {qualified(schema, view.base.name)}"
    version = quote_identifier(view.version, "column")
    newer = f"u.{version} > b.{version}"  # no matching update: NULL, so the base row stands
    kept = {*view.key, *([view.base.partition_column] if view.base.partition_column else [])}
    columns = []
    for name in base:
        column = quote_identifier(name, "column")
        if name in kept or name not in updates:
            columns.append(f"b.{column}")
        else:
            columns.append(f"CASE WHEN {newer} THEN u.{column} ELSE b.{column} END AS {column}")
    columns.append(
        f"CASE WHEN {newer} THEN {literal(view.updates.name)} ELSE {source} END AS {CURRENT_SOURCE_COLUMN}")
    join = " AND ".join(f"u.{quote_identifier(k, 'column')} = b.{quote_identifier(k, 'column')}" for k in view.key)
    return (f"SELECT {', '.join(columns)} FROM {qualified(schema, view.base.name)} AS b "
            f"LEFT JOIN {qualified(schema, view.updates.name)} AS u ON {join}")


def _view_exists(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    rows = connection.execute(
        "SELECT 1 FROM duckdb_views() WHERE database_name = current_database() AND schema_name = ? "
        "AND view_name = ?", [schema, name]).fetchall()
    return bool(rows)


def _union_has_account(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    rows = connection.execute(
        "SELECT 1 FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = ? "
        "AND table_name = ? AND column_name = ?", [VIEW_SCHEMA, table, ACCOUNT_COLUMN]).fetchall()
    return bool(rows)


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
