"""Writing a polars frame that follows a ``TableSpec``: replace a partition, merge, replace the table.

Writes are idempotent: ``replace_partition`` deletes the window then inserts (re-running a day never
duplicates), ``merge`` upserts by primary key and never replaces a row with an older version (a
backfill of an old day cannot regress state). Everything that can be checked without the database
(types, keys, the window) is checked here, before the lock, so a bad frame costs no lock time and
writes nothing. Each ``plan_*`` returns the ``WritePlan`` that ``transaction.run_write`` executes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime

import duckdb
import polars as pl
import pyarrow as pa

from sp_assets.lib.naming import quote_identifier
from sp_assets.lib.tablespec import (
    BIGINT,
    DATE,
    INTEGER,
    TIMESTAMPTZ,
    VARCHAR,
    FrameValidationError,
    TableSpec,
    conform_frame,
)
from sp_assets.lib.warehouse.delimited import load_memory_limit, scaled_memory_limit
from sp_assets.lib.warehouse.sql import (
    ROW,
    STAGED,
    Target,
    check_write_schema,
    column_list,
    literal,
    partition_text,
    scalar,
)
from sp_assets.lib.warehouse.transaction import Counts, WritePlan

_CLASSIFIED = "_sp_classified"
# What the merge does with a staged row, as stored in ``_sp_classified`` (a byte: a text label there
# doubled the classification's time once it spilled beyond the memory limit).
_INSERT, _UPDATE, _UNCHANGED, _STALE = 1, 2, 3, 4
_STAGED_KEYS = "_sp_staged_keys"
_STAGED_STREAM = "_sp_staged_stream"
# About this much of a merged frame is handed to DuckDB at a time (``_arrow_stream``). DuckDB 1.5 reads
# ahead several batches per thread: at 32 MB the merge of 4M rows into 20M peaked at 1,431 MB RSS, at
# 4 MB 1,133, at 1 MB 1,015, in the same time (benchmarks/bench_merge.py; 2.0.1 held 1,001 at 32 MB).
MERGE_BATCH_BYTES = 2**20
# A merge's two heavy phases run under these shares of ``load_memory_limit()`` (160MB by default). The
# classification's hash join holds memory DuckDB 1.5 does not count against its limit, so it gets less
# (at 128MB the 4M-into-20M merge peaked at 952-966 MB of RSS, at 192MB at 1,006-1,047); the INSERT
# from the frame's stream runs a third slower at 160MB than at 192MB (benchmarks/bench_merge.py).
MERGE_MEMORY_SHARES = {"classify": 0.8, "insert": 1.2}
_ARROW_LEVEL = pl.CompatLevel.newest()
_ORDER = "_sp_order"
_PARTITION_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    DATE: (date,),
    TIMESTAMPTZ: (datetime,),
    BIGINT: (int,),
    INTEGER: (int,),
    VARCHAR: (str,),
}
PartitionValue = date | datetime | int | str
# One table of ``Warehouse.replace_partitions``: (spec, frame, start, end).
PartitionWrite = tuple[TableSpec, pl.DataFrame, PartitionValue, PartitionValue]


def plan_replace_partition(
    schema: str,
    spec: TableSpec,
    frame: pl.DataFrame,
    start: PartitionValue,
    end: PartitionValue,
    *,
    note: str,
    source: str,
) -> WritePlan:
    """Delete the rows of ``spec.partition_column`` in ``[start, end)``, then insert ``frame``."""
    partition = spec.partition_column
    if not partition:
        raise ValueError(f"replace_partition: table spec {spec.name!r} has no partition_column")
    _check_window(spec, partition, start, end)
    prepared, duplicates = _prepare_frame(spec, frame, dedupe=True)
    _check_rows_in_window(prepared, partition, start, end)
    target = _frame_target(schema, spec, prepared, "replace_partition", note, source, start, end)

    def body(connection: duckdb.DuckDBPyConnection, counts: Counts) -> None:
        column = quote_identifier(partition, "column")
        counts.deleted = scalar(
            connection,
            f"DELETE FROM {target.qualified} WHERE {column} >= ? AND {column} < ?",
            [start, end],
        )
        counts.inserted = _insert_staged(connection, target, prepared.columns)

    return WritePlan(target, body, prepared, duplicates)


def plan_replace_partition_from_sql(
    schema: str,
    spec: TableSpec,
    select_sql: str,
    start: PartitionValue,
    end: PartitionValue,
    *,
    note: str,
    source: str,
    what: str = "the rows",
) -> WritePlan:
    """Delete the rows of ``spec.partition_column`` in ``[start, end)``, then insert the rows of
    ``select_sql``, all inside DuckDB: the rows stream from wherever the SELECT reads them (a report
    file's ``read_csv``) into the table, never through a Python frame, in bounded memory
    (``load_memory_limit``) at any size.

    ``select_sql`` gives every column of ``spec`` by name; each is cast to its spec type. What
    ``plan_replace_partition`` checks on a frame before the lock is checked here row by row inside
    the INSERT (nothing is in Python to check beforehand): a null primary key or a partition value
    outside the window fails the statement with a message naming ``what``, the column and the value,
    and the transaction rolls back, so nothing is written. Rows repeating a primary key are NOT
    reduced to the newest (that would cost a second sort of every row); the table's primary-key
    check reports them.
    """
    partition = spec.partition_column
    if not partition:
        raise ValueError(f"replace_partition: table spec {spec.name!r} has no partition_column")
    _check_window(spec, partition, start, end)
    if not select_sql.strip():
        raise ValueError(f"replace_partition of {spec.name!r}: the SELECT giving its rows is empty")
    target = Target(
        schema=schema,
        table=spec.name,
        operation="replace_partition",
        source=source,
        columns=tuple((column.name, column.type) for column in spec.columns),
        descriptions={column.name: column.description for column in spec.columns if column.description},
        table_description=spec.description,
        partition_start=partition_text(start),
        partition_end=partition_text(end),
        note=note,
    )
    keys = set(spec.primary_key)
    selects = []
    for column in spec.columns:
        name = quote_identifier(column.name, "column")
        value = f"CAST(_sp_rows.{name} AS {column.type})"
        if column.name == partition:
            value = (f"CASE WHEN {value} IS NULL OR {value} < CAST(? AS {column.type}) "
                     f"OR {value} >= CAST(? AS {column.type}) THEN error({literal(f'{what}: a row has ')} || "
                     f"{literal(column.name + ' ')} || coalesce(CAST({value} AS VARCHAR), 'null') || "
                     f"{literal(f' outside [{start}, {end}) (the partitions this run replaces); nothing was written')})"
                     f" ELSE {value} END")
        elif column.name in keys or not column.nullable:
            value = (f"CASE WHEN {value} IS NULL THEN error("
                     f"{literal(f'{what}: a row has no {column.name}, which cannot be null; nothing was written')})"
                     f" ELSE {value} END")
        selects.append(f"{value} AS {name}")
    names = column_list([column.name for column in spec.columns])
    insert = f"INSERT INTO {target.qualified} ({names}) SELECT {', '.join(selects)} FROM ({select_sql}) AS _sp_rows"

    def body(connection: duckdb.DuckDBPyConnection, counts: Counts) -> None:
        column = quote_identifier(partition, "column")
        counts.deleted = scalar(
            connection,
            f"DELETE FROM {target.qualified} WHERE {column} >= ? AND {column} < ?",
            [start, end],
        )
        # Bounded like a report file's load. Insertion order is kept (DuckDB's default, said explicitly),
        # so a SELECT that numbers a file's rows with row_number() OVER () numbers them in file order.
        connection.execute(f"SET memory_limit = {literal(load_memory_limit())}")
        connection.execute("SET preserve_insertion_order = true")
        counts.inserted = scalar(connection, insert, [start, end])
        connection.execute("RESET memory_limit")
        connection.execute("RESET preserve_insertion_order")

    return WritePlan(target, body)


def plan_merge(schema: str, spec: TableSpec, frame: pl.DataFrame, *, note: str, source: str) -> WritePlan:
    """Upsert by ``spec.primary_key``; never replace a stored row with an older ``version_column``.

    Implemented as classify (one hash join into a temp table) + delete by rowid + one insert, in
    bounded memory (``_merge_staged``): 4M changed rows merge into 20M in under 1 GB of RSS, frame
    included, in 2.6-3.3 times a plain INSERT on a quiet machine (DuckDB 1.5.5; more when the spilled classification
    competes for a loaded one; benchmarks/bench_merge.py). A bare ``MERGE INTO`` is faster but
    reports no per-action counts (``RETURNING merge_action`` made it slower than this), and
    ``INSERT ... ON CONFLICT`` needs a PRIMARY KEY index, which slows every load and blocks schema
    drift; see benchmarks/bench_merge.py. Tables therefore carry no PRIMARY KEY constraint:
    uniqueness is kept by this method.
    """
    if not spec.primary_key:
        raise ValueError(f"merge: table spec {spec.name!r} has no primary_key to match rows by")
    prepared, duplicates = _prepare_frame(spec, frame, dedupe=True)
    needed = (*spec.primary_key, *((spec.version_column,) if spec.version_column else ()))
    missing = [name for name in needed if name not in prepared.columns]
    if missing and prepared.width:
        raise FrameValidationError(f"merge into {spec.name!r}: the frame lacks key/version column(s) {missing}")
    staged = prepared.with_row_index(ROW)
    target = _frame_target(schema, spec, prepared, "merge", note, source)

    def body(connection: duckdb.DuckDBPyConnection, counts: Counts) -> None:
        if not prepared.width:  # a zero-column frame only makes sure the table exists
            return
        # Bounded like a report file's load (each phase its ``MERGE_MEMORY_SHARES`` of the limit, set in
        # ``_merge_staged``): beyond it DuckDB spills the staged keys, the classification and its hash
        # tables to disk. Not in a ``finally``: see ``delimited._bounded_memory``.
        _merge_staged(connection, target, spec, staged, counts)
        connection.execute("RESET memory_limit")

    # Only the frame's schema is registered up front (``ensure_table`` reads the drift types from it);
    # the body streams the rows to DuckDB batch by batch, so the frame is never copied whole.
    return WritePlan(target, body, staged.clear(), duplicates)


def plan_replace_table(
    schema: str, spec: TableSpec, frame: pl.DataFrame, *, note: str, source: str
) -> WritePlan:
    """Replace the whole table's rows with ``frame`` (snapshot tables); columns added earlier stay."""
    prepared, duplicates = _prepare_frame(spec, frame, dedupe=True)
    target = _frame_target(schema, spec, prepared, "replace_table", note, source)

    def body(connection: duckdb.DuckDBPyConnection, counts: Counts) -> None:
        counts.deleted = scalar(connection, f"DELETE FROM {target.qualified}")
        counts.inserted = _insert_staged(connection, target, prepared.columns)

    return WritePlan(target, body, prepared, duplicates)


def plan_append(schema: str, spec: TableSpec, frame: pl.DataFrame, *, note: str, source: str) -> WritePlan:
    """Insert ``frame`` as is (no delete, no key check): the plain INSERT that bench_merge.py compares with."""
    prepared, _ = _prepare_frame(spec, frame, dedupe=False)
    target = _frame_target(schema, spec, prepared, "append", note, source)

    def body(connection: duckdb.DuckDBPyConnection, counts: Counts) -> None:
        counts.inserted = _insert_staged(connection, target, prepared.columns)

    return WritePlan(target, body, prepared, 0)


def _frame_target(
    schema: str,
    spec: TableSpec,
    frame: pl.DataFrame,
    operation: str,
    note: str,
    source: str,
    start: object = None,
    end: object = None,
) -> Target:
    check_write_schema(schema)
    return Target(
        schema=schema,
        table=spec.name,
        operation=operation,
        source=source,
        columns=tuple((column.name, column.type) for column in spec.columns),
        descriptions={column.name: column.description for column in spec.columns if column.description},
        table_description=spec.description,
        partition_start=partition_text(start),
        partition_end=partition_text(end),
        note=note,
        typed_from_staged=frame.width > 0,
    )


# --- before the lock ------------------------------------------------------------------------------


def _prepare_frame(spec: TableSpec, frame: pl.DataFrame, *, dedupe: bool) -> tuple[pl.DataFrame, int]:
    """Conform to the spec, reject null keys, keep the newest row per key; all before the lock."""
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"expected a polars DataFrame for {spec.name!r}, got {type(frame).__name__}")
    reserved = [name for name in frame.columns if name.startswith("_sp_")]
    if reserved:
        raise FrameValidationError(f"columns starting with '_sp_' are reserved for the warehouse: {reserved}")
    if frame.width == 0:
        return frame, 0
    prepared = conform_frame(spec, frame)
    keys = [name for name in spec.primary_key if name in prepared.columns]
    if spec.primary_key and prepared.height:
        missing = [name for name in spec.primary_key if name not in prepared.columns]
        if missing:
            raise FrameValidationError(
                f"table {spec.name!r}: the frame lacks primary key column(s) {missing}"
            )
        null_keys = prepared.select(pl.any_horizontal([pl.col(key).is_null() for key in keys]).sum()).item()
        if null_keys:
            raise FrameValidationError(
                f"table {spec.name!r}: {null_keys} row(s) have a null primary key ({', '.join(keys)})"
            )
    if not (dedupe and keys) or prepared.height < 2:
        return prepared, 0
    return _newest_per_key(prepared, keys, spec.version_column)


