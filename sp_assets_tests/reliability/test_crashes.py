"""Issue 9, part 2: a run killed with SIGKILL at five points, then run again, ends identical to a clean run.

The run materializes ``us/orders`` + ``us/order_items`` (Orders v2026-01-01, three searchOrders pages)
and ``us/all_orders_report`` for one past day, in its own process (``run_worker.py``, the in-process
executor of a Dagster run worker). The test kills it with SIGKILL at one point, then runs the same
selection again and compares every data table with a clean run's (``support.RUN_SPECIFIC`` columns
aside): identical rows, no duplicate. For the four points after createReport, the report in flight
is resumed from the ledger, never requested again: the sandbox's ``/_sandbox/stats`` must count one
createReport in all.

How each point is reached without sleeping, and observed:

=====================  ===========================================================================
point                  how the test knows the run is there, then kills it
=====================  ===========================================================================
while paging           a proxy in front of the sandbox holds the answer to the first request that
                       carries a ``paginationToken`` (page 2 of 3): the run is between pages, with
                       page 1 in memory and nothing written. Observed: the proxy's "arrived" event.
while polling          the sandbox keeps the report IN_PROGRESS for 4 s. Observed from outside: the
                       report ledger (SQLite) holds the report id with status IN_QUEUE/IN_PROGRESS
                       and ``/_sandbox/stats`` counts at least one getReport.
while downloading      the proxy sends the document's status, headers and first half, then holds the
                       rest: the run is mid-body. Observed: the proxy's "arrived" event.
inside the DuckDB      no outside process can see into a DuckDB transaction (the file is locked and
write                  the WAL is written at commit), so ``run_worker --gate in-transaction`` (test
                       code in the run process, no library change) blocks after the rows and the
                       load-ledger row are inserted, before COMMIT, and writes a marker file.
just after the commit  ``run_worker --gate after-commit`` blocks once ``load_delimited_file`` has
                       committed and released the lock, before the report is marked consumed and
                       before Dagster records the materialization; marker file as above.
=====================  ===========================================================================
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import requests

from sp_assets.lib.warehouse import Warehouse

from . import support
from .proxy import TamperingProxy

pytestmark = pytest.mark.slow

SEED = 31
ORDERS_PER_DAY = 250  # three searchOrders pages of 100 for us
DAY = date.today() - timedelta(days=12)
SELECT = ("us/orders", "us/order_items", "us/all_orders_report")
REPORT_TABLE = "all_orders_report"
DATA_TABLES = ("us.orders", "us.order_items", "us.all_orders_report")
DEADLINE = 120.0


def _materialize_in_process(env: dict[str, str | None]) -> dg.ExecuteInProcessResult:
    with support.environment(**env):
        defs = support.code_location()
        return dg.materialize([*defs.assets, *(defs.asset_checks or [])],
                              selection=[dg.AssetKey(k.split("/")) for k in SELECT], partition_key=DAY.isoformat(),
                              resources=defs.resources, raise_on_error=False)


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """The clean run: the same seed and day, no proxy, no kill."""
    root = tmp_path_factory.mktemp("crash-truth")
    config = support.write_config(root / "marketplaces.yaml", "us")
    with _sandbox() as sandbox:
        result = _materialize_in_process(support.sandbox_env(sandbox.base_url, root, root / "warehouse.duckdb", config))
        assert result.success
    tables = support.warehouse_tables(root / "warehouse.duckdb")
    assert tables["us.orders"].height > 200 and tables["us.all_orders_report"].height > 200
    return tables


class _sandbox:  # noqa: N801 (used as a context manager like a function)
    """A real-clock sandbox (the day is 12 days old, so its data no longer changes)."""

    def __init__(self, processing_seconds: float = 0.0, public_base_url: str | None = None) -> None:
        from sp_assets.sandbox.config import SandboxConfig
        from sp_assets.sandbox.server import SandboxServer

        self.server = SandboxServer(SandboxConfig(
            seed=SEED, speed=1000.0, orders_per_day=ORDERS_PER_DAY, public_base_url=public_base_url,
            extra={"report_queue_seconds": 0, "report_processing_seconds": processing_seconds}))

    def __enter__(self):
        return self.server.start()

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


@dataclass
class Rig:
    """One crash scenario: a proxy, a sandbox behind it, a warehouse, and the run process."""

    root: Path
    proxy: TamperingProxy
    sandbox: object
    env: dict[str, str | None]

    @property
    def db(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def report_ledger(self) -> Path:
        return self.db.with_suffix(".reports.sqlite")

    def stats(self) -> dict[str, int]:
        """The sandbox's counters over HTTP (``/_sandbox/stats``), as an outside observer reads them."""
        return requests.get(self.sandbox.base_url + "/_sandbox/stats", timeout=10).json()

    def start_run(self, gate: str = "none", marker: Path | None = None, select: tuple[str, ...] = SELECT,
                  gate_table: str = REPORT_TABLE) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SP_", "LWA_"))}
        env.update({k: v for k, v in self.env.items() if v is not None})
        command = [sys.executable, "-m", "sp_assets_tests.reliability.run_worker", "--select", ",".join(select),
                   "--partition", DAY.isoformat(), "--gate", gate, "--gate-table", gate_table,
                   "--marker", str(marker or "")]
        return subprocess.Popen(command, cwd=support.PROJECT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def ledger_rows(self) -> list[tuple[str, str, str | None]]:
        """(report id, status, consumed_at) of every report the ledger knows."""
        if not self.report_ledger.exists():
            return []
        try:
            with sqlite3.connect(f"file:{self.report_ledger}?mode=ro", uri=True, timeout=1) as conn:
                return conn.execute("select report_id, status, consumed_at from reports").fetchall()
        except sqlite3.OperationalError:  # being created
            return []

    def rerun(self) -> dg.ExecuteInProcessResult:
        for gate in self.proxy.gates:
            gate.release.set()
        result = _materialize_in_process(self.env)
        assert result.success
        return result


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    stack: list[Callable[[], None]] = []

    def make(processing_seconds: float = 0.0) -> Rig:
        proxy = TamperingProxy().start()
        context = _sandbox(processing_seconds, public_base_url=proxy.url)
        sandbox = context.__enter__()
        proxy.upstream = sandbox.base_url
        stack.extend([proxy.stop, lambda: context.__exit__(None, None, None)])
        config = support.write_config(tmp_path / "marketplaces.yaml", "us")
        return Rig(tmp_path, proxy, sandbox, support.sandbox_env(proxy.url, tmp_path, tmp_path / "warehouse.duckdb",
                                                                  config))

    yield make
    for stop in stack:
        stop()


def _wait_for(condition: Callable[[], bool], run: subprocess.Popen[str], what: str) -> None:
    """Poll ``condition`` (no sleeping as synchronization: a condition with a deadline)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        if run.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {run.stdout.read() if run.stdout else ''}")
        time.sleep(0.01)
    run.kill()
    raise AssertionError(f"the run never reached {what}")


def _kill(run: subprocess.Popen[str]) -> None:
    os.kill(run.pid, signal.SIGKILL)
    assert run.wait(timeout=30) == -signal.SIGKILL


def _rows_for_day(db: Path, table: str) -> int:
    warehouse = Warehouse(db)
    schema, name = table.split(".")
    if not warehouse.table_exists(schema, name):
        return 0
    return warehouse.query(f"select count(*) from {table} where partition_date = ?", [DAY]).item()


def _assert_identical_to_truth(rig: Rig, truth: dict[str, pl.DataFrame]) -> None:
    got = support.warehouse_tables(rig.db)
    for table in DATA_TABLES:
        assert got[table].columns == truth[table].columns, table
        assert got[table].equals(truth[table]), f"{table}: {got[table].height} rows, expected {truth[table].height}"
    keys = {"us.orders": ["amazon_order_id"], "us.order_items": ["amazon_order_id", "order_item_id"]}
    for table, key in keys.items():
        assert got[table].select(key).is_duplicated().sum() == 0, f"{table} has duplicates"


def _report_metadata(result: dg.ExecuteInProcessResult) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(["us", REPORT_TABLE]):
            metadata = event.event_specific_data.materialization.metadata
            return {k: getattr(v, "value", v) for k, v in metadata.items()}
    raise AssertionError("the report was not materialized")


def _created(rig: Rig) -> int:
    return rig.stats().get("createReport.served", 0)


def test_killed_while_paging(rig, truth) -> None:
    r = rig()
    page_two = r.proxy.hold(lambda method, path: path.startswith("/orders/2026-01-01/orders?")
                            and "paginationToken=" in path)
    run = r.start_run()
    _wait_for(page_two.arrived.is_set, run, "page 2 of searchOrders")
    _kill(run)
    assert r.stats().get("searchOrders.served", 0) >= 2
    assert _rows_for_day(r.db, "us.orders") == 0 and _rows_for_day(r.db, "us.order_items") == 0
    r.rerun()
    _assert_identical_to_truth(r, truth)


def test_killed_while_polling_a_report_resumes_it(rig, truth) -> None:
    r = rig(processing_seconds=4.0)
    run = r.start_run()
    _wait_for(lambda: any(status in ("IN_QUEUE", "IN_PROGRESS") for _, status, _ in r.ledger_rows())
              and r.stats().get("getReport.requests", 0) >= 1, run, "polling")
    _kill(run)
    (report_id, status, consumed), = r.ledger_rows()
    assert status in ("IN_QUEUE", "IN_PROGRESS") and consumed is None and _created(r) == 1
    metadata = _report_metadata(r.rerun())
    assert metadata["resumed"] is True and metadata["report_id"] == report_id
    assert _created(r) == 1
    _assert_identical_to_truth(r, truth)


def test_killed_while_downloading_a_document_resumes_the_report(rig, truth) -> None:
    r = rig()
    download = r.proxy.hold(lambda method, path: path.startswith("/_documents/"), partial=True)
    run = r.start_run()
    _wait_for(download.arrived.is_set, run, "the middle of the document download")
    _kill(run)
    (report_id, status, consumed), = r.ledger_rows()
    assert status == "DONE" and consumed is None and _rows_for_day(r.db, f"us.{REPORT_TABLE}") == 0
    metadata = _report_metadata(r.rerun())
    assert metadata["resumed"] is True and metadata["report_id"] == report_id
    assert _created(r) == 1 and len(r.proxy.requests_to("/_documents/")) == 2
    _assert_identical_to_truth(r, truth)


def test_killed_inside_the_duckdb_write_leaves_nothing_and_resumes_the_report(rig, truth, tmp_path: Path) -> None:
    r = rig()
    marker = tmp_path / "in-transaction.marker"
    run = r.start_run("in-transaction", marker)
    _wait_for(marker.exists, run, "the inside of the DuckDB write transaction")
    _kill(run)
    # The uncommitted rows are gone; the file opens (WAL recovery) and its lock is free.
    assert _rows_for_day(r.db, f"us.{REPORT_TABLE}") == 0
    loads = Warehouse(r.db).loads("us", REPORT_TABLE)
    assert loads.height == 0
    (report_id, _status, consumed), = r.ledger_rows()
    assert consumed is None and _created(r) == 1
    metadata = _report_metadata(r.rerun())
    assert metadata["resumed"] is True and metadata["report_id"] == report_id and _created(r) == 1
    _assert_identical_to_truth(r, truth)


def test_killed_just_after_the_commit_reloads_the_same_report_without_duplicates(rig, truth, tmp_path: Path) -> None:
    r = rig()
    marker = tmp_path / "after-commit.marker"
    run = r.start_run("after-commit", marker)
    _wait_for(marker.exists, run, "the moment just after the commit")
    _kill(run)
    assert _rows_for_day(r.db, f"us.{REPORT_TABLE}") == truth[f"us.{REPORT_TABLE}"].height
    (report_id, _status, consumed), = r.ledger_rows()
    assert consumed is None, "the report was marked consumed before the kill"
    metadata = _report_metadata(r.rerun())
    assert metadata["resumed"] is True and metadata["report_id"] == report_id and _created(r) == 1
    assert Warehouse(r.db).loads("us", REPORT_TABLE).height == 2  # committed twice, replaced once
    _assert_identical_to_truth(r, truth)


def _orders_without_items(db: Path) -> int:
    """Orders of the day a reader sees with none of their items (issue 18: they commit together)."""
    warehouse = Warehouse(db)
    if not warehouse.table_exists("us", "orders"):
        return 0
    if not warehouse.table_exists("us", "order_items"):
        return _rows_for_day(db, "us.orders")
    return warehouse.query(
        "select count(*) from us.orders o where partition_date = ? and not exists "
        "(select 1 from us.order_items i where i.amazon_order_id = o.amazon_order_id)", [DAY]).item()


def test_killed_between_the_orders_and_their_items_leaves_neither(rig, truth, tmp_path: Path) -> None:
    """Issue 18: the run dies after writing the day's orders and before their items are in. A reader
    must never see those orders without their items: both tables commit together or not at all."""
    r = rig()
    marker = tmp_path / "items.marker"
    run = r.start_run("in-frame-insert", marker, select=("us/orders", "us/order_items"), gate_table="order_items")
    _wait_for(marker.exists, run, "the insert of the order items")
    _kill(run)
    assert _orders_without_items(r.db) == 0
    assert _rows_for_day(r.db, "us.orders") == 0 and _rows_for_day(r.db, "us.order_items") == 0
    assert not r.db.exists() or Warehouse(r.db).loads("us").height == 0
    r.rerun()
    _assert_identical_to_truth(r, truth)
    assert _orders_without_items(r.db) == 0
    loads = Warehouse(r.db).loads("us")
    assert set(loads["table_name"]) >= {"orders", "order_items"}


@pytest.mark.long
def test_long_four_crashes_in_a_row_still_one_report(rig, truth, tmp_path: Path) -> None:
    """Killed while polling, then mid-download, then inside the transaction, then just after the commit:
    every relaunch resumes the one report, and the fifth run ends identical to the clean run."""
    r = rig(processing_seconds=3.0)
    run = r.start_run()
    _wait_for(lambda: any(status in ("IN_QUEUE", "IN_PROGRESS") for _, status, _ in r.ledger_rows())
              and r.stats().get("getReport.requests", 0) >= 1, run, "polling")
    _kill(run)
    download = r.proxy.hold(lambda method, path: path.startswith("/_documents/"), partial=True)
    run = r.start_run()
    _wait_for(download.arrived.is_set, run, "the middle of the document download")
    _kill(run)
    download.release.set()
    for gate in ("in-transaction", "after-commit"):
        marker = tmp_path / f"{gate}.marker"
        run = r.start_run(gate, marker)
        _wait_for(marker.exists, run, gate)
        _kill(run)
    (report_id, _status, consumed), = r.ledger_rows()
    assert consumed is None and _created(r) == 1
    metadata = _report_metadata(r.rerun())
    assert metadata["resumed"] is True and metadata["report_id"] == report_id and _created(r) == 1
    _assert_identical_to_truth(r, truth)
