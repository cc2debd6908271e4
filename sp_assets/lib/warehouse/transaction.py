"""One write = one DuckDB transaction: table DDL, the rows, the ledger row, the view, then COMMIT.

Every write method plans its work before the lock (validation, frame preparation: ``frames``,
``delimited``) and hands a ``WritePlan`` to ``run_write``, which runs it on a locked connection. So
the data, the table's drift, the ledger row and the view land together or not at all, and a failed
write says which table failed and that nothing was written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import polars as pl

from sp_assets.lib.warehouse import ledger
from sp_assets.lib.warehouse.ddl import ensure_table
from sp_assets.lib.warehouse.errors import WarehouseError
from sp_assets.lib.warehouse.sql import STAGED, Target
from sp_assets.lib.warehouse.views import refresh_views

_LOG = logging.getLogger(__name__)


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
    unparsed: dict[str, int] = field(default_factory=dict)  # column -> values kept in <column>__raw
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
class Counts:
    """What the body of a write did, filled in by the body and recorded in the ledger."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    stale: int = 0
    added: list[str] = field(default_factory=list)  # columns the body added (raw text of unparsed values)
    unparsed: dict[str, int] = field(default_factory=dict)
    created: bool = False  # set before the body runs: the write created the table (its provisional columns are new)


WriteBody = Callable[[duckdb.DuckDBPyConnection, Counts], None]


@dataclass(frozen=True)
class WritePlan:
    """A write checked and prepared before the lock: its target, its SQL body and the staged frame.

    A target without columns (a delimited file with no header and no constants) creates nothing;
    the load is still recorded in the ledger.
    """

    target: Target
    body: WriteBody
    staged: pl.DataFrame | None = None
    duplicates: int = 0


def run_write(
    connection: duckdb.DuckDBPyConnection, plan: WritePlan, *, where: str, waited: float
) -> WriteResult:
    """Run ``plan`` as one transaction on a locked ``connection`` to the warehouse ``where`` (named in errors)."""
    if not plan.target.columns:
        return _run_ledger_only(connection, plan, waited)
    target = plan.target
    started = time.perf_counter()
    if plan.staged is not None and plan.staged.width:
        connection.register(STAGED, plan.staged)
    connection.execute("BEGIN TRANSACTION")
    try:
        created, added = ensure_table(connection, target)
        counts = Counts(created=created)
        plan.body(connection, counts)
        added += tuple(counts.added)
        ledger.record_load(connection, target, counts)
        refresh_views(connection, target.schema, target.table, changed=bool(created or added))
        connection.execute("COMMIT")
    except duckdb.Error as exc:
        rollback(connection)
        raise WarehouseError(
            f"{target.operation} into {target.schema}.{target.table} in {where} failed and was "
            f"rolled back (nothing written): {exc}"
        ) from exc
    except BaseException:
        rollback(connection)
        raise
    elapsed = time.perf_counter() - started
    return _result(target, counts, plan.duplicates, created, added, waited, elapsed)


def run_writes(
    connection: duckdb.DuckDBPyConnection, plans: list[WritePlan], *, where: str, waited: float
) -> list[WriteResult]:
    """Run several plans as ONE transaction: every table is written, or none is.

    For tables a reader must see together (a day's orders and their items): a crash or an error
    between two writes would otherwise leave the first committed without the second.
    """
    if not plans:
        raise ValueError("run_writes needs at least one write plan")
    names = ", ".join(f"{plan.target.schema}.{plan.target.table}" for plan in plans)
    applied: list[tuple[WritePlan, Counts, bool, tuple[str, ...], float]] = []
    connection.execute("BEGIN TRANSACTION")
    try:
        for plan in plans:
            started = time.perf_counter()
            counts, created, added = _apply(connection, plan)
            applied.append((plan, counts, created, added, time.perf_counter() - started))
        connection.execute("COMMIT")
    except duckdb.Error as exc:
        rollback(connection)
        raise WarehouseError(
            f"writing {names} together in {where} failed and was rolled back (nothing written to any of them): {exc}"
        ) from exc
    except BaseException:
        rollback(connection)
        raise
    return [_result(plan.target, counts, plan.duplicates, created, added, waited, elapsed)
            for plan, counts, created, added, elapsed in applied]


def _apply(connection: duckdb.DuckDBPyConnection, plan: WritePlan) -> tuple[Counts, bool, tuple[str, ...]]:
    """One plan's DDL, rows, ledger row and view, inside the caller's transaction."""
    counts = Counts()
    if not plan.target.columns:
        plan.body(connection, counts)
        ledger.record_load(connection, plan.target, counts)
        return counts, False, ()
    staged = plan.staged is not None and plan.staged.width > 0
    if staged:
        connection.register(STAGED, plan.staged)
    try:
        created, added = ensure_table(connection, plan.target)
        counts.created = created
        plan.body(connection, counts)
        added += tuple(counts.added)
        ledger.record_load(connection, plan.target, counts)
        refresh_views(connection, plan.target.schema, plan.target.table, changed=bool(created or added))
    finally:
        if staged:
            connection.unregister(STAGED)
    return counts, created, added


def _run_ledger_only(connection: duckdb.DuckDBPyConnection, plan: WritePlan, waited: float) -> WriteResult:
    """A file with no header and no constants: nothing to create, but the load is still recorded."""
    started = time.perf_counter()
    connection.execute("BEGIN TRANSACTION")
    try:
        counts = Counts()
        plan.body(connection, counts)
        ledger.record_load(connection, plan.target, counts)
        connection.execute("COMMIT")
    except BaseException:
        rollback(connection)
        raise
    elapsed = time.perf_counter() - started
    return _result(plan.target, counts, 0, False, (), waited, elapsed)


def rollback(connection: duckdb.DuckDBPyConnection) -> None:
    try:
        connection.execute("ROLLBACK")
    except duckdb.Error:  # the failed statement may already have aborted the transaction
        _LOG.debug("rollback after a failed write raised", exc_info=True)


def _result(
    target: Target,
    counts: Counts,
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
        unparsed=dict(counts.unparsed),
        partition_start=target.partition_start,
        partition_end=target.partition_end,
        lock_wait_s=waited,
        write_s=elapsed,
    )
