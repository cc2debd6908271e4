"""Loading a decompressed flat-file report (tab-separated, UTF-8) with DuckDB's ``read_csv``.

A report document can be gigabytes: DuckDB streams it straight into the table, so it is never held
in Python memory, and its memory is bounded while it loads (``load_memory_limit``). Every file
column is read as text unless the caller types it, the header is normalized with ``snake_case``, and
a file column new to the table is added (drift, see ``ddl``). ``name_types`` types the columns the
caller does not type by their header names (the report catalog's rule table).

A typed column is parsed inside DuckDB by the file's ``TextFormat`` (``1.234,56``, ``02.01.2026``:
``textformats``). A value that does not parse is not nulled silently and does not fail the load: its
text goes to ``<column>__raw`` and the load counts it (``WriteResult.unparsed``). The file is read
once (issue 20: a separate counting read made a 1 GiB load 1.6x slower): a new table is created
with every typed column's raw column, the INSERT keeps the failed values' text, the count comes from
the table, and the raw columns left empty are dropped in the same transaction, so the table only
has ``__raw`` columns that hold something. An existing table lacking a raw column has the file's
failed values of that column counted first (``_needed_raw_columns``): adding a column to a table
with rows costs a null per row, so it is added only when needed. A table column still text from
before typing is converted in place (``ddl.migrate_text_columns``). Amazon writes these files tab-separated;
the report code decodes other charsets (cp1252, Shift_JIS) to UTF-8 while decompressing, so this
module reads exactly one dialect: TAB, UTF-8, an optional quote character.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from sp_assets.lib.naming import quote_identifier, safe_identifier, snake_case
from sp_assets.lib.tablespec import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    TIMESTAMPTZ,
    VARCHAR,
    normalize_sql_type,
)
from sp_assets.lib.textformats import ISO, NameTypes, TextFormat, failed_sql, parse_sql, raw_column
from sp_assets.lib.warehouse.ddl import migrate_text_columns
from sp_assets.lib.warehouse.sql import (
    Target,
    check_write_schema,
    column_list,
    literal,
    partition_text,
    scalar,
    table_columns,
)
from sp_assets.lib.warehouse.transaction import Counts, WritePlan
from sp_assets.lib.warehouse.views import rebuild_union_view

DELIMITER = "\t"
ENCODING = "utf-8"
MAX_LINE_BYTES = 16 * 1024 * 1024
LOAD_MEMORY_ENV = "SP_ASSETS_DUCKDB_LOAD_MEMORY"
# 160MB: read_csv pins 8 buffers of MAX_LINE_BYTES (128 MB with 2 threads) and the INSERT's row groups
# use the rest. On DuckDB 2.0.1 a 1 GiB document's load peaked at 420-445 MB of RSS at 256MB (the asset
# code's imports included) and 380 MB at 192MB; on 1.5.5 at 407 MB at 192MB and 378 MB at 160MB, at the
# same speed against read_csv (benchmarks/bench_ingest.py). A merge scales its phases from the same
# limit (``frames.MERGE_MEMORY_SHARES``).
DEFAULT_LOAD_MEMORY = "160MB"
_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def plan_delimited_load(
    schema: str,
    table: str,
    path: str | os.PathLike[str],
    *,
    quote: str | None,
    column_types: Mapping[str, str] | None,
    text_format: TextFormat | None = None,
    column_formats: Mapping[str, TextFormat] | None = None,
    name_types: NameTypes | None = None,
    constants: Mapping[str, Any] | None,
    replace_where: Mapping[str, Any] | None,
    partition_start: date | datetime | str | None,
    partition_end: date | datetime | str | None,
    strict: bool,
    note: str,
    source: str,
) -> WritePlan:
    """Check the arguments and the file's header before the lock; see ``Warehouse.load_delimited_file``."""
    check_write_schema(schema)
    safe_identifier(table, "table")
    file_path = _existing_file(path)
    quote = _quote(quote)
    header = _read_header(file_path, quote)
    names = _file_column_names(header or [])
    types = {snake: normalize_sql_type(sql) for snake, sql in (column_types or {}).items()}
    types = {**_types_by_name(names, types, name_types), **types}
    constant_columns = _constant_columns(constants or {}, types, names)
    file_columns = tuple((name, types.get(name, VARCHAR)) for name in names)
    parsers = _parsers(file_columns, text_format or ISO, column_formats or {})
    predicates, predicate_params = _replace_predicate(replace_where)
    read_sql = _read_csv_sql(file_path, names, quote, strict)
    raw_columns = tuple((raw_column(name), VARCHAR) for name in parsers)
    target = Target(
        schema=schema,
        table=table,
        operation="load_delimited_file",
        source=source,
        columns=file_columns + raw_columns + tuple((name, sql) for name, sql, _ in constant_columns),
        partition_start=partition_text(partition_start),
        partition_end=partition_text(partition_end),
        note=note or file_path.name,
        provisional=frozenset(name for name, _ in raw_columns),
    )

    def body(connection: duckdb.DuckDBPyConnection, counts: Counts) -> None:
        added, migrated = migrate_text_columns(connection, target, parsers)
        if added:
            counts.added.extend(added)
            rebuild_union_view(connection, table)
        existing = table_columns(connection, schema, table)
        if predicates and existing:
            unknown = [name for name in (replace_where or {}) if name not in existing]
            if unknown:
                raise ValueError(f"replace predicate names column(s) {unknown} that {schema}.{table} lacks")
            counts.deleted = scalar(
                connection, f"DELETE FROM {target.qualified} WHERE {predicates}", predicate_params
            )
        unparsed: dict[str, int] = {}
        if names:
            with _bounded_memory(connection, load_memory_limit()):
                raw_kept = _needed_raw_columns(connection, target, parsers, existing, read_sql, counts)
                before = _raw_counts(connection, target, raw_kept)
                counts.inserted = _insert_file(connection, target, file_columns, parsers, raw_kept,
                                               constant_columns, read_sql)
                unparsed = {name: count - before[name]
                            for name, count in _raw_counts(connection, target, raw_kept).items()}
            if counts.created:
                _drop_empty_raw_columns(connection, target, unparsed)
        counts.unparsed.update({name: migrated.get(name, 0) + unparsed.get(name, 0)
                                for name in parsers if migrated.get(name) or unparsed.get(name)})

    return WritePlan(target, body)


