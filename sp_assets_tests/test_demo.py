"""``make demo``'s plan for one marketplace: the location's jobs in order, point-in-time assets as one
unpartitioned run (the runs themselves, launched on the code location, are in e2e/test_demo_runs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sp_assets import demo
from sp_assets.defs.config import load_config
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.reliability import support


def test_the_demo_takes_todays_snapshots_in_one_run_without_partitions(sandbox: SandboxServer, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    config = support.write_config(tmp_path / "marketplaces.yaml", "us", start_days_ago=10)
    monkeypatch.setattr(demo, "DEMO_DAYS", 2)
    with support.environment(**support.sandbox_env(sandbox.base_url, tmp_path / "data", tmp_path / "demo.duckdb",
                                                   config)):
        definitions = support.code_location()
        entry = load_config().get("us")
        plan = demo.plan_marketplace(definitions, entry)
    assert [launch.job_name for launch in plan] == ["us_rolling_job", "us_snapshot_job", "us_unpartitioned_job"]
    rolling, snapshot, unpartitioned = plan
    assert set(rolling.tags) == {"dagster/asset_partition_range_start", "dagster/asset_partition_range_end"}
    assert rolling.tags["dagster/asset_partition_range_start"] < rolling.tags["dagster/asset_partition_range_end"]
    assert snapshot.tags == {} and unpartitioned.tags == {}, "point-in-time assets: one run, no partition"
    graph = definitions.resolve_asset_graph()
    snapshot_job = definitions.resolve_job_def("us_snapshot_job")
    selected = snapshot_job.asset_layer.selected_asset_keys
    assert {"us/inventory_supply", "us/my_prices", "us/merchant_listings", "us/fee_estimates"} <= {
        key.to_user_string() for key in selected}
    assert all(graph.get(key).partitions_def is None for key in selected), "none of them is partitioned"