def _newest_per_key(frame: pl.DataFrame, keys: list[str], version: str | None) -> tuple[pl.DataFrame, int]:
    """Keep one row per key: the highest version (nulls lowest), ties to the later row in the frame."""
    if _keys_unique(frame, keys):
        return frame, 0
    order = [version, _ORDER] if version and version in frame.columns else [_ORDER]
    newest = (
        frame.with_row_index(_ORDER)
        .sort(order, nulls_last=False)
        .unique(subset=keys, keep="last", maintain_order=True)
        .sort(_ORDER)
        .drop(_ORDER)
    )
    return newest, frame.height - newest.height


def _keys_unique(frame: pl.DataFrame, keys: list[str]) -> bool:
    """True if no key repeats: distinct 64-bit hashes of the key prove it.

    Hashing costs 8 bytes a row and no per-group bookkeeping (``is_unique`` on the key struct held
    ~170 bytes a row: 700 MB for 4M keys; a struct of one column still costs 30 bytes a row). Two keys sharing a hash only send the frame down the exact
    (sorting) path of ``_newest_per_key``, so a collision can cost time, never a wrong row.
    """
    key = pl.col(keys[0]) if len(keys) == 1 else pl.struct(keys)
    return bool(frame.select(key.hash().n_unique()).item() == frame.height)


