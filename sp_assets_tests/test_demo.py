"""``make demo``'s runs of one marketplace: the location's jobs, point-in-time assets as one unpartitioned run."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from sp_assets import demo
from sp_assets.defs.common import SNAPSHOT_DATE, today_local
from sp_assets.defs.config import load_config
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.reliability import support


def test_the_demo_takes_todays_snapshots_in_one_run_without_partitions(sandbox: SandboxServer, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    config = support.write_config(tmp_path / "marketplaces.yaml", "us", start_days_ago=10)
    monkeypatch.setattr(demo, "DEMO_DAYS", 1)  # one day of history: the runs are what is tested, not volume
    with support.environment(**support.sandbox_env(sandbox.base_url, tmp_path / "data", tmp_path / "demo.duckdb",
                                                   config)):
        definitions = support.code_location()
        entry = load_config().get("us")
        with dg.instance_for_test() as instance:
            outcome = demo.Outcome()
            demo.materialize_marketplace(definitions, instance, entry, outcome)
            assert outcome.ok, outcome.failures
            assert [name for name, _ok, _seconds in outcome.runs] == ["us_rolling_job", "us_snapshot_job",
                                                                      "us_unpartitioned_job"]
            (run,) = instance.get_runs(dg.RunsFilter(job_name="us_snapshot_job"))
            assert not any(tag.startswith("dagster/asset_partition_range") or tag == "dagster/partition"
                           for tag in run.tags), run.tags
            for name in ("inventory_supply", "my_prices", "merchant_listings", "catalog_matches"):
                event = instance.get_latest_materialization_event(dg.AssetKey(["us", name]))
                assert event is not None and event.run_id == run.run_id, name
                materialization = event.asset_materialization
                assert materialization is not None and materialization.partition is None, name
                assert materialization.metadata[SNAPSHOT_DATE].value == today_local(entry).isoformat(), name
