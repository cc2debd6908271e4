"""Build a mart: its SQL file run inside the warehouse's write lock, in one transaction.

Why not dbt: dagster-dbt 0.29.27 with dbt-duckdb resolved against dagster 1.13.27 and duckdb 2.0.1 (then pinned),
but dbt-core 1.12 pulls ``dbt-core-experimental-parser``, an sdist whose build downloads a binary from
GitHub (it fails offline), and dbt opens its own DuckDB connection outside ``Warehouse``'s file lock,
so a mart build would fight the raw loads for DuckDB's single writer. Here a build is one more
warehouse write: lock, one transaction, close.

A build:

1. creates the stand-ins ``in_<input>`` (temporary views) the model reads: the UNION ALL of every
   configured marketplace's copy of the raw table that exists, with ``account`` and ``marketplace``
   columns holding what the ``amazon.*`` views say for that schema (``views.origin``: ``acme_us`` is
   account ``acme``, marketplace ``us``; ``us`` alone is account ``default``) and exactly the declared
   columns (``specs.INPUTS``), or an empty relation of that shape;
2. creates ``marts.<table>`` from its ``TableSpec`` if missing (types and comments from the spec), or
   adds the columns the spec gained (``account``: existing rows get it from their ``marketplace``);
3. replaces the window's days (daily models) or every row, with ``INSERT ... BY NAME`` of the model;
   with ``accounts`` (a code location that builds a group of accounts) only those accounts' rows, so
   the groups' locations share one table without deleting each other's rows.

``mart_settings`` (one row: ``reporting_currency``) is the only parameter a model sees.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from sp_assets.lib.marts.specs import FX_RATES, INPUTS, MODELS, Model
from sp_assets.lib.naming import quote_identifier
from sp_assets.lib.tablespec import TableSpec
from sp_assets.lib.warehouse import Warehouse
from sp_assets.lib.warehouse.sql import MARTS_SCHEMA, literal, qualified, scalar, table_columns
from sp_assets.lib.warehouse.views import ACCOUNT_COLUMN, MARKETPLACE_COLUMN, origin

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
FX_CSV_COLUMNS = ("date", "currency", "rate")


class MartError(ValueError):
    """A mart could not be built (bad fx file, unknown model); nothing was written."""


@dataclass(frozen=True)
class Source:
    """One marketplace's copy of a raw input: ``<marketplace>.<table>`` (``marketplace``: the schema,
    ``acme_us`` with several accounts)."""

    marketplace: str
    table: str


@dataclass(frozen=True)
class BuildResult:
    model: str
    rows: int  # rows the model wrote (the window's, for a daily model)
    deleted: int  # rows it replaced
    sources: dict[str, list[str]]  # per input, the tables found (``us.financial_events``)


def build(warehouse: Warehouse, model: Model | str, sources: Mapping[str, Sequence[Source]], *,
          reporting_currency: str, start: date | None = None, end: date | None = None,
          accounts: Sequence[str] | None = None) -> BuildResult:
    """Rebuild ``marts.<model>``: the days in ``[start, end)`` for a daily model, everything otherwise.

    ``accounts``: replace only the rows of these accounts (the views' ``account`` values); None: every row.
    """
    model = MODELS[model] if isinstance(model, str) else model
    if (model.day_column is None) != (start is None and end is None) or (start is None) != (end is None):
        raise MartError(f"marts.{model.name}: a daily model needs a [start, end) window and any other none; "
                        f"got start={start}, end={end}; nothing was written")
    _check_currency("reporting_currency", reporting_currency)
    sql = model.sql()
    with warehouse.connect() as connection:
        connection.execute("BEGIN TRANSACTION")
        try:
            found = {name: _stand_in(connection, name, sources.get(name, ())) for name in model.inputs}
            connection.execute("CREATE OR REPLACE TEMP TABLE mart_settings AS SELECT ?::VARCHAR AS reporting_currency",
                               [reporting_currency])
            for dependency in model.marts:
                _ensure_table(connection, FX_RATES if dependency == FX_RATES.name else MODELS[dependency].spec)
            _ensure_table(connection, model.spec)
            target = qualified(MARTS_SCHEMA, model.name)
            where: list[str] = ["true"]
            parameters: list[object] = []
            if model.day_column is not None:
                day = quote_identifier(model.day_column, "column")
                where += [f"{day} >= ?", f"{day} < ?"]
                parameters += [start, end]
            if accounts is not None:
                where.append(f"{ACCOUNT_COLUMN} IN (SELECT unnest(?::VARCHAR[]))")
                parameters.append(list(accounts))
            condition = " AND ".join(where)
            deleted = scalar(connection, f"DELETE FROM {target} WHERE {condition}", parameters)
            rows = scalar(connection, f"INSERT INTO {target} BY NAME SELECT * FROM ({sql}) WHERE {condition}",
                          parameters)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return BuildResult(model.name, rows, deleted, found)


def load_fx_rates(warehouse: Warehouse, path: Path | None) -> int:
    """Replace ``marts.fx_rates`` with the CSV at ``path`` (``date,currency,rate``); no path: no rates.

    The file is checked whole before anything is written: a bad row names its line and what is allowed.
    """
    rows = [] if path is None else read_fx_csv(path)
    with warehouse.connect() as connection:
        connection.execute("BEGIN TRANSACTION")
        try:
            _ensure_table(connection, FX_RATES)
            connection.execute(f"DELETE FROM {qualified(MARTS_SCHEMA, FX_RATES.name)}")
            if rows:
                connection.executemany(f"INSERT INTO {qualified(MARTS_SCHEMA, FX_RATES.name)} VALUES (?, ?, ?)", rows)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return len(rows)


def read_fx_csv(path: Path) -> list[tuple[date, str, float]]:
    """The rates of an fx CSV: header ``date,currency,rate``; one rate per (date, currency)."""
    where = f"fx_rates file {path}"
    if not path.is_file():
        raise MartError(f"{where}: no such file; create it (header date,currency,rate) or fix 'fx_rates' in the "
                        f"configuration; nothing was written")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        if tuple(header) != FX_CSV_COLUMNS:
            raise MartError(f"{where}: the header must be {','.join(FX_CSV_COLUMNS)}, got {','.join(header)!r}; "
                            f"nothing was written")
        rows: list[tuple[date, str, float]] = []
        seen: set[tuple[date, str]] = set()
        for line, record in enumerate(reader, start=2):
            if not any(field.strip() for field in record):
                continue
            rows.append(_fx_row(where, line, record, seen))
    return rows


def _fx_row(where: str, line: int, record: list[str], seen: set[tuple[date, str]]) -> tuple[date, str, float]:
    if len(record) != 3:
        raise MartError(f"{where} line {line}: 3 fields (date,currency,rate) expected, got {len(record)}; "
                        f"nothing was written")
    text_day, currency, text_rate = (field.strip() for field in record)
    try:
        day = date.fromisoformat(text_day)
    except ValueError:
        raise MartError(f"{where} line {line}: date {text_day!r} is not YYYY-MM-DD; nothing was written") from None
    _check_currency(f"{where} line {line}: currency", currency)
    try:
        rate = float(text_rate)
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate <= 0:
        raise MartError(f"{where} line {line}: rate {text_rate!r} must be a positive number (units of the "
                        f"reporting currency per unit of {currency}); nothing was written")
    if (day, currency) in seen:
        raise MartError(f"{where} line {line}: a second rate for {currency} on {day}; allowed: one per day; "
                        f"nothing was written")
    seen.add((day, currency))
    return day, currency, rate


def _check_currency(where: str, value: object) -> str:
    if not isinstance(value, str) or not CURRENCY_RE.match(value):
        raise MartError(f"{where}: {value!r} is not an ISO 4217 currency code (three capital letters, e.g. "
                        f"USD, EUR); nothing was written")
    return value


def _stand_in(connection: duckdb.DuckDBPyConnection, name: str, sources: Sequence[Source]) -> list[str]:
    """``in_<name>``: the existing sources' declared columns (NULL where a copy lacks one), or no rows."""
    declared = INPUTS[name].columns
    selects, found = [], []
    for source in sources:
        present = table_columns(connection, source.marketplace, source.table, include_views=True)
        if not present:
            continue
        found.append(f"{source.marketplace}.{source.table}")
        account, marketplace = origin(source.marketplace)
        columns = ", ".join(
            f"CAST({quote_identifier(column, 'column') if column in present else 'NULL'} AS {sql_type}) "
            f"AS {quote_identifier(column, 'column')}" for column, sql_type in declared)
        selects.append(f"SELECT {literal(account)} AS {ACCOUNT_COLUMN}, {literal(marketplace)} AS "
                       f"{MARKETPLACE_COLUMN}, {columns} "
                       f"FROM {qualified(source.marketplace, source.table)}")
    if not selects:
        columns = ", ".join(f"CAST(NULL AS {sql_type}) AS {quote_identifier(column, 'column')}"
                            for column, sql_type in declared)
        selects = [f"SELECT CAST(NULL AS VARCHAR) AS {ACCOUNT_COLUMN}, CAST(NULL AS VARCHAR) AS "
                   f"{MARKETPLACE_COLUMN}, {columns} WHERE false"]
    connection.execute(f"CREATE OR REPLACE TEMP VIEW {quote_identifier('in_' + name, 'table')} AS "
                       + " UNION ALL ".join(selects))
    return found


def _label_accounts(connection: duckdb.DuckDBPyConnection, target: str) -> None:
    """A mart from before the ``account`` column: its rows were labelled by schema (``us``, or ``acme_us``
    with several accounts); give each the account and marketplace the views give that schema, so the
    days a build does not replace keep a full key (account is part of every mart's key)."""
    labels = [origin(name) + (name,) for (name,) in connection.execute(
        f"SELECT DISTINCT {MARKETPLACE_COLUMN} FROM {target} WHERE {MARKETPLACE_COLUMN} IS NOT NULL").fetchall()]
    if labels:
        connection.executemany(f"UPDATE {target} SET {ACCOUNT_COLUMN} = ?, {MARKETPLACE_COLUMN} = ? "
                               f"WHERE {MARKETPLACE_COLUMN} = ? AND {ACCOUNT_COLUMN} IS NULL", labels)


def _ensure_table(connection: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """``marts.<table>`` as its spec says, with its comments; a column the spec gained since is added."""
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(MARTS_SCHEMA, 'schema')}")
    target = qualified(MARTS_SCHEMA, spec.name)
    existing = table_columns(connection, MARTS_SCHEMA, spec.name)
    if existing:
        added = [column for column in spec.columns if column.name not in existing]
        for column in added:  # every ALTER before any UPDATE: DuckDB 1.5 refuses to commit the other order
            connection.execute(f"ALTER TABLE {target} ADD COLUMN {quote_identifier(column.name, 'column')} "
                               f"{column.type}")
        if ACCOUNT_COLUMN in {column.name for column in added} and MARKETPLACE_COLUMN in existing:
            _label_accounts(connection, target)
        return
    columns = ", ".join(f"{quote_identifier(c.name, 'column')} {c.type}" for c in spec.columns)
    connection.execute(f"CREATE TABLE {target} ({columns})")
    connection.execute(f"COMMENT ON TABLE {target} IS {literal(spec.description)}")
    for column in spec.columns:
        if column.description:
            connection.execute(f"COMMENT ON COLUMN {target}.{quote_identifier(column.name, 'column')} "
                               f"IS {literal(column.description)}")

