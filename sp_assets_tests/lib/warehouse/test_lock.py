"""Locks (``lock``): the sp_assets file lock, a foreign DuckDB lock, eight writers at once."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from sp_assets.lib.warehouse import (
    Warehouse,
    WarehouseBusyError,
    WarehouseLockTimeout,
)
from sp_assets_tests.lib.warehouse.support import (
    ORDERS,
    REPO_ROOT,
    held_by_another_writer,
    order,
    orders_frame,
    poll_until,
)


def test_lock_timeout_is_a_clear_error(wh: Warehouse) -> None:
    with held_by_another_writer(wh):
        impatient = Warehouse(wh.path, lock_timeout_s=0.2)
        with pytest.raises(
            WarehouseLockTimeout, match=r"waited 0.2 s for the warehouse lock .*warehouse.duckdb.lock"
        ):
            impatient.append("us", ORDERS, orders_frame([order("a")]))
    assert Warehouse(wh.path).append("us", ORDERS, orders_frame([order("a")])).inserted == 1


HOLD_DUCKDB = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
connection.close()
"""


def start_foreign_holder(path: Path) -> subprocess.Popen[str]:
    """A process that keeps DuckDB's own lock without using the sp_assets lock (like a DuckDB CLI)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_DUCKDB, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_a_foreign_duckdb_lock_is_retried_then_reported(wh: Warehouse) -> None:
    wh.append("us", ORDERS, orders_frame([order("a")]))
    holder = start_foreign_holder(wh.path)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError, match="stayed locked by another process for 0.5 s"):
            Warehouse(wh.path, busy_timeout_s=0.5).append("us", ORDERS, orders_frame([order("b")]))
        assert time.monotonic() - started >= 0.4  # it retried for about busy_timeout_s
    finally:
        holder.communicate("\n", timeout=30)


def test_a_foreign_duckdb_lock_released_in_time_is_waited_out(
    wh: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    wh.append("us", ORDERS, orders_frame([order("a")]))
    holder = start_foreign_holder(wh.path)
    outcome: dict[str, object] = {}

    def write() -> None:
        try:
            outcome["result"] = wh.append("us", ORDERS, orders_frame([order("b")]))
        except Exception as exc:  # reported through the assertion below
            outcome["error"] = exc

    with caplog.at_level(logging.INFO, logger="sp_assets.lib.warehouse"):
        writer = threading.Thread(target=write)
        writer.start()
        poll_until(lambda: any("Backing off" in r.getMessage() for r in caplog.records), "a retry")
        holder.communicate("\n", timeout=30)
        writer.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert wh.row_count("us", "orders") == 2


CONCURRENT_WRITER = """
import json, sys, time
from datetime import date, timedelta
from pathlib import Path
from sp_assets.lib.tablespec import DATE, MONEY, VARCHAR, Column, TableSpec, frame_from_records
from sp_assets.lib.warehouse import Warehouse

db, index, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
spec = TableSpec("orders", (Column("amazon_order_id", VARCHAR), Column("partition_date", DATE),
                 Column("order_total", MONEY)), primary_key=("amazon_order_id",), partition_column="partition_date")
day = date(2024, 1, 1) + timedelta(days=index)
rows = [{"amazon_order_id": f"{index}-{n}", "partition_date": day, "order_total": "0.10"} for n in range(500)]
frame = frame_from_records(spec, rows)
Path(f"{go}.ready{index}").touch()
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.005)
result = Warehouse(db, lock_timeout_s=120).replace_partition("us", spec, frame, day, day + timedelta(days=1))
print(json.dumps({"inserted": result.inserted, "lock_wait_s": result.lock_wait_s}))
"""


def test_eight_processes_write_partitions_of_one_file_at_once(tmp_path: Path) -> None:
    db, go = tmp_path / "shared.duckdb", tmp_path / "go"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, str(db), str(index), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for index in range(8)
    ]
    try:
        poll_until(
            lambda: all(Path(f"{go}.ready{i}").exists() or writers[i].poll() is not None for i in range(8)),
            "8 writers ready",
            timeout_s=120,
        )
        go.touch()  # all eight start writing at the same moment
        outputs = [writer.communicate(timeout=180) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
    for writer, (stdout, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr
        assert "lock" not in stderr.lower(), stderr
        assert json.loads(stdout)["inserted"] == 500
    waits = sorted(json.loads(stdout)["lock_wait_s"] for stdout, _ in outputs)
    print(f"lock waits of the 8 writers (s): {[round(w, 2) for w in waits]}")

    wh = Warehouse(db)
    summary = wh.query(
        "SELECT count(*), count(DISTINCT partition_date), sum(order_total) FROM us.orders"
    ).row(0)
    assert summary == (4000, 8, Decimal("400.00"))
    assert wh.loads("us", "orders").height == 8
