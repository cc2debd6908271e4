"""The DuckDB warehouse: one file, a schema per marketplace, typed tables, union views, safe writes.

Every asset fetches first and then calls one write method here. Each write is ONE transaction inside
a cross-process ``filelock`` (``<db>.lock``) that is held only around connect + transaction, so the
lock window is milliseconds to seconds and never spans an HTTP call. DuckDB allows one writing
process per file; without the shared lock, concurrent Dagster runs fail with "Could not set lock on
file" (dagster issues #16248, #19068). The connection is always closed in ``finally``, because a
leaked connection keeps DuckDB's own lock until garbage collection.

Layout: ``<mp>.<table>`` per marketplace code (``us.orders``), ``amazon.<table>`` views that union
every marketplace's table ``BY NAME`` with a ``marketplace`` column, and ``_sp_assets.loads``, a
ledger row per write (so a partition that legitimately has zero rows is visibly "loaded, 0 rows").

Writes are idempotent: ``replace_partition`` deletes the window then inserts (re-running a day never
duplicates), ``merge`` upserts by primary key and never replaces a row with an older version (a
backfill of an old day cannot regress state). Schema drift is absorbed: a new column in the data is
added to the table, a column the data lacks is written as null.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import backoff
import duckdb
import filelock
import polars as pl

from sp_assets.lib.naming import quote_identifier, safe_identifier, snake_case
from sp_assets.lib.tables.base import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    INTEGER,
    TIMESTAMPTZ,
    VARCHAR,
    FrameValidationError,
    TableSpec,
    conform_frame,
    normalize_sql_type,
)

__all__ = [
    "DUCKDB_PATH_ENV",
    "LEDGER_TABLE",
    "META_SCHEMA",
    "VIEW_SCHEMA",
    "Warehouse",
    "WarehouseBusyError",
    "WarehouseError",
    "WarehouseLockTimeout",
    "WarehousePathError",
    "WriteResult",
]

_LOG = logging.getLogger(__name__)

DUCKDB_PATH_ENV = "SP_ASSETS_DUCKDB"
VIEW_SCHEMA = "amazon"
META_SCHEMA = "_sp_assets"
LEDGER_TABLE = "loads"
MARKETPLACE_COLUMN = "marketplace"
SOURCE_MARKETPLACE_COLUMN = "source_marketplace"
RESERVED_SCHEMAS = frozenset({VIEW_SCHEMA, META_SCHEMA, "main", "information_schema", "pg_catalog", "temp"})

_STAGED = "_sp_staged"
_ROW = "_sp_row"
_CLASSIFIED = "_sp_classified"
_ORDER = "_sp_order"
# DuckDB reads these natively; anything else (cp1252, Shift_JIS) must be transcoded to UTF-8 while
# decompressing, which streams and costs nothing extra.
_FILE_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "utf-16": "utf-16",
}
_PARTITION_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    DATE: (date,),
    TIMESTAMPTZ: (datetime,),
    BIGINT: (int,),
    INTEGER: (int,),
    VARCHAR: (str,),
}


# The ledger: one row per write. (SQL type, polars dtype) per column; the dtype serves empty results.
_LEDGER_COLUMNS: dict[str, tuple[str, pl.DataType]] = {
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
}


class WarehouseError(RuntimeError):
    """A warehouse operation failed; the message names the database file and, for writes, the table."""


class WarehousePathError(WarehouseError):
    """The DuckDB path is unusable (empty, a directory, not a DuckDB file, not writable)."""


class WarehouseLockTimeout(WarehouseError):
    """Another sp_assets process held the warehouse lock for longer than ``lock_timeout_s``."""


class WarehouseBusyError(WarehouseError):
    """A process that does not use the sp_assets lock (DuckDB CLI, notebook) keeps the file open."""


@dataclass(frozen=True)
class WriteResult:
    """What one write did; ``as_metadata()`` is ready for Dagster's ``MaterializeResult(metadata=...)``.

    ``rows`` is the number of rows the write put in the table (inserted + updated). For a merge,
    ``unchanged`` counts rows whose version equals the stored one and ``stale`` rows older than it
    (both left alone); ``duplicates`` counts older copies of a key dropped from the frame itself.
    """

    schema: str
    table: str
    operation: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    stale: int = 0
    duplicates: int = 0
    created_table: bool = False
    added_columns: tuple[str, ...] = ()
    partition_start: str | None = None
    partition_end: str | None = None
    lock_wait_s: float = 0.0
    write_s: float = 0.0

    @property
    def skipped(self) -> int:
        return self.unchanged + self.stale

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"

    def as_metadata(self) -> dict[str, Any]:
        data = asdict(self)
        data["added_columns"] = list(self.added_columns)
        data["table"] = self.qualified_table
        data.pop("schema")
        data["lock_wait_s"] = round(self.lock_wait_s, 3)
        data["write_s"] = round(self.write_s, 3)
        return {key: value for key, value in data.items() if value is not None}


@dataclass
class _Counts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    stale: int = 0


@dataclass(frozen=True)
class _Target:
    """Everything a write needs to know about its table, computed before the lock is taken."""

    schema: str
    table: str
    operation: str
    columns: tuple[tuple[str, str], ...]  # (name, SQL type) the table must have, in creation order
    descriptions: Mapping[str, str] = field(default_factory=dict)
    table_description: str = ""
    partition_start: str | None = None
    partition_end: str | None = None
    note: str = ""
    typed_from_staged: bool = False  # add the staged frame's extra columns with DuckDB's inferred types

    @property
    def qualified(self) -> str:
        return f"{quote_identifier(self.schema, 'schema')}.{quote_identifier(self.table, 'table')}"


_WriteBody = Callable[[duckdb.DuckDBPyConnection, _Counts], None]


class Warehouse:
    """One DuckDB warehouse file. Cheap to construct; every method opens and closes its own connection.

    ``lock_timeout_s`` bounds the wait for other sp_assets writers (they queue on ``<path>.lock``);
    ``busy_timeout_s`` bounds retries while a process outside that lock keeps DuckDB's own file lock.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, lock_timeout_s: float = 600.0, busy_timeout_s: float = 120.0
    ) -> None:
        self.path = _validated_path(path)
        self.lock_path = Path(f"{self.path}.lock")
        for name, value in (("lock_timeout_s", lock_timeout_s), ("busy_timeout_s", busy_timeout_s)):
            if not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
        self.lock_timeout_s = float(lock_timeout_s)
        self.busy_timeout_s = float(busy_timeout_s)
        # One lock object per path in this process: reentrant in a thread, exclusive across threads.
        self._lock = filelock.FileLock(self.lock_path, is_singleton=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: float) -> Warehouse:
        """The warehouse named by ``SP_ASSETS_DUCKDB``; a clear error if it is unset."""
        env = os.environ if environ is None else environ
        value = env.get(DUCKDB_PATH_ENV, "").strip()
        if not value:
            raise WarehousePathError(
                f"{DUCKDB_PATH_ENV} is not set: set it to the DuckDB warehouse file, e.g. data/sp_assets.duckdb"
            )
        return cls(value, **options)

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    def check_writable(self) -> None:
        """Fail now, naming the path, if the database could not be created or written there.

        Creates nothing: a run calls it before fetching, so a typo in ``SP_ASSETS_DUCKDB`` costs no API
        calls and leaves no stray file behind.
        """
        if self.path.exists():
            if not self.path.is_file() or not os.access(self.path, os.R_OK | os.W_OK):
                raise self._path_error("it exists but is not a readable and writable file")
            return
        ancestor = self.path.parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise self._path_error(f"{ancestor} is a file, so no folder can be created under it")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise self._path_error(f"the folder {ancestor} is not writable")

    # --- connections -----------------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Lock, connect, yield, and always close then unlock. For custom SQL; keep the block short."""
        with self._locked_connection() as (connection, _waited):
            yield connection

    @contextmanager
    def _locked_connection(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, float]]:
        self._ensure_parent_directory()
        waited = self._acquire_lock()
        try:
            connection = self._open_duckdb()
            try:
                connection.execute("SET SESSION TimeZone = 'UTC'")
                yield connection, waited
            finally:
                connection.close()
        finally:
            self._lock.release()

    def _ensure_parent_directory(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._path_error(f"cannot create its directory: {exc}") from exc

    def _acquire_lock(self) -> float:
        started = time.perf_counter()
        try:
            self._lock.acquire(timeout=self.lock_timeout_s)
        except filelock.Timeout:
            raise WarehouseLockTimeout(
                f"waited {self.lock_timeout_s:g} s for the warehouse lock {self.lock_path}: another sp_assets "
                "process kept writing; raise lock_timeout_s or lower the number of concurrent runs"
            ) from None
        except OSError as exc:
            raise self._path_error(f"cannot create the lock file {self.lock_path}: {exc}") from exc
        waited = time.perf_counter() - started
        if waited > 1.0:
            _LOG.info("waited %.1f s for the warehouse lock %s", waited, self.lock_path)
        return waited

    def _open_duckdb(self) -> duckdb.DuckDBPyConnection:
        """Connect, retrying (with jittered backoff, bounded by ``busy_timeout_s``) only on DuckDB's lock."""
        opener = backoff.on_exception(
            backoff.expo,
            duckdb.IOException,
            max_time=self.busy_timeout_s,
            max_value=2.0,
            giveup=lambda exc: not _is_duckdb_lock_conflict(exc),
            logger=_LOG,
        )(lambda: duckdb.connect(str(self.path)))
        try:
            return opener()
        except duckdb.IOException as exc:
            if _is_duckdb_lock_conflict(exc):
                raise WarehouseBusyError(
                    f"DuckDB file {self.path} stayed locked by another process for {self.busy_timeout_s:g} s "
                    f"({exc}). Close DuckDB CLI sessions or notebooks holding it, or raise busy_timeout_s."
                ) from exc
            raise self._path_error(str(exc)) from exc
        except (duckdb.Error, OSError) as exc:
            raise self._path_error(str(exc)) from exc

    def _path_error(self, reason: str) -> WarehousePathError:
        return WarehousePathError(
            f"cannot use the DuckDB warehouse file {self.path}: {reason}. The path comes from "
            f"{DUCKDB_PATH_ENV} (or the caller); it must be a writable DuckDB file location."
        )

    # --- frame writes ----------------------------------------------------------------------------

    def replace_partition(
        self,
        schema: str,
        spec: TableSpec,
        frame: pl.DataFrame,
        start: date | datetime | int | str,
        end: date | datetime | int | str,
        *,
        note: str = "",
    ) -> WriteResult:
        """Delete the rows whose ``spec.partition_column`` is in ``[start, end)``, then insert ``frame``.

        Running the same window twice leaves one copy. An empty frame just clears the window (and the
        ledger records "0 rows"). Any frame row outside the window (or with a null partition value)
        is an error and nothing is written. Rows repeating a primary key keep the newest version.
        """
        partition = _require(
            spec.partition_column, f"replace_partition: table spec {spec.name!r} has no partition_column"
        )
        _check_window(spec, partition, start, end)
        prepared, duplicates = _prepare_frame(spec, frame, dedupe=True)
        _check_rows_in_window(prepared, partition, start, end)
        target = self._frame_target(schema, spec, prepared, "replace_partition", note, start, end)

        def body(connection: duckdb.DuckDBPyConnection, counts: _Counts) -> None:
            column = quote_identifier(partition, "column")
            counts.deleted = _scalar(
                connection,
                f"DELETE FROM {target.qualified} WHERE {column} >= ? AND {column} < ?",
                [start, end],
            )
            counts.inserted = _insert_staged(connection, target, prepared.columns)

        return self._write(target, body, prepared, duplicates=duplicates)

    def merge(self, schema: str, spec: TableSpec, frame: pl.DataFrame, *, note: str = "") -> WriteResult:
        """Upsert by ``spec.primary_key``; never replace a stored row with an older ``version_column``.

        Per key: absent -> inserted; stored version null or older -> updated; equal -> unchanged;
        newer stored version (or a null incoming version) -> stale, left alone. Without a
        version_column every matched row is updated. Within the frame only the newest copy of a key
        is kept. Implemented as classify (one hash join into a temp table) + delete by rowid + one
        insert: about 2x a plain INSERT for 1M rows into 5M (target <= 3x). A bare ``MERGE INTO`` is
        about 1.5x but reports no per-action counts (``RETURNING merge_action`` made it slower than
        this), and ``INSERT ... ON CONFLICT`` needs a PRIMARY KEY index, which slows every load and
        blocks schema drift; see benchmarks/bench_merge.py. Tables therefore carry no PRIMARY KEY
        constraint: uniqueness is kept by this method.
        """
        if not spec.primary_key:
            raise ValueError(f"merge: table spec {spec.name!r} has no primary_key to match rows by")
        prepared, duplicates = _prepare_frame(spec, frame, dedupe=True)
        needed = (*spec.primary_key, *((spec.version_column,) if spec.version_column else ()))
        missing = [name for name in needed if name not in prepared.columns]
        if missing and prepared.width:
            raise FrameValidationError(
                f"merge into {spec.name!r}: the frame lacks key/version column(s) {missing}"
            )
        staged = prepared.with_row_index(_ROW)
        target = self._frame_target(schema, spec, prepared, "merge", note)

        def body(connection: duckdb.DuckDBPyConnection, counts: _Counts) -> None:
            if prepared.width:  # a zero-column frame only makes sure the table exists
                _merge_staged(connection, target, spec, prepared.columns, counts)

        return self._write(target, body, staged, duplicates=duplicates)

    def replace_table(
        self, schema: str, spec: TableSpec, frame: pl.DataFrame, *, note: str = ""
    ) -> WriteResult:
        """Replace the whole table's rows with ``frame`` (snapshot tables); columns added earlier stay."""
        prepared, duplicates = _prepare_frame(spec, frame, dedupe=True)
        target = self._frame_target(schema, spec, prepared, "replace_table", note)

        def body(connection: duckdb.DuckDBPyConnection, counts: _Counts) -> None:
            counts.deleted = _scalar(connection, f"DELETE FROM {target.qualified}")
            counts.inserted = _insert_staged(connection, target, prepared.columns)

        return self._write(target, body, prepared, duplicates=duplicates)

    def append(self, schema: str, spec: TableSpec, frame: pl.DataFrame, *, note: str = "") -> WriteResult:
        """Insert ``frame`` as is (no delete, no key check): for event logs that are never re-fetched."""
        prepared, _ = _prepare_frame(spec, frame, dedupe=False)
        target = self._frame_target(schema, spec, prepared, "append", note)

        def body(connection: duckdb.DuckDBPyConnection, counts: _Counts) -> None:
            counts.inserted = _insert_staged(connection, target, prepared.columns)

        return self._write(target, body, prepared, duplicates=0)

    def _frame_target(
        self,
        schema: str,
        spec: TableSpec,
        frame: pl.DataFrame,
        operation: str,
        note: str,
        start: object = None,
        end: object = None,
    ) -> _Target:
        _check_write_schema(schema)
        return _Target(
            schema=schema,
            table=spec.name,
            operation=operation,
            columns=tuple((column.name, column.type) for column in spec.columns),
            descriptions={column.name: column.description for column in spec.columns if column.description},
            table_description=spec.description,
            partition_start=_partition_text(start),
            partition_end=_partition_text(end),
            note=note,
            typed_from_staged=frame.width > 0,
        )

    # --- file loads ------------------------------------------------------------------------------

    def load_delimited_file(
        self,
        schema: str,
        table: str,
        path: str | os.PathLike[str],
        *,
        delimiter: str = "\t",
        quote: str | None = None,
        escape: str | None = None,
        encoding: str = "utf-8",
        skip_lines: int = 0,
        header_map: Mapping[str, str] | None = None,
        column_types: Mapping[str, str] | None = None,
        constants: Mapping[str, Any] | None = None,
        replace_where: Mapping[str, Any] | None = None,
        replace_range: tuple[str, Any, Any] | None = None,
        partition_start: date | datetime | str | None = None,
        partition_end: date | datetime | str | None = None,
        strict: bool = True,
        note: str = "",
    ) -> WriteResult:
        """Load a delimited text file (a decompressed report) without reading it into Python memory.

        DuckDB's ``read_csv`` streams the file straight into the table: every file column is read as
        text (``column_types`` casts chosen ones, strictly), the header is normalized with
        ``snake_case`` (``header_map`` renames raw headers first, e.g. localized ones), and
        ``quote=None`` means no quoting at all (Amazon's TSVs contain bare ``"``). A column new to the
        table is added; a table column absent from the file gets nulls. ``constants`` adds fixed
        columns (report_id, partition date). Before inserting, rows matching ``replace_where``
        (column = value, ANDed) and/or ``replace_range`` ``(column, start, end)`` (half-open) are
        deleted, all in one transaction. ``strict=False`` tolerates rows with extra fields (DuckDB
        drops the extras); short rows are always padded with nulls. ``encoding`` must be one DuckDB
        reads natively (utf-8, latin-1, utf-16): transcode cp1252/Shift_JIS while decompressing.
        """
        _check_write_schema(schema)
        safe_identifier(table, "table")
        file_path = _existing_file(path)
        duckdb_encoding = _file_encoding(encoding)
        delimiter, quote, escape = _dialect(delimiter, quote, escape)
        if not isinstance(skip_lines, int) or skip_lines < 0:
            raise ValueError(f"skip_lines must be an integer >= 0, got {skip_lines!r}")
        header = _read_header(file_path, delimiter, quote, escape, duckdb_encoding, skip_lines)
        names = _file_column_names(header or [], header_map or {})
        types = {snake: normalize_sql_type(sql) for snake, sql in (column_types or {}).items()}
        constant_columns = _constant_columns(constants or {}, types, names)
        file_columns = tuple((name, types.get(name, VARCHAR)) for name in names)
        predicates, predicate_params = _replace_predicate(replace_where, replace_range)
        if replace_range and partition_start is None and partition_end is None:
            partition_start, partition_end = replace_range[1], replace_range[2]
        target = _Target(
            schema=schema,
            table=table,
            operation="load_delimited_file",
            columns=file_columns + tuple((name, sql) for name, sql, _ in constant_columns),
            partition_start=_partition_text(partition_start),
            partition_end=_partition_text(partition_end),
            note=note or file_path.name,
        )
        source = _read_csv_sql(
            file_path, names, delimiter, quote, escape, duckdb_encoding, skip_lines, strict
        )

        def body(connection: duckdb.DuckDBPyConnection, counts: _Counts) -> None:
            existing = _table_columns(connection, schema, table)
            if predicates and existing:
                unknown = [
                    name for name in _predicate_columns(replace_where, replace_range) if name not in existing
                ]
                if unknown:
                    raise ValueError(
                        f"replace predicate names column(s) {unknown} that {schema}.{table} lacks"
                    )
                counts.deleted = _scalar(
                    connection, f"DELETE FROM {target.qualified} WHERE {predicates}", predicate_params
                )
            if names:
                with _bounded_memory(connection, load_memory_limit()):
                    counts.inserted = _insert_file(connection, target, file_columns, constant_columns, source)

        if not target.columns:
            return self._ledger_only(target, body)
        return self._write(target, body, None, duplicates=0)

    # --- reads -----------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pl.DataFrame:
        """Run SQL under the warehouse lock and return the result as a polars frame."""
        if not self.path.exists():
            raise WarehouseError(f"the warehouse {self.path} does not exist yet (nothing has been written)")
        with self.connect() as connection:
            relation = connection.sql(sql, params=params)
            return relation.pl() if relation is not None else pl.DataFrame()

    def table_exists(self, schema: str, table: str) -> bool:
        safe_identifier(schema, "schema")
        safe_identifier(table, "table")
        if not self.path.exists():
            return False
        with self.connect() as connection:
            return bool(_table_columns(connection, schema, table))

    def columns(self, schema: str, table: str) -> dict[str, str]:
        """``{column: DuckDB type}`` of a table or view, in table order (empty if it does not exist)."""
        safe_identifier(schema, "schema")
        safe_identifier(table, "table")
        if not self.path.exists():
            return {}
        with self.connect() as connection:
            return _table_columns(connection, schema, table, include_views=True)

    def row_count(self, schema: str, table: str) -> int:
        """Rows in a table or view; ``WarehouseError`` if it does not exist."""
        qualified = f"{quote_identifier(schema, 'schema')}.{quote_identifier(table, 'table')}"
        if not self.path.exists():
            raise WarehouseError(f"{schema}.{table} does not exist: {self.path} has not been written yet")
        with self.connect() as connection:
            if not _table_columns(connection, schema, table, include_views=True):
                raise WarehouseError(f"{schema}.{table} does not exist in {self.path}")
            return _scalar(connection, f"SELECT count(*) FROM {qualified}")

    def loads(self, schema: str | None = None, table: str | None = None) -> pl.DataFrame:
        """The ledger (``_sp_assets.loads``), newest first, optionally for one schema and/or table."""
        filters, params = [], []
        for column, value in (("schema_name", schema), ("table_name", table)):
            if value is not None:
                filters.append(f"{column} = ?")
                params.append(safe_identifier(value, column.removesuffix("_name")))
        where = f"WHERE {' AND '.join(filters)}" if filters else ""
        if not self.table_exists(META_SCHEMA, LEDGER_TABLE):
            return pl.DataFrame(schema={name: dtype for name, (_, dtype) in _LEDGER_COLUMNS.items()})
        return self.query(
            f'SELECT * FROM "{META_SCHEMA}"."{LEDGER_TABLE}" {where} ORDER BY written_at DESC, load_id DESC',
            params,
        )

    def rebuild_views(self) -> list[str]:
        """Rebuild every ``amazon.<table>`` union view (writes already do this when a table changes)."""
        with self.connect() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                tables = _marketplace_table_names(connection)
                for table in tables:
                    _rebuild_union_view(connection, table)
                connection.execute("COMMIT")
            except BaseException:
                _rollback(connection)
                raise
        return [f"{VIEW_SCHEMA}.{table}" for table in tables]

    # --- the write transaction -------------------------------------------------------------------

    def _write(
        self, target: _Target, body: _WriteBody, staged: pl.DataFrame | None, *, duplicates: int
    ) -> WriteResult:
        with self._locked_connection() as (connection, waited):
            started = time.perf_counter()
            if staged is not None and staged.width:
                connection.register(_STAGED, staged)
            connection.execute("BEGIN TRANSACTION")
            try:
                created, added = _ensure_table(connection, target)
                counts = _Counts()
                body(connection, counts)
                _record_load(connection, target, counts)
                if created or added:
                    _rebuild_union_view(connection, target.table)
                connection.execute("COMMIT")
            except duckdb.Error as exc:
                _rollback(connection)
                raise WarehouseError(
                    f"{target.operation} into {target.schema}.{target.table} in {self.path} failed and was "
                    f"rolled back (nothing written): {exc}"
                ) from exc
            except BaseException:
                _rollback(connection)
                raise
            elapsed = time.perf_counter() - started
        return _result(target, counts, duplicates, created, added, waited, elapsed)

    def _ledger_only(self, target: _Target, body: _WriteBody) -> WriteResult:
        """A file with no header and no constants: nothing to create, but the load is still recorded."""
        with self._locked_connection() as (connection, waited):
            started = time.perf_counter()
            connection.execute("BEGIN TRANSACTION")
            try:
                counts = _Counts()
                body(connection, counts)
                _record_load(connection, target, counts)
                connection.execute("COMMIT")
            except BaseException:
                _rollback(connection)
                raise
            elapsed = time.perf_counter() - started
        return _result(target, counts, 0, False, (), waited, elapsed)


# --- validation before the lock -------------------------------------------------------------------


def _validated_path(path: str | os.PathLike[str]) -> Path:
    text = os.fspath(path) if isinstance(path, str | os.PathLike) else None
    if not isinstance(text, str) or not text.strip():
        raise WarehousePathError(
            f"the DuckDB warehouse path is empty ({path!r}); set {DUCKDB_PATH_ENV} to a file path"
        )
    if text.strip() == ":memory:" or text.startswith("md:"):
        raise WarehousePathError(
            f"the DuckDB warehouse path must be a local file, got {text!r}: separate processes must share it "
            f"(set {DUCKDB_PATH_ENV})"
        )
    resolved = Path(text).expanduser().absolute()
    if resolved.is_dir():
        raise WarehousePathError(
            f"the DuckDB warehouse path {resolved} is a directory; {DUCKDB_PATH_ENV} must name a file in it"
        )
    return resolved


def _require(value: str | None, message: str) -> str:
    if not value:
        raise ValueError(message)
    return value


def _check_write_schema(schema: str) -> None:
    safe_identifier(schema, "schema")
    if schema in RESERVED_SCHEMAS:
        raise ValueError(
            f"schema {schema!r} is reserved ({', '.join(sorted(RESERVED_SCHEMAS))}); write to a marketplace schema"
        )


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
    if frame.select(pl.struct(keys).is_unique().all()).item():
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
        if sql_type == TIMESTAMPTZ and value.tzinfo is None:
            raise ValueError(f"replace_partition {name}={value!r}: pass a time-zone-aware datetime")
    if not start < end:
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


def _partition_text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _existing_file(path: str | os.PathLike[str]) -> Path:
    file_path = Path(path).expanduser().absolute()
    if not file_path.is_file():
        raise FileNotFoundError(f"load_delimited_file: {file_path} is not a file")
    return file_path


def _file_encoding(encoding: str) -> str:
    duckdb_name = _FILE_ENCODINGS.get(encoding.strip().lower().replace("_", "-"))
    if duckdb_name is None:
        raise ValueError(
            f"encoding {encoding!r} is not read natively; allowed: utf-8, latin-1, utf-16. "
            "Transcode other encodings (cp1252, Shift_JIS) to UTF-8 while decompressing."
        )
    return duckdb_name


def _dialect(delimiter: str, quote: str | None, escape: str | None) -> tuple[str, str, str]:
    """Validate the dialect; '' means "none" for quote and escape (escape defaults to the quote)."""
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n":
        raise ValueError(f"delimiter must be one character (not a newline), got {delimiter!r}")
    quote = quote or ""
    escape = quote if escape is None else escape
    for name, value in (("quote", quote), ("escape", escape)):
        if len(value) > 1 or value in ("\r", "\n") or (value and value == delimiter):
            raise ValueError(f"{name} must be one character other than the delimiter, or None; got {value!r}")
    return delimiter, quote, escape


def _read_header(
    path: Path, delimiter: str, quote: str, escape: str, encoding: str, skip_lines: int
) -> list[str] | None:
    """The header fields, read with the same dialect DuckDB will use; None for an empty file."""
    with path.open(encoding=encoding, newline="") as handle:
        for _ in range(skip_lines):
            handle.readline()
        line = handle.readline()
    line = line.lstrip("\ufeff").rstrip("\r\n")
    if not line.strip():
        return None
    reader = csv.reader(
        [line],
        delimiter=delimiter,
        quotechar=quote or None,
        escapechar=(escape or None) if escape != quote else None,
        doublequote=bool(quote) and escape == quote,
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
    )
    return next(reader)


def _file_column_names(header: Sequence[str], header_map: Mapping[str, str]) -> list[str]:
    """snake_case each header (after header_map); blank headers become column_<n>; repeats get _2, _3."""
    names: list[str] = []
    for position, raw in enumerate(header, start=1):
        mapped = header_map.get(raw, header_map.get(raw.strip(), raw))
        name = snake_case(mapped) if mapped.strip() else f"column_{position}"
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
                f"constant column {name!r} is also a column of the file; rename one of them (header_map)"
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
        return normalize_sql_type(f"DECIMAL(38,{max(0, -value.as_tuple().exponent)})")
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


def _replace_predicate(
    replace_where: Mapping[str, Any] | None, replace_range: tuple[str, Any, Any] | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for name, value in (replace_where or {}).items():
        column = quote_identifier(name, "column")
        if value is None:
            clauses.append(f"{column} IS NULL")
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    if replace_range is not None:
        if len(replace_range) != 3:
            raise ValueError("replace_range must be (column, start, end)")
        name, start, end = replace_range
        if not start < end:
            raise ValueError(f"replace_range is empty or reversed: {start!r} >= {end!r}")
        column = quote_identifier(name, "column")
        clauses.append(f"{column} >= ? AND {column} < ?")
        params.extend([start, end])
    return " AND ".join(clauses), params


def _predicate_columns(
    replace_where: Mapping[str, Any] | None, replace_range: tuple[str, Any, Any] | None
) -> list[str]:
    return [*(replace_where or {}), *((replace_range[0],) if replace_range else ())]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


MAX_LINE_BYTES = 16 * 1024 * 1024
LOAD_MEMORY_ENV = "SP_ASSETS_DUCKDB_LOAD_MEMORY"
DEFAULT_LOAD_MEMORY = "256MB"


def load_memory_limit() -> str:
    """DuckDB's memory limit while a report file loads (``SP_ASSETS_DUCKDB_LOAD_MEMORY``, default 256MB).

    A multi-gigabyte document then loads in bounded memory, spilling to disk if it must, instead of
    DuckDB taking most of the machine's RAM while other runs work beside it.
    """
    value = os.environ.get(LOAD_MEMORY_ENV, "").strip() or DEFAULT_LOAD_MEMORY
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)", value, flags=re.IGNORECASE):
        raise ValueError(f"{LOAD_MEMORY_ENV}: {value!r} must be a size such as 256MB or 1GB")
    return value


@contextmanager
def _bounded_memory(connection: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """Bound memory (and drop insertion-order buffering, which a bulk load does not need) for one
    statement, then restore the database's defaults for whatever the connection does next.

    Not in a ``finally``: after a failed statement the transaction is aborted and refuses even a
    RESET, which would hide the real error; the failed write rolls back and closes the connection,
    and the settings go with it."""
    connection.execute(f"SET memory_limit = {_literal(limit)}")
    connection.execute("SET preserve_insertion_order = false")
    yield
    connection.execute("RESET memory_limit")
    connection.execute("RESET preserve_insertion_order")


def _read_csv_sql(
    path: Path,
    names: Sequence[str],
    delimiter: str,
    quote: str,
    escape: str,
    encoding: str,
    skip_lines: int,
    strict: bool,
) -> str:
    columns = ", ".join(f"{_literal(name)}: 'VARCHAR'" for name in names)
    options = [
        f"delim = {_literal(delimiter)}",
        f"quote = {_literal(quote)}",
        f"escape = {_literal(escape)}",
        f"encoding = {_literal(encoding)}",
        "header = true",
        f"skip = {int(skip_lines)}",
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
    return f"read_csv({_literal(str(path))}, {', '.join(options)})"


def _scalar(connection: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> int:
    """Run a DML statement and return its row count (fetchall: duckdb 2.0 rejects unfinished results)."""
    rows = connection.execute(sql, params).fetchall() if params else connection.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def _is_duckdb_lock_conflict(exc: BaseException) -> bool:
    return "Could not set lock on file" in str(exc)


# --- SQL inside the transaction -------------------------------------------------------------------


def _table_columns(
    connection: duckdb.DuckDBPyConnection, schema: str, table: str, *, include_views: bool = False
) -> dict[str, str]:
    kinds = "" if include_views else "AND t.table_type = 'BASE TABLE'"
    rows = connection.execute(
        f"""SELECT c.column_name, c.data_type FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
            WHERE c.table_catalog = current_database() AND c.table_schema = ? AND c.table_name = ? {kinds}
            ORDER BY c.ordinal_position""",
        [schema, table],
    ).fetchall()
    return {name: sql_type for name, sql_type in rows}


def _staged_types(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """DuckDB's own type for each staged frame column (a NULL-only column becomes VARCHAR)."""
    relation = connection.sql(f"SELECT * FROM {_STAGED} LIMIT 0")
    types = {}
    for name, duck_type in zip(relation.columns, relation.types, strict=True):
        text = str(duck_type)
        types[name] = VARCHAR if text.strip('"').upper() == "NULL" else text
    return types


def _ensure_table(connection: duckdb.DuckDBPyConnection, target: _Target) -> tuple[bool, tuple[str, ...]]:
    """Create the table, or add the columns it lacks (schema drift); report what changed."""
    wanted = dict(target.columns)
    if target.typed_from_staged:
        for name, sql_type in _staged_types(connection).items():
            if name != _ROW:
                wanted.setdefault(name, sql_type)
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(target.schema, 'schema')}")
    existing = _table_columns(connection, target.schema, target.table)
    if not existing:
        definitions = ", ".join(f"{quote_identifier(name, 'column')} {sql}" for name, sql in wanted.items())
        connection.execute(f"CREATE TABLE {target.qualified} ({definitions})")
        _comment(connection, target, list(wanted), table=True)
        return True, ()
    added = [name for name in wanted if name not in existing]
    for name in added:
        connection.execute(
            f"ALTER TABLE {target.qualified} ADD COLUMN {quote_identifier(name, 'column')} {wanted[name]}"
        )
    _comment(connection, target, added, table=False)
    return False, tuple(added)


def _comment(
    connection: duckdb.DuckDBPyConnection, target: _Target, columns: Sequence[str], *, table: bool
) -> None:
    """Spec descriptions become DuckDB comments, so ``duckdb_columns()`` documents the warehouse."""
    if table and target.table_description:
        connection.execute(f"COMMENT ON TABLE {target.qualified} IS {_literal(target.table_description)}")
    for name in columns:
        description = target.descriptions.get(name)
        if description:
            column = f"{target.qualified}.{quote_identifier(name, 'column')}"
            connection.execute(f"COMMENT ON COLUMN {column} IS {_literal(description)}")


def _column_list(names: Sequence[str]) -> str:
    return ", ".join(quote_identifier(name, "column") for name in names)


def _insert_staged(connection: duckdb.DuckDBPyConnection, target: _Target, columns: Sequence[str]) -> int:
    names = [name for name in columns if name != _ROW]
    if not names:
        return 0
    column_list = _column_list(names)
    return _scalar(
        connection, f"INSERT INTO {target.qualified} ({column_list}) SELECT {column_list} FROM {_STAGED}"
    )


def _merge_staged(
    connection: duckdb.DuckDBPyConnection,
    target: _Target,
    spec: TableSpec,
    columns: Sequence[str],
    counts: _Counts,
) -> None:
    """Classify each staged row against the table (one hash join), delete replaced rows, insert."""
    join = " AND ".join(
        f"t.{quote_identifier(key, 'column')} = s.{quote_identifier(key, 'column')}"
        for key in spec.primary_key
    )
    if spec.version_column:
        new, old = (f"{alias}.{quote_identifier(spec.version_column, 'column')}" for alias in ("s", "t"))
        action = (
            f"CASE WHEN t.rowid IS NULL THEN 'insert' WHEN {old} IS NULL OR {new} > {old} THEN 'update' "
            f"WHEN {new} = {old} THEN 'unchanged' ELSE 'stale' END"
        )
    else:
        action = "CASE WHEN t.rowid IS NULL THEN 'insert' ELSE 'update' END"
    connection.execute(
        f"CREATE TEMP TABLE {_CLASSIFIED} AS SELECT s.{_ROW} AS row_nr, t.rowid AS target_rowid, "
        f"{action} AS action FROM {_STAGED} s LEFT JOIN {target.qualified} t ON {join}"
    )
    by_action = dict(
        connection.execute(
            f"SELECT action, count(DISTINCT row_nr) FROM {_CLASSIFIED} GROUP BY action"
        ).fetchall()
    )
    counts.unchanged = by_action.get("unchanged", 0)
    counts.stale = by_action.get("stale", 0)
    if by_action.get("update"):
        _scalar(
            connection,
            f"DELETE FROM {target.qualified} WHERE rowid IN "
            f"(SELECT target_rowid FROM {_CLASSIFIED} WHERE action = 'update')",
        )
    names = _column_list([name for name in columns if name != _ROW])
    written = _scalar(
        connection,
        f"INSERT INTO {target.qualified} ({names}) SELECT {names} FROM {_STAGED} WHERE {_ROW} IN "
        f"(SELECT row_nr FROM {_CLASSIFIED} WHERE action IN ('insert', 'update'))",
    )
    counts.inserted = by_action.get("insert", 0)
    counts.updated = written - counts.inserted
    connection.execute(f"DROP TABLE {_CLASSIFIED}")


def _insert_file(
    connection: duckdb.DuckDBPyConnection,
    target: _Target,
    file_columns: Sequence[tuple[str, str]],
    constant_columns: Sequence[tuple[str, str, Any]],
    source: str,
) -> int:
    selects = [
        quote_identifier(name, "column")
        if sql == VARCHAR
        else f"CAST({quote_identifier(name, 'column')} AS {sql})"
        for name, sql in file_columns
    ]
    selects += [f"CAST(? AS {sql})" for _, sql, _ in constant_columns]
    names = _column_list([name for name, _ in file_columns] + [name for name, _, _ in constant_columns])
    params = [value for _, _, value in constant_columns]
    sql = f"INSERT INTO {target.qualified} ({names}) SELECT {', '.join(selects)} FROM {source}"
    return _scalar(connection, sql, params or None)


def _ensure_ledger(connection: duckdb.DuckDBPyConnection) -> None:
    definitions = ", ".join(f'"{name}" {sql}' for name, (sql, _) in _LEDGER_COLUMNS.items())
    connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{META_SCHEMA}"')
    connection.execute(f'CREATE TABLE IF NOT EXISTS "{META_SCHEMA}"."{LEDGER_TABLE}" ({definitions})')


def _record_load(connection: duckdb.DuckDBPyConnection, target: _Target, counts: _Counts) -> None:
    """The ledger row, in the same transaction as the data, so both land or neither does."""
    _ensure_ledger(connection)
    ledger = f'"{META_SCHEMA}"."{LEDGER_TABLE}"'
    connection.execute(
        f"""INSERT INTO {ledger} SELECT coalesce((SELECT max(load_id) FROM {ledger}), 0) + 1,
            ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?""",
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
        ],
    ).fetchall()


def _marketplace_table_names(connection: duckdb.DuckDBPyConnection) -> list[str]:
    reserved = ", ".join(_literal(name) for name in sorted(RESERVED_SCHEMAS))
    rows = connection.execute(
        f"""SELECT DISTINCT table_name FROM duckdb_tables()
            WHERE database_name = current_database() AND NOT temporary AND schema_name NOT IN ({reserved})
            ORDER BY table_name"""
    ).fetchall()
    return [name for (name,) in rows if _is_safe(name)]


def _rebuild_union_view(connection: duckdb.DuckDBPyConnection, table: str) -> None:
    """``amazon.<table>``: every marketplace's table, UNION ALL BY NAME, with a ``marketplace`` column."""
    reserved = ", ".join(_literal(name) for name in sorted(RESERVED_SCHEMAS))
    schemas = [
        name
        for (name,) in connection.execute(
            f"""SELECT schema_name FROM duckdb_tables()
                WHERE database_name = current_database() AND NOT temporary AND table_name = ?
                  AND schema_name NOT IN ({reserved})
                ORDER BY schema_name""",
            [table],
        ).fetchall()
        if _is_safe(name)
    ]
    if not schemas:
        return
    selects = []
    for schema in schemas:
        has_marketplace = MARKETPLACE_COLUMN in _table_columns(connection, schema, table)
        star = (
            f"* EXCLUDE ({MARKETPLACE_COLUMN}), {MARKETPLACE_COLUMN} AS {SOURCE_MARKETPLACE_COLUMN}"
            if has_marketplace
            else "*"
        )
        selects.append(
            f"SELECT {_literal(schema)} AS {MARKETPLACE_COLUMN}, {star} "
            f"FROM {quote_identifier(schema, 'schema')}.{quote_identifier(table, 'table')}"
        )
    connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{VIEW_SCHEMA}"')
    connection.execute(
        f'CREATE OR REPLACE VIEW "{VIEW_SCHEMA}".{quote_identifier(table, "table")} AS '
        + " UNION ALL BY NAME ".join(selects)
    )


def _is_safe(name: str) -> bool:
    try:
        safe_identifier(name)
    except ValueError:
        return False
    return True


def _rollback(connection: duckdb.DuckDBPyConnection) -> None:
    try:
        connection.execute("ROLLBACK")
    except duckdb.Error:  # the failed statement may already have aborted the transaction
        _LOG.debug("rollback after a failed write raised", exc_info=True)


def _result(
    target: _Target,
    counts: _Counts,
    duplicates: int,
    created: bool,
    added: tuple[str, ...],
    waited: float,
    elapsed: float,
) -> WriteResult:
    return WriteResult(
        schema=target.schema,
        table=target.table,
        operation=target.operation,
        rows=counts.inserted + counts.updated,
        inserted=counts.inserted,
        updated=counts.updated,
        deleted=counts.deleted,
        unchanged=counts.unchanged,
        stale=counts.stale,
        duplicates=duplicates,
        created_table=created,
        added_columns=added,
        partition_start=target.partition_start,
        partition_end=target.partition_end,
        lock_wait_s=waited,
        write_s=elapsed,
    )