def _check_window(spec: TableSpec, partition: str, start: object, end: object) -> None:
    sql_type = spec.column(partition).type
    allowed = _PARTITION_VALUE_TYPES.get(sql_type)
    if allowed is None:
        raise ValueError(f"partition column {partition!r} has type {sql_type}, which cannot delimit a window")
    for name, value in (("start", start), ("end", end)):
        wrong_date = sql_type == DATE and isinstance(value, datetime)
        if not isinstance(value, allowed) or wrong_date or isinstance(value, bool):
            raise TypeError(
                f"replace_partition {name}={value!r}: {partition!r} is {sql_type}, so pass a "
                f"{allowed[0].__name__}"
            )
        if sql_type == TIMESTAMPTZ and isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError(f"replace_partition {name}={value!r}: pass a time-zone-aware datetime")
    if not start < end:  # type: ignore[operator]
        raise ValueError(f"replace_partition window is empty or reversed: start={start!r} >= end={end!r}")


def _check_rows_in_window(frame: pl.DataFrame, partition: str, start: object, end: object) -> None:
    if frame.height == 0:
        return
    if partition not in frame.columns:
        raise FrameValidationError(f"the frame has rows but no partition column {partition!r}")
    column = pl.col(partition)
    outside = frame.filter(column.is_null() | (column < start) | (column >= end))
    if outside.height:
        raise FrameValidationError(
            f"{outside.height} row(s) have {partition} outside [{start}, {end}) "
            f"(first: {outside.get_column(partition)[0]!r}); nothing was written"
        )


