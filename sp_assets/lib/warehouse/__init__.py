"""The DuckDB warehouse: one file, a schema per marketplace, typed tables, union views, safe writes.

Every asset fetches first and then calls one write method of ``Warehouse``. Each write is ONE
transaction inside a cross-process file lock held only around connect + transaction, so the lock
window is milliseconds to seconds and never spans an HTTP call. The connection is always closed in
``finally``, because a leaked connection keeps DuckDB's own lock until garbage collection.

``Warehouse`` is the one object callers use; the package is split by concern and the class only
checks its arguments, takes the lock and delegates:

* ``lock``: the cross-process file lock and the retry while another program holds DuckDB's lock;
* ``frames``: writing a polars frame (replace a partition, merge, replace the table), one table or
  several in one transaction (``replace_partitions``, ``merge_together``), or the rows of a SELECT
  run inside DuckDB (``replace_partition_from_sql``);
* ``delimited``: loading a decompressed flat-file report with DuckDB's ``read_csv``;
* ``transaction``: one write = one transaction (DDL, rows, ledger row, view) and its ``WriteResult``;
* ``ddl``: creating tables, schema drift, comments;
* ``ledger``: ``_sp_assets.loads``, a row per write, including where the data came from (``source``);
* ``views``: the ``amazon.<table>`` union views;
* ``sql`` and ``errors``: the names, helpers and exceptions the others share.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from sp_assets.lib.naming import quote_identifier, safe_identifier
from sp_assets.lib.tablespec import TableSpec
from sp_assets.lib.textformats import NameTypes, TextFormat
from sp_assets.lib.warehouse import delimited, frames, ledger, lock
from sp_assets.lib.warehouse.errors import (
    DUCKDB_PATH_ENV,
    WarehouseBusyError,
    WarehouseError,
    WarehouseLockTimeout,
    WarehousePathError,
    check_writable,
    validated_path,
)
from sp_assets.lib.warehouse.lake import Lake, Maintenance, is_lake, maintain
from sp_assets.lib.warehouse.ledger import LOAD_SOURCES
from sp_assets.lib.warehouse.sql import LEDGER_TABLE, META_SCHEMA, VIEW_SCHEMA, scalar, table_columns
from sp_assets.lib.warehouse.transaction import WritePlan, WriteResult, run_write, run_writes

__all__ = [
    "DUCKDB_PATH_ENV",
    "LEDGER_TABLE",
    "LOAD_SOURCES",
    "META_SCHEMA",
    "VIEW_SCHEMA",
    "Warehouse",
    "WarehouseBusyError",
    "WarehouseError",
    "WarehouseLockTimeout",
    "WarehousePathError",
    "WriteResult",
]


class Warehouse:
    """One DuckDB warehouse file, or a DuckLake that several machines share (``path`` is then
    ``ducklake:<PostgreSQL URL>`` and ``lake_data_path`` the folder of a new lake's files, see ``lake``).
    Cheap to construct; every method opens and closes its own connection (inside ``session()``, they
    share one).

    ``lock_timeout_s`` bounds the wait for other sp_assets writers (they queue on ``<path>.lock``);
    ``busy_timeout_s`` bounds retries while a process outside that lock keeps DuckDB's own file lock
    (None: ``SP_ASSETS_DUCKDB_BUSY_TIMEOUT`` or 120 s, see ``lock.busy_timeout_s``).
    ``source`` says where the data written through this object comes from, ``"amazon"`` or
    ``"sandbox"``; every ledger row records it, so synthetic data is never mistaken for real data.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_timeout_s: float = 600.0,
        busy_timeout_s: float | None = None,
        source: str = "amazon",
        connection_config: Mapping[str, Any] | None = None,
        lake_data_path: str | None = None,
    ) -> None:
        self.lake = Lake.parse(path, lake_data_path) if isinstance(path, str) and is_lake(path) else None
        self.path: Path | None = None if self.lake else validated_path(path)
        self.where = str(self.lake or self.path)  # for messages: a lake's URL shows no password
        self.lock_timeout_s = lock.checked_seconds("lock_timeout_s", lock_timeout_s)
        self.busy_timeout_s = lock.busy_timeout_s(busy_timeout_s)
        self.source = ledger.check_source(source)
        self.connection_config = dict(connection_config or {})
        self._lock = lock.file_lock(Path(f"{self.path}.lock")) if self.path else None

    def __repr__(self) -> str:
        return f"Warehouse({self.where!r})"

    def exists(self) -> bool:
        """Whether anything has been written: the file exists, or the lake's catalog does."""
        return self.lake.exists() if self.lake else bool(self.path and self.path.exists())

    def check_writable(self) -> None:
        """Fail now, naming the path, if the database could not be created or written there.

        Creates nothing: a run calls it before fetching, so a typo in ``SP_ASSETS_DUCKDB`` costs no API
        calls and leaves no stray file behind.
        """
        if self.lake:
            self.lake.check_writable()
        elif self.path:
            check_writable(self.path)

    # --- connections -----------------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Lock, connect, yield, and always close then unlock. For custom SQL; keep the block short."""
        with self._locked_connection() as (connection, _waited):
            yield connection

    @contextmanager
    def _locked_connection(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, float]]:
        with self._writers_lock() as waited:
            connection = self._open_duckdb()
            try:
                connection.execute("SET SESSION TimeZone = 'UTC'")
                yield connection, waited
            finally:
                connection.close()

    @contextmanager
    def _writers_lock(self) -> Iterator[float]:
        """The lock every sp_assets writer holds around connect + transaction; yields the seconds waited.
        A file lock beside the DuckDB file, or the lake's PostgreSQL advisory lock (``lake``)."""
        if self.lake:
            started = time.perf_counter()
            with self.lake.writers_lock(self.lock_timeout_s):
                yield time.perf_counter() - started
            return
        assert self.path is not None and self._lock is not None
        lock.ensure_parent_directory(self.path)
        waited = lock.acquire(self._lock, self.lock_timeout_s, self.path)
        try:
            yield waited
        finally:
            self._lock.release()

    @contextmanager
    def session(self) -> Iterator[Warehouse]:
        """This warehouse on ONE connection, held with the lock for the block: several calls in a row
        (a step's checks: ``table_exists`` then a query, per check) open the file once instead of once
        per call (~10 ms each, under the lock). Every method works on the yielded object; keep the block
        short and free of waits (HTTP, Dagster events): other writers queue on the lock meanwhile.
        Before the first write there is no file, and the block gets this warehouse itself, so reading
        creates nothing."""
        if not self.exists():
            yield self
            return
        with self._locked_connection() as (connection, _waited):
            yield _Session(self, connection)

    def _open_duckdb(self) -> duckdb.DuckDBPyConnection:
        """A method, not a direct call, so benchmarks/bench_ingest.py can configure each connection."""
        if self.lake:
            return self.lake.open(self.connection_config)
        assert self.path is not None
        return lock.open_duckdb(self.path, self.busy_timeout_s, self.connection_config)

    def _write(self, plan: WritePlan) -> WriteResult:
        with self._locked_connection() as (connection, waited):
            return run_write(connection, plan, where=self.where, waited=waited)

    def _write_together(self, plans: list[WritePlan]) -> list[WriteResult]:
        with self._locked_connection() as (connection, waited):
            return run_writes(connection, plans, where=self.where, waited=waited)

    # --- frame writes (see ``frames``) -----------------------------------------------------------

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
        return self._write(
            frames.plan_replace_partition(schema, spec, frame, start, end, note=note, source=self.source)
        )

    def replace_partition_from_sql(
        self,
        schema: str,
        spec: TableSpec,
        select_sql: str,
        start: date | datetime | int | str,
        end: date | datetime | int | str,
        *,
        note: str = "",
        what: str = "the rows",
    ) -> WriteResult:
        """``replace_partition`` of the rows a SELECT gives (every column of ``spec`` by name), computed
        and inserted inside DuckDB: a report file becomes table rows without a Python frame, in bounded
        memory. A row outside the window or with a null key fails the write (naming ``what``) and
        nothing is written; see ``frames.plan_replace_partition_from_sql``.
        """
        return self._write(frames.plan_replace_partition_from_sql(
            schema, spec, select_sql, start, end, note=note, source=self.source, what=what))

    def replace_partitions(
        self, schema: str, writes: Sequence[frames.PartitionWrite], *, note: str = ""
    ) -> list[WriteResult]:
        """``replace_partition`` for several tables in ONE transaction: all are replaced, or none is.

        ``writes`` holds ``(spec, frame, start, end)`` per table; every frame is checked before the
        lock, so one bad frame writes nothing. Readers never see one table's new rows without the
        others' (a day's orders without their items), even if the process dies between the tables.
        """
        return self._write_together([
            frames.plan_replace_partition(schema, spec, frame, start, end, note=note, source=self.source)
            for spec, frame, start, end in writes
        ])

    def merge_together(
        self, schema: str, writes: Sequence[tuple[TableSpec, pl.DataFrame]], *, note: str = ""
    ) -> list[WriteResult]:
        """``merge`` for several tables in ONE transaction (an upsert window's orders and their items)."""
        return self._write_together([
            frames.plan_merge(schema, spec, frame, note=note, source=self.source) for spec, frame in writes
        ])

    def merge(self, schema: str, spec: TableSpec, frame: pl.DataFrame, *, note: str = "") -> WriteResult:
        """Upsert by ``spec.primary_key``; never replace a stored row with an older ``version_column``.

        Per key: absent -> inserted; stored version null or older -> updated; equal -> unchanged;
        newer stored version (or a null incoming version) -> stale, left alone. Without a
        version_column every matched row is updated. Within the frame only the newest copy of a key
        is kept. How, and why not MERGE INTO: ``frames.plan_merge``.
        """
        return self._write(frames.plan_merge(schema, spec, frame, note=note, source=self.source))

    def replace_table(
        self, schema: str, spec: TableSpec, frame: pl.DataFrame, *, note: str = ""
    ) -> WriteResult:
        """Replace the whole table's rows with ``frame`` (snapshot tables); columns added earlier stay."""
        return self._write(frames.plan_replace_table(schema, spec, frame, note=note, source=self.source))

    def append(self, schema: str, spec: TableSpec, frame: pl.DataFrame, *, note: str = "") -> WriteResult:
        """Insert ``frame`` as is (no delete, no key check): the plain INSERT benchmarks/bench_merge.py
        measures ``merge`` against, through the same lock, transaction and ledger."""
        return self._write(frames.plan_append(schema, spec, frame, note=note, source=self.source))

    # --- file loads (see ``delimited``) ----------------------------------------------------------

    def load_delimited_file(
        self,
        schema: str,
        table: str,
        path: str | os.PathLike[str],
        *,
        quote: str | None = None,
        column_types: Mapping[str, str] | None = None,
        text_format: TextFormat | None = None,
        column_formats: Mapping[str, TextFormat] | None = None,
        name_types: NameTypes | None = None,
        constants: Mapping[str, Any] | None = None,
        replace_where: Mapping[str, Any] | None = None,
        partition_start: date | datetime | str | None = None,
        partition_end: date | datetime | str | None = None,
        strict: bool = True,
        note: str = "",
    ) -> WriteResult:
        """Load a decompressed flat-file report (tab-separated, UTF-8) without reading it into Python.

        DuckDB's ``read_csv`` streams the file straight into the table: every file column is read as
        text (``column_types`` types chosen ones, parsed by ``text_format``, ISO by default, or by
        ``column_formats`` per column; a value that does not parse keeps its text in
        ``<column>__raw`` and is counted in ``WriteResult.unparsed``; ``name_types`` types the other
        columns by their header names), the header is normalized with
        ``snake_case``, and ``quote=None`` means no quoting at all (Amazon's TSVs contain bare ``"``).
        A column new to the table is added; a table column absent from the file gets nulls.
        ``constants`` adds fixed columns (report_id, partition date). Before inserting, rows matching
        ``replace_where`` (column = value, ANDed) are deleted, all in one transaction.
        ``strict=False`` tolerates rows with extra fields (DuckDB drops the extras); short rows are
        always padded with nulls. ``partition_start``/``partition_end`` are recorded in the ledger.
        """
        plan = delimited.plan_delimited_load(
            schema,
            table,
            path,
            quote=quote,
            column_types=column_types,
            text_format=text_format,
            column_formats=column_formats,
            name_types=name_types,
            constants=constants,
            replace_where=replace_where,
            partition_start=partition_start,
            partition_end=partition_end,
            strict=strict,
            note=note,
            source=self.source,
        )
        return self._write(plan)

    # --- upkeep ----------------------------------------------------------------------------------

    def maintain(self, keep_snapshots: timedelta = timedelta(days=7), keep_files: timedelta = timedelta(hours=1)
                 ) -> Maintenance | None:
        """A DuckLake's upkeep under the writers' lock (``lake.maintain``: merge small files, expire
        snapshots older than ``keep_snapshots``, delete unreferenced files after ``keep_files``);
        None for a DuckDB file, which DuckDB keeps compact itself (and for a lake not created yet)."""
        if self.lake is None or not self.exists():
            return None
        with self._locked_connection() as (connection, _waited):
            return maintain(connection, keep_snapshots, keep_files)

    # --- reads -----------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pl.DataFrame:
        """Run SQL under the warehouse lock and return the result as a polars frame."""
        if not self.exists():
            raise WarehouseError(f"the warehouse {self.where} does not exist yet (nothing has been written)")
        with self.connect() as connection:
            relation = connection.sql(sql, params=params)
            return relation.pl() if relation is not None else pl.DataFrame()

    def table_exists(self, schema: str, table: str) -> bool:
        safe_identifier(schema, "schema")
        safe_identifier(table, "table")
        if not self.exists():
            return False
        with self.connect() as connection:
            return bool(table_columns(connection, schema, table))

    def columns(self, schema: str, table: str) -> dict[str, str]:
        """``{column: DuckDB type}`` of a table or view, in table order (empty if it does not exist)."""
        safe_identifier(schema, "schema")
        safe_identifier(table, "table")
        if not self.exists():
            return {}
        with self.connect() as connection:
            return table_columns(connection, schema, table, include_views=True)

    def row_count(self, schema: str, table: str) -> int:
        """Rows in a table or view; ``WarehouseError`` if it does not exist."""
        qualified = f"{quote_identifier(schema, 'schema')}.{quote_identifier(table, 'table')}"
        if not self.exists():
            raise WarehouseError(f"{schema}.{table} does not exist: {self.where} has not been written yet")
        with self.connect() as connection:
            if not table_columns(connection, schema, table, include_views=True):
                raise WarehouseError(f"{schema}.{table} does not exist in {self.where}")
            return scalar(connection, f"SELECT count(*) FROM {qualified}")

    def loads(self, schema: str | None = None, table: str | None = None) -> pl.DataFrame:
        """The ledger (``_sp_assets.loads``), newest first, optionally for one schema and/or table.

        Always every ledger column, ``source`` included (NULL on rows older than that column).
        """
        filters = {
            column: safe_identifier(value, column.removesuffix("_name"))
            for column, value in (("schema_name", schema), ("table_name", table))
            if value is not None
        }
        if not self.exists():
            return ledger.empty_loads()
        with self.connect() as connection:
            existing = table_columns(connection, META_SCHEMA, LEDGER_TABLE)
            if not existing:
                return ledger.empty_loads()
            sql, params = ledger.loads_query(list(existing), filters)
            return connection.sql(sql, params=params).pl()


class _Session(Warehouse):
    """A ``Warehouse`` whose every call runs on one connection its ``session()`` already opened and locked."""

    def __init__(self, warehouse: Warehouse, connection: duckdb.DuckDBPyConnection) -> None:
        self.__dict__.update(warehouse.__dict__)
        self._connection = connection

    def __repr__(self) -> str:
        return f"Warehouse({self.where!r}, session)"

    def exists(self) -> bool:
        return True  # a session is only opened on a warehouse that exists

    @contextmanager
    def _locked_connection(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, float]]:
        yield self._connection, 0.0