def file_relation(path: str | os.PathLike[str], *, quote: str | None = None, strict: bool = False
                  ) -> tuple[list[str], str]:
    """The snake_case column names of a flat file's header and the ``read_csv(...)`` expression that
    reads it in this module's dialect (TAB, UTF-8, every column text, short rows padded with nulls),
    for a caller that transforms the file in its own SELECT instead of loading it as is (order items
    built from the all-orders report). ``strict=False`` drops a row's fields beyond the header, as
    the Python reader ignores them. A file without a header has no columns: ``([], "")``.
    """
    file_path = _existing_file(path)
    quote = _quote(quote)
    header = _read_header(file_path, quote)
    if not header:
        return [], ""
    names = _file_column_names(header)
    return names, _read_csv_sql(file_path, names, quote, strict)


def load_memory_limit() -> str:
    """DuckDB's memory limit while a report file loads or a frame merges (``SP_ASSETS_DUCKDB_LOAD_MEMORY``,
    else ``DEFAULT_LOAD_MEMORY``).

    A multi-gigabyte document then loads (and millions of changed rows merge) in bounded memory,
    spilling to disk if it must, instead of DuckDB taking most of the machine's RAM while other runs
    work beside it.
    """
    value = os.environ.get(LOAD_MEMORY_ENV, "").strip() or DEFAULT_LOAD_MEMORY
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)", value, flags=re.IGNORECASE):
        raise ValueError(f"{LOAD_MEMORY_ENV}: {value!r} must be a size such as 256MB or 1GB")
    return value


def scaled_memory_limit(share: float) -> str:
    """``share`` of ``load_memory_limit()``, as a DuckDB size (``0.8`` of 160MB is ``125000KiB``)."""
    value = load_memory_limit()
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]+)", value).groups()  # type: ignore[union-attr]
    return f"{int(float(number) * _UNITS[unit.lower()] * share) // 1024}KiB"


# --- before the lock ------------------------------------------------------------------------------


def _parsers(
    file_columns: Sequence[tuple[str, str]], text_format: TextFormat, column_formats: Mapping[str, TextFormat]
) -> dict[str, str]:
    """The parse expression of each typed file column, by the column's format or the file's."""
    parsers = {}
    for name, sql in file_columns:
        parsed = parse_sql(sql, quote_identifier(name, "column"), column_formats.get(name, text_format))
        if parsed is not None:
            parsers[name] = parsed
    return parsers


def _types_by_name(names: Sequence[str], declared: Mapping[str, str], name_types: NameTypes | None) -> dict[str, str]:
    """The types ``name_types`` gives the file's columns the caller did not type (a report known only by
    name still gets its amounts, counts and dates typed from its header)."""
    if name_types is None:
        return {}
    return {name: normalize_sql_type(sql) for name, sql in name_types.types(names).items() if name not in declared}


