"""A warehouse several machines write: DuckLake with its catalog in PostgreSQL (``lake.py``, issue 19).

The SQL of every write is tested on DuckLake too (``BOTH_ENGINES`` in the modules that hold it); here is
what only a shared warehouse has: two processes writing different partitions at once while an analyst
reads, the writers' lock that every machine sees, and the errors of a misconfigured lake.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from sp_assets.lib.warehouse import Warehouse, WarehouseLockTimeout, WarehousePathError
from sp_assets_tests.lib.warehouse.lake_processes import ROWS_PER_DAY, write_days
from sp_assets_tests.lib.warehouse.support import (
    DAY,
    ORDERS,
    REPO_ROOT,
    held_by_another_writer,
    order,
    orders_frame,
)

ROUNDS = 2
DAYS_A = [DAY + timedelta(days=n) for n in range(5)]
DAYS_B = [DAY + timedelta(days=n) for n in range(5, 10)]


def start(*args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "sp_assets_tests.lib.warehouse.lake_processes", *args],
                               cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def days_text(days: list[date]) -> str:
    return ",".join(day.isoformat() for day in days)


def test_two_processes_write_different_days_at_once_while_an_analyst_reads(
        new_pg_database: Callable[[], str], tmp_path: Path) -> None:
    """Both writers' days land, the analyst only ever sees whole days, and the lake ends exactly as a
    local file given the same writes; no write was lost or retried (one ledger row each)."""
    location, data = f"ducklake:{new_pg_database()}", str(tmp_path / "lake")
    lake = Warehouse(location, lake_data_path=data)
    with lake.connect():
        pass  # the first connection creates the lake's catalog, which the analyst attaches read-only
    reader = start("reader", location)
    writers = [start("writer", location, data, days_text(days), str(ROUNDS)) for days in (DAYS_A, DAYS_B)]
    reads: list[tuple[int, int]] = []
    everything = threading.Event()

    def drain() -> None:
        assert reader.stdout is not None
        for line in reader.stdout:
            if line.startswith("read "):
                rows, days = (int(part) for part in line.split()[1:])
                reads.append((rows, days))
                if days == len(DAYS_A + DAYS_B):
                    everything.set()

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    try:
        for process in (reader, *writers):
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for writer in writers:
            out, _ = writer.communicate(timeout=300)
            assert writer.returncode == 0 and out.strip() == f"done {ROUNDS * 5}"
        assert everything.wait(120), f"the analyst never saw all ten days: {reads[-3:]}"
    finally:
        if reader.poll() is None and reader.stdin is not None:
            reader.stdin.write("stop\n")
            reader.stdin.flush()
        reader.wait(60)
        drainer.join(30)
        for process in (reader, *writers):
            process.kill() if process.poll() is None else None
    assert reader.returncode == 0
    assert reads and all(rows == days * ROWS_PER_DAY for rows, days in reads), \
        "the analyst saw a partition half written"

    local = Warehouse(tmp_path / "local.duckdb")
    write_days(local, DAYS_A, ROUNDS)
    write_days(local, DAYS_B, ROUNDS)
    every_row = "SELECT * FROM {} ORDER BY amazon_order_id"
    for name in ("us.orders", "amazon.orders"):
        assert lake.query(every_row.format(name)).equals(local.query(every_row.format(name))), name
    assert lake.row_count("us", "orders") == 10 * ROWS_PER_DAY
    assert lake.loads("us", "orders").height == 2 * ROUNDS * 5, "one ledger row per write: none lost or doubled"


def test_a_writer_of_another_machine_queues_on_the_lake_lock_then_times_out_clearly(
        new_pg_database: Callable[[], str], tmp_path: Path) -> None:
    location = f"ducklake:{new_pg_database()}"
    wh = Warehouse(location, lake_data_path=str(tmp_path / "lake"))
    wh.append("us", ORDERS, orders_frame([order("a")]))
    with held_by_another_writer(wh):
        impatient = Warehouse(location, lock_timeout_s=0.3)
        with pytest.raises(WarehouseLockTimeout, match=r"waited 0.3 s for the warehouse lock of ducklake:postgresql://"):
            impatient.append("us", ORDERS, orders_frame([order("b")]))
    assert Warehouse(location).append("us", ORDERS, orders_frame([order("b")])).inserted == 1
    assert sorted(wh.query("SELECT amazon_order_id FROM us.orders").to_series()) == ["a", "b"]


def test_a_new_lake_without_a_data_folder_fails_naming_the_variable_and_writes_nothing(
        new_pg_database: Callable[[], str]) -> None:
    wh = Warehouse(f"ducklake:{new_pg_database()}")
    with pytest.raises(WarehousePathError, match="SP_ASSETS_DUCKLAKE_DATA_PATH is not set"):
        wh.check_writable()
    assert not wh.exists(), "checking created no catalog"


@pytest.mark.parametrize("location, expected", [
    ("ducklake:mysql://seller:hunter2-lake@db.example/lake", "ducklake:mysql://seller:***@db.example/lake"),
    ("ducklake:/tmp/lake.ducklake", "ducklake:/tmp/lake.ducklake"),
])
def test_a_lake_whose_catalog_is_not_postgres_is_refused_without_its_password(location: str, expected: str) -> None:
    with pytest.raises(WarehousePathError) as raised:
        Warehouse(location)
    text = str(raised.value)
    assert text.startswith(f"SP_ASSETS_DUCKDB: {expected} is not allowed") and "postgresql://" in text
    assert "hunter2" not in text


def test_an_unreachable_catalog_is_named_without_its_password(tmp_path: Path) -> None:
    wh = Warehouse("ducklake:postgresql://seller:hunter2-lake@127.0.0.1:1/lake", lake_data_path=str(tmp_path))
    with pytest.raises(WarehousePathError) as raised:
        wh.check_writable()
    text = str(raised.value)
    assert "SP_ASSETS_DUCKDB: connecting to postgresql://seller:***@127.0.0.1:1/lake failed" in text
    assert "hunter2" not in text and raised.value.__cause__ is None


def test_maintenance_merges_the_days_files_and_deletes_the_replaced_ones_keeping_every_row(
        new_pg_database: Callable[[], str], tmp_path: Path) -> None:
    """Every replaced day leaves a Parquet file nothing reads; maintenance merges the live ones, expires
    the history and deletes the dead files, and the rows and the union view stay as they were."""
    data = tmp_path / "lake"
    wh = Warehouse(f"ducklake:{new_pg_database()}", lake_data_path=str(data))
    write_days(wh, DAYS_A, ROUNDS)
    before = wh.query("SELECT * FROM amazon.orders ORDER BY amazon_order_id")
    files_before = len(list(data.rglob("*.parquet")))
    assert files_before >= len(DAYS_A) * ROUNDS
    done = wh.maintain(keep_snapshots=timedelta(0), keep_files=timedelta(0))
    assert done is not None and done.files_merged == len(DAYS_A) and done.snapshots_expired > 0
    assert done.files_left == 1 == len(list(data.rglob("*.parquet")))
    assert done.files_deleted == files_before  # every file of the old snapshots, and the merged ones
    assert wh.query("SELECT * FROM amazon.orders ORDER BY amazon_order_id").equals(before)
    write_days(wh, DAYS_B[:1], 1)  # writes go on after it
    assert wh.row_count("us", "orders") == 6 * ROWS_PER_DAY


def test_a_duckdb_file_needs_no_maintenance(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.append("us", ORDERS, orders_frame([order("a")]))
    assert wh.maintain() is None and wh.row_count("us", "orders") == 1
