"""A run killed (SIGKILL) while it polls Amazon, then relaunched: the same report is resumed, never requested twice.

The first run is a real Dagster materialization in its own process; the test kills it as soon as the
report id is in the ledger (it polls the ledger file, no sleeps), while the sandbox keeps the report
IN_QUEUE for two more seconds. The relaunch must find the id in the ledger, poll the same report and
load the table completely; the sandbox's own counter (``/_sandbox/stats``) proves there was exactly
one createReport for the partition's window.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
import requests

from sp_assets.defs.paths import report_ledger_location
from sp_assets.defs.reports.assets import build_report_assets

from .conftest import AssetEnv, day_window, make_config, materialization_metadata, past_day

ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"


def _materialize(config_path: str, partition: str) -> None:
    """The first run, in a process of its own (as a Dagster run worker is)."""
    import warnings

    import dagster as dg

    from sp_assets.defs.config import load_config
    from sp_assets.defs.resources import WarehouseResource, sp_api_resource

    warnings.filterwarnings("ignore")
    entry = load_config(config_path).get("us")
    assets = [a for a in build_report_assets(entry) if dg.AssetKey(["us", "all_orders_report"]) in a.keys]
    dg.materialize(assets, partition_key=partition,
                   resources={"sp_api_us": sp_api_resource(entry), "warehouse": WarehouseResource()})


def _recorded_report_id(ledger: Path, deadline: float) -> str:
    """Poll the ledger file until the run has recorded its report id (a condition, not a sleep)."""
    while time.monotonic() < deadline:
        if ledger.exists():
            try:
                with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1) as conn:
                    row = conn.execute("select report_id from reports where report_type = ?", (ALL_ORDERS,)).fetchone()
            except sqlite3.OperationalError:  # the schema is being created
                row = None
            if row:
                return str(row[0])
        time.sleep(0.02)
    raise AssertionError("the first run never recorded a report id in the ledger")


@pytest.mark.slow
def test_a_run_killed_while_polling_resumes_the_same_report(asset_env: AssetEnv, sandbox_factory, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = sandbox_factory(extra={"report_queue_seconds": 2.0})  # real seconds: the report waits in the queue
    monkeypatch.setenv("SP_API_ENDPOINT", sandbox.base_url)
    config_path = tmp_path / "marketplaces.yaml"
    config_path.write_text(f"defaults:\n  start_date: {date.today() - timedelta(days=60)}\nmarketplaces:\n  us: {{}}\n")
    monkeypatch.setenv("SP_ASSETS_CONFIG", str(config_path))
    day = past_day(12)

    child = multiprocessing.get_context("spawn").Process(target=_materialize, args=(str(config_path), day.isoformat()))
    child.start()
    try:
        report_id = _recorded_report_id(Path(report_ledger_location()), time.monotonic() + 120)
        assert child.is_alive(), "the first run must still be polling when it is killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(30)
    assert child.exitcode == -signal.SIGKILL
    assert not asset_env.warehouse.table_exists("us", "all_orders_report"), "killed before anything was written"

    config = make_config({"us": {}})
    entry = config.get("us")
    assets = [a for a in build_report_assets(entry) if dg.AssetKey(["us", "all_orders_report"]) in a.keys]
    result = asset_env.materialize(assets, config, partition_key=day.isoformat())
    assert result.success
    metadata = materialization_metadata(result, ["us", "all_orders_report"])[0]
    assert metadata["resumed"] is True and metadata["report_id"] == report_id

    start, end = day_window(entry, day)
    counters = requests.get(sandbox.base_url + "/_sandbox/stats", timeout=10).json()
    window = f"{start.isoformat()}/{(end - timedelta(seconds=1)).isoformat()}"
    assert counters[f"createReport.{ALL_ORDERS}.{window}"] == 1, "exactly one createReport for the partition"
    truth = sandbox.seller.orders_created_between(entry.marketplace_id, start, end)
    stored = asset_env.warehouse.query("select amazon_order_id, sku from us.all_orders_report").rows()
    assert sorted(stored) == sorted((o.amazon_order_id, i.sku) for o in truth for i in o.items) and stored