# --- inside the transaction -----------------------------------------------------------------------


def _insert_staged(connection: duckdb.DuckDBPyConnection, target: Target, columns: Sequence[str]) -> int:
    names = [name for name in columns if name != ROW]
    if not names:
        return 0
    names_sql = column_list(names)
    return scalar(connection, f"INSERT INTO {target.qualified} ({names_sql}) SELECT {names_sql} FROM {STAGED}")


def _arrow_stream(frame: pl.DataFrame, keep: pl.Series | None = None) -> pa.RecordBatchReader:
    """``frame`` (only its rows where ``keep`` is true) as a one-pass stream of Arrow record batches
    of about ``MERGE_BATCH_BYTES`` each (read at call time, so a test can make every row a batch).

    Each slice is exported only when DuckDB asks for it and dropped once read (polars keeps the
    contiguous copy it exports inside the slice object, so slices made up front would hold the frame
    a second time). Polars' own Arrow layout (string views) exports a slice without converting text.
    """
    rows = max(1, int(MERGE_BATCH_BYTES * frame.height // max(1, frame.estimated_size())))

    def batches() -> Iterator[pa.RecordBatch]:
        for offset in range(0, frame.height, rows):
            part = frame.slice(offset, rows)
            if keep is not None:
                part = part.filter(keep.slice(offset, rows))
            yield from part.to_arrow(compat_level=_ARROW_LEVEL).to_batches()

    return pa.RecordBatchReader.from_batches(frame.head(0).to_arrow(compat_level=_ARROW_LEVEL).schema, batches())


def _merge_staged(
    connection: duckdb.DuckDBPyConnection,
    target: Target,
    spec: TableSpec,
    staged: pl.DataFrame,
    counts: Counts,
) -> None:
    """Classify each staged row against the table (one hash join), delete replaced rows, insert.

    The frame reaches DuckDB as a stream of Arrow batches (``_arrow_stream``), never as one Arrow copy
    of the whole frame: DuckDB reads a registered polars frame through such a copy, outside its memory
    limit (850 MB for 4M orders, measured by benchmarks/bench_merge.py). Only the key and version
    columns are copied into DuckDB (``_sp_staged_keys``, its own storage, which the memory limit
    bounds); the classification joins them with the table, and the rows to write stream once more,
    batch by batch, straight into the INSERT.
    """
    matched = [*spec.primary_key, *((spec.version_column,) if spec.version_column else ())]
    connection.execute(f"SET memory_limit = {literal(scaled_memory_limit(MERGE_MEMORY_SHARES['classify']))}")
    connection.execute(
        f"CREATE TEMP TABLE {_STAGED_KEYS} AS SELECT {column_list([ROW, *matched])} FROM {STAGED} LIMIT 0"
    )
    if staged.height:
        connection.from_arrow(_arrow_stream(staged.select(ROW, *matched))).insert_into(_STAGED_KEYS)
    join = " AND ".join(
        f"t.{quote_identifier(key, 'column')} = s.{quote_identifier(key, 'column')}"
        for key in spec.primary_key
    )
    if spec.version_column:
        new, old = (f"{alias}.{quote_identifier(spec.version_column, 'column')}" for alias in ("s", "t"))
        action = (
            f"CASE WHEN t.rowid IS NULL THEN {_INSERT} WHEN {old} IS NULL OR {new} > {old} THEN {_UPDATE} "
            f"WHEN {new} = {old} THEN {_UNCHANGED} ELSE {_STALE} END"
        )
    else:
        action = f"CASE WHEN t.rowid IS NULL THEN {_INSERT} ELSE {_UPDATE} END"
    connection.execute(
        f"CREATE TEMP TABLE {_CLASSIFIED} AS SELECT s.{ROW} AS row_nr, t.rowid AS target_rowid, "
        f"CAST({action} AS UTINYINT) AS action FROM {_STAGED_KEYS} s LEFT JOIN {target.qualified} t ON {join}"
    )
    connection.execute(f"DROP TABLE {_STAGED_KEYS}")
    # The LEFT JOIN gives each staged row at least one row; exactly one unless the table repeats a
    # key, and only then do the counts need the costlier count(DISTINCT).
    by_action = dict(connection.execute(f"SELECT action, count(*) FROM {_CLASSIFIED} GROUP BY action").fetchall())
    if sum(by_action.values()) != staged.height:
        by_action = dict(connection.execute(
            f"SELECT action, count(DISTINCT row_nr) FROM {_CLASSIFIED} GROUP BY action").fetchall())
    counts.unchanged = by_action.get(_UNCHANGED, 0)
    counts.stale = by_action.get(_STALE, 0)
    if by_action.get(_UPDATE):
        scalar(
            connection,
            f"DELETE FROM {target.qualified} WHERE rowid IN "
            f"(SELECT target_rowid FROM {_CLASSIFIED} WHERE action = {_UPDATE})",
        )
    names = column_list([name for name in staged.columns if name != ROW])
    written = 0
    if by_action.get(_INSERT) or by_action.get(_UPDATE):
        # Which frame rows to write, as a mask over the frame, read in batches (a result is held in
        # DuckDB's memory until fetched, and a fetch of millions of row numbers at once needs more).
        keep = pl.repeat(False, staged.height, dtype=pl.Boolean, eager=True)
        wanted = connection.sql(
            f"SELECT row_nr FROM {_CLASSIFIED} WHERE action IN ({_INSERT}, {_UPDATE})"
        ).to_arrow_reader()
        for batch in wanted:
            keep.scatter(pl.Series(batch.column(0)), True)
        # A stream is read once: registered under its own name, so no frame outlives the statement.
        connection.register(_STAGED_STREAM, _arrow_stream(staged, keep))
        connection.execute(f"SET memory_limit = {literal(scaled_memory_limit(MERGE_MEMORY_SHARES['insert']))}")
        written = scalar(
            connection, f"INSERT INTO {target.qualified} ({names}) SELECT {names} FROM {_STAGED_STREAM}"
        )
        connection.unregister(_STAGED_STREAM)
    counts.inserted = by_action.get(_INSERT, 0)
    counts.updated = written - counts.inserted
    connection.execute(f"DROP TABLE {_CLASSIFIED}")
