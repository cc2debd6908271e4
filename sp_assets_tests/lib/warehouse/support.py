"""Shared data and helpers of the warehouse tests (the test tree mirrors ``sp_assets/lib/warehouse/``).

Every test uses its own file under tmp_path. Cross-process behaviour is tested with real processes
(``subprocess``), because DuckDB's file lock and the sp_assets file lock are both per process.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import polars as pl

from sp_assets.lib.tablespec import (
    BIGINT,
    DATE,
    MONEY,
    TIMESTAMPTZ,
    VARCHAR,
    Column,
    TableSpec,
    frame_from_records,
)
from sp_assets.lib.warehouse import VIEW_SCHEMA, Warehouse
from sp_assets.lib.warehouse.sql import RESERVED_SCHEMAS, literal
from sp_assets.lib.warehouse.transaction import rollback
from sp_assets.lib.warehouse.views import rebuild_union_view

REPO_ROOT = Path(__file__).resolve().parents[3]
DAY = date(2024, 1, 2)
NEXT_DAY = date(2024, 1, 3)

ORDERS = TableSpec(
    name="orders",
    columns=(
        Column("amazon_order_id", VARCHAR, nullable=False),
        Column("partition_date", DATE, nullable=False),
        Column("last_update_date", TIMESTAMPTZ),
        Column("order_status", VARCHAR),
        Column("order_total", MONEY),
        Column("items", BIGINT),
    ),
    primary_key=("amazon_order_id",),
    partition_column="partition_date",
    version_column="last_update_date",
    description="test orders",
)


def order(order_id: str, day: date = DAY, updated: str = "2024-01-02T10:00:00Z", **extra: object) -> dict:
    return {
        "amazon_order_id": order_id,
        "partition_date": day.isoformat(),
        "last_update_date": updated,
        "order_status": "Shipped",
        "order_total": "11.01",
        "items": 1,
        **extra,
    }


def orders_frame(rows: list[dict]) -> pl.DataFrame:
    return frame_from_records(ORDERS, rows)


def day_rows(wh: Warehouse, schema: str, day: date) -> pl.DataFrame:
    return wh.query(f"SELECT * FROM {schema}.orders WHERE partition_date = ? ORDER BY amazon_order_id", [day])


def poll_until(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def assert_other_process_can_open(path: Path) -> None:
    code = "import sys, duckdb; duckdb.connect(sys.argv[1]).close(); print('ok')"
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def rebuild_views(wh: Warehouse) -> list[str]:
    """Rebuild every ``amazon.<table>`` view from scratch (writes already do it when a table changes).

    Test-only: it proves a rebuild of the current tables gives the same views the writes left.
    """
    with wh.connect() as connection:
        connection.execute("BEGIN TRANSACTION")
        try:
            reserved = ", ".join(literal(name) for name in sorted(RESERVED_SCHEMAS))
            tables = [
                name
                for (name,) in connection.execute(
                    f"""SELECT DISTINCT table_name FROM duckdb_tables()
                        WHERE database_name = current_database() AND NOT temporary
                          AND schema_name NOT IN ({reserved})
                        ORDER BY table_name"""
                ).fetchall()
            ]
            for table in tables:
                rebuild_union_view(connection, table)
            connection.execute("COMMIT")
        except BaseException:
            rollback(connection)
            raise
    return [f"{VIEW_SCHEMA}.{table}" for table in tables]



@contextmanager
def held_by_another_writer(wh: Warehouse, timeout_s: float = 60.0) -> Iterator[None]:
    """For the block, another thread holds ``wh``'s writers' lock (a connection open), as another
    process's write would: a second ``Warehouse`` on the same location must queue behind it."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with wh.connect():
            holding.set()
            release.wait(timeout_s)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(timeout_s)
        yield
    finally:
        release.set()
        holder.join(timeout_s)