def _existing_file(path: str | os.PathLike[str]) -> Path:
    file_path = Path(path).expanduser().absolute()
    if not file_path.is_file():
        raise FileNotFoundError(f"load_delimited_file: {file_path} is not a file")
    return file_path


def _quote(quote: str | None) -> str:
    """The quote character, '' for none (Amazon's flat files contain bare ``"``); it also escapes itself."""
    quote = quote or ""
    if len(quote) > 1 or quote in ("\r", "\n") or quote == DELIMITER:
        raise ValueError(f"quote must be one character other than the delimiter, or None; got {quote!r}")
    return quote


def _read_header(path: Path, quote: str) -> list[str] | None:
    """The header fields, read with the same dialect DuckDB will use; None for an empty file."""
    with path.open(encoding=ENCODING, newline="") as handle:
        line = handle.readline()
    line = line.lstrip("\ufeff").rstrip("\r\n")
    if not line.strip():
        return None
    reader = csv.reader(
        [line],
        delimiter=DELIMITER,
        quotechar=quote or None,
        doublequote=bool(quote),
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
    )
    return next(reader)


def _file_column_names(header: Sequence[str]) -> list[str]:
    """snake_case each header; blank headers become column_<n>; repeats get _2, _3."""
    names: list[str] = []
    for position, raw in enumerate(header, start=1):
        name = snake_case(raw) if raw.strip() else f"column_{position}"
        candidate, suffix = name, 2
        while candidate in names:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        names.append(safe_identifier(candidate, "column"))
    return names


def _constant_columns(
    constants: Mapping[str, Any], types: Mapping[str, str], file_columns: Sequence[str]
) -> list[tuple[str, str, Any]]:
    columns = []
    for name, value in constants.items():
        safe_identifier(name, "column")
        if name in file_columns:
            raise ValueError(
                f"constant column {name!r} is also a column of the file; rename one of them"
            )
        columns.append((name, types.get(name) or _constant_type(name, value), value))
    return columns


def _constant_type(name: str, value: object) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return BIGINT
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, Decimal):
        return normalize_sql_type(f"DECIMAL(38,{max(0, -value.as_tuple().exponent)})")  # type: ignore[operator]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"constant {name!r}: pass a time-zone-aware datetime")
        return TIMESTAMPTZ
    if isinstance(value, date):
        return DATE
    if isinstance(value, str):
        return VARCHAR
    raise TypeError(
        f"constant {name!r}: cannot infer a column type for {type(value).__name__}; give it in column_types"
    )


