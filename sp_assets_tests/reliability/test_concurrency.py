"""Issue 9, part 3: eight partition runs at once, in eight processes, writing one DuckDB file, all succeed.

Each process is a run (``run_worker.py``) of ``us/orders`` + ``us/order_items`` + ``us/all_orders_report``
for its own day; all share the DuckDB file, the report ledger beside it and one sandbox (so also one
seller's quota: they throttle each other as real runs of one account do). DuckDB allows one writing
process per file; the warehouse's cross-process lock must queue them, never surface "Could not set
lock on file". The result must equal a clean sequential load of the same eight days.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from sp_assets.lib.warehouse import Warehouse

from . import support

SEED = 37
DAYS = [date.today() - timedelta(days=12 + i) for i in range(8)]
SELECT = ("us/orders", "us/order_items", "us/all_orders_report")
LOCK_ERRORS = ("Could not set lock", "WarehouseLockTimeout", "WarehouseBusyError", "database is locked",
               "IO Error", "Conflicting lock")


def _sandbox():
    from sp_assets.sandbox.config import SandboxConfig
    from sp_assets.sandbox.server import SandboxServer

    return SandboxServer(SandboxConfig(seed=SEED, speed=1000.0, orders_per_day=60, extra=support.ZERO_DELAYS))


def _run_concurrently(root: Path, days: list[date]) -> list[tuple[int, str]]:
    config = support.write_config(root / "marketplaces.yaml", "us")
    with _sandbox() as sandbox:
        values = support.sandbox_env(sandbox.base_url, root, root / "warehouse.duckdb", config)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SP_", "LWA_"))}
        env.update({k: v for k, v in values.items() if v is not None})
        runs = [subprocess.Popen([sys.executable, "-m", "sp_assets_tests.reliability.run_worker", "--select",
                                  ",".join(SELECT), "--partition", day.isoformat()], cwd=support.PROJECT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for day in days]
        return [(run.wait(timeout=600), run.communicate()[0]) for run in runs]


def _run_sequentially(root: Path, days: list[date]) -> None:
    config = support.write_config(root / "marketplaces.yaml", "us")
    with _sandbox() as sandbox, support.environment(
            **support.sandbox_env(sandbox.base_url, root, root / "warehouse.duckdb", config)):
        defs = support.code_location()
        for day in days:
            result = dg.materialize([*defs.assets, *(defs.asset_checks or [])],
                                    selection=[dg.AssetKey(k.split("/")) for k in SELECT], partition_key=day.isoformat(),
                                    resources=defs.resources)
            assert result.success


def _check(outcomes: list[tuple[int, str]], days: list[date], root: Path, truth_root: Path) -> None:
    for day, (code, output) in zip(days, outcomes, strict=True):
        assert code == 0, f"the run of {day} failed:\n{output[-3000:]}"
        for error in LOCK_ERRORS:
            assert error not in output, f"the run of {day} met {error!r}"
    counts = support.assert_same_warehouse(root / "warehouse.duckdb", truth_root / "warehouse.duckdb",
                                           ignore_tables=("_sp_assets.loads",))
    assert counts["us.orders"] > 8 * 40 and counts["us.all_orders_report"] > 8 * 40
    loads = Warehouse(root / "warehouse.duckdb").loads("us")
    per_table = dict(loads.group_by("table_name").len().rows())
    assert per_table == {"orders": len(days), "order_items": len(days), "all_orders_report": len(days)}


@pytest.mark.slow
def test_eight_partition_runs_at_once_share_one_duckdb_file(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "truth").mkdir()
    outcomes = _run_concurrently(tmp_path / "runs", DAYS)
    _run_sequentially(tmp_path / "truth", DAYS)
    _check(outcomes, DAYS, tmp_path / "runs", tmp_path / "truth")


@pytest.mark.long
def test_long_three_waves_of_eight_runs(tmp_path: Path) -> None:
    """Three waves of eight (24 days), each wave starting while the warehouse already holds the earlier ones."""
    days = [date.today() - timedelta(days=12 + i) for i in range(24)]
    (tmp_path / "runs").mkdir()
    (tmp_path / "truth").mkdir()
    outcomes = []
    for wave in range(3):
        outcomes += _run_concurrently(tmp_path / "runs", days[wave * 8:(wave + 1) * 8])
    _run_sequentially(tmp_path / "truth", days)
    _check(outcomes, days, tmp_path / "runs", tmp_path / "truth")