def _replace_predicate(replace_where: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
    """``column = value`` (or ``IS NULL``) per item, ANDed: the rows the file replaces."""
    clauses: list[str] = []
    params: list[Any] = []
    for name, value in (replace_where or {}).items():
        column = quote_identifier(name, "column")
        if value is None:
            clauses.append(f"{column} IS NULL")
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    return " AND ".join(clauses), params


def _read_csv_sql(path: Path, names: Sequence[str], quote: str, strict: bool) -> str:
    columns = ", ".join(f"{literal(name)}: 'VARCHAR'" for name in names)
    options = [
        f"delim = {literal(DELIMITER)}",
        f"quote = {literal(quote)}",
        f"escape = {literal(quote)}",
        f"encoding = {literal(ENCODING)}",
        "header = true",
        "skip = 0",
        "auto_detect = false",
        f"columns = {{{columns}}}",
        "null_padding = true",
        f"strict_mode = {'true' if strict else 'false'}",
        # DuckDB refuses lines over 2 MB by default; Amazon's descriptions and settlement notes can
        # run long, and one long field must not fail a whole day's load. The read buffer would
        # otherwise default to 16 times the line limit (1 GiB): one line's worth is enough.
        f"max_line_size = {MAX_LINE_BYTES}",
        f"buffer_size = {MAX_LINE_BYTES}",
    ]
    return f"read_csv({literal(str(path))}, {', '.join(options)})"


# --- inside the transaction -----------------------------------------------------------------------


@contextmanager
def _bounded_memory(connection: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """Bound memory (and drop insertion-order buffering, which a bulk load does not need) for one
    statement, then restore the database's defaults for whatever the connection does next.

    Not in a ``finally``: after a failed statement the transaction is aborted and refuses even a
    RESET, which would hide the real error; the failed write rolls back and closes the connection,
    and the settings go with it."""
    connection.execute(f"SET memory_limit = {literal(limit)}")
    connection.execute("SET preserve_insertion_order = false")
    yield
    connection.execute("RESET memory_limit")
    connection.execute("RESET preserve_insertion_order")


def _needed_raw_columns(
    connection: duckdb.DuckDBPyConnection,
    target: Target,
    parsers: Mapping[str, str],
    existing: Mapping[str, str],
    read_sql: str,
    counts: Counts,
) -> list[str]:
    """The typed columns whose failed values the INSERT keeps in ``<column>__raw``: every one whose raw
    column the table has (a new table has them all, provisionally), plus those of an existing table
    that the file needs: found by a counting read of the file, and added (``counts.added``). Only
    this case reads the file twice; adding an empty column to a table with rows would cost a null
    per row, so it is done only for a column that will hold something."""
    missing = {name: parsed for name, parsed in parsers.items() if raw_column(name) not in existing}
    needed = _count_unparsed(connection, read_sql, missing)
    for name in needed:
        raw = raw_column(name)
        connection.execute(f"ALTER TABLE {target.qualified} ADD COLUMN {quote_identifier(raw, 'column')} {VARCHAR}")
        counts.added.append(raw)
    return [name for name in parsers if name not in missing or name in needed]


def _count_unparsed(connection: duckdb.DuckDBPyConnection, read_sql: str, parsers: Mapping[str, str]
                    ) -> dict[str, int]:
    """Values per typed column of the file that do not parse (columns with none are left out)."""
    if not parsers:
        return {}
    counts = ", ".join(
        f"count(*) FILTER (WHERE {failed_sql(quote_identifier(name, 'column'), parsed)})"
        for name, parsed in parsers.items()
    )
    row = connection.execute(f"SELECT {counts} FROM {read_sql}").fetchone()
    return {name: int(count) for name, count in zip(parsers, row or (), strict=False) if count}


def _raw_counts(connection: duckdb.DuckDBPyConnection, target: Target, names: Sequence[str]) -> dict[str, int]:
    """The values held in each ``<name>__raw`` column of the table: counted before and after the
    INSERT, the difference is what the file could not parse (a columnar count, not a read of the file)."""
    if not names:
        return {}
    counts = ", ".join(f"count({quote_identifier(raw_column(name), 'column')})" for name in names)
    row = connection.execute(f"SELECT {counts} FROM {target.qualified}").fetchone()
    return {name: int(count) for name, count in zip(names, row or (), strict=True)}


def _drop_empty_raw_columns(connection: duckdb.DuckDBPyConnection, target: Target, unparsed: Mapping[str, int]
                            ) -> None:
    """Drop the provisional ``__raw`` columns of a table this write created that hold nothing, so the
    table has the shape it would have had with the needed raw columns alone (cheap: the new table's
    rows are still the transaction's own)."""
    for name, count in unparsed.items():
        if not count:
            connection.execute(f"ALTER TABLE {target.qualified} DROP COLUMN "
                               f"{quote_identifier(raw_column(name), 'column')}")


def _insert_file(
    connection: duckdb.DuckDBPyConnection,
    target: Target,
    file_columns: Sequence[tuple[str, str]],
    parsers: Mapping[str, str],
    parsed_names: Sequence[str],
    constant_columns: Sequence[tuple[str, str, Any]],
    read_sql: str,
) -> int:
    """One INSERT ... SELECT from read_csv: typed columns parsed, failed values' text in ``__raw``.

    The parse expressions are computed once, in a subquery, and both the typed value and the raw
    text (of ``parsed_names``) are taken from them."""
    parsed = {name: f"_sp_parsed_{position}" for position, name in enumerate(parsers)}
    inner = ", ".join(f"{parsers[name]} AS {alias}" for name, alias in parsed.items())
    selects = [parsed.get(name, quote_identifier(name, "column")) for name, _ in file_columns]
    selects += [
        f"CASE WHEN {failed_sql(quote_identifier(name, 'column'), parsed[name])} "
        f"THEN {quote_identifier(name, 'column')} END"
        for name in parsed_names
    ]
    selects += [f"CAST(? AS {sql})" for _, sql, _ in constant_columns]
    names = column_list([name for name, _ in file_columns] + [raw_column(name) for name in parsed_names]
                        + [name for name, _, _ in constant_columns])
    params = [value for _, _, value in constant_columns]
    source = f"(SELECT *{', ' + inner if inner else ''} FROM {read_sql})"
    sql = f"INSERT INTO {target.qualified} ({names}) SELECT {', '.join(selects)} FROM {source}"
    return scalar(connection, sql, params or None)
