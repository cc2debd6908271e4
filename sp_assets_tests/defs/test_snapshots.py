"""Point-in-time assets (refresh kind ``snapshot``): unpartitioned, one snapshot per local day kept.

Issue 16 item 2: as daily-partitioned assets that only accept today, the UI listed every past day as
a missing partition that could never be filled. Now they have no partitions definition at all; the
table keeps one snapshot per day (``snapshot_date``, ``partition_date`` for reports), each run
replaces today's, and a past day asked for through run config is refused with nothing written.

"Two days" are two positions of one clock: ``common.clock`` (the assets' now) and the sandbox
seller's clock, moved back a day together for the first run, as if it had run yesterday.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

import sp_assets.defs.common as common
from sp_assets.defs.common import REFRESH_TAG, SNAPSHOT, SNAPSHOT_DATE, asset_kwargs, sql_table
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.defs.inventory.assets import build_inventory_assets
from sp_assets.defs.marketplace_factory import project_definitions
from sp_assets.defs.pricing.assets import build_pricing_assets
from sp_assets_tests.defs.conftest import (
    AssetEnv,
    make_config,
    materialization_metadata,
    snapshot_date_config,
)
from sp_assets_tests.defs.rest_helpers import failure_text, latest_local_day, report_asset

TABLES = ("inventory_supply", "merchant_listings", "my_prices")
DAY_COLUMN = {"inventory_supply": "snapshot_date", "merchant_listings": "partition_date", "my_prices": "snapshot_date"}


def local_day(entry: MarketplaceConfig, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(entry.timezone)).date()


@pytest.fixture
def shifted(asset_env: AssetEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[timedelta], None]]:
    """``shift(delta)``: from now on, the assets and the sandbox seller both run ``delta`` behind real time
    (a running clock, so the sandbox's reports still progress)."""
    def shift(delta: timedelta) -> None:
        def moved() -> datetime:
            return datetime.now(UTC) - delta

        monkeypatch.setattr(common, "clock", moved)
        monkeypatch.setattr(asset_env.sandbox.seller, "clock", moved)

    yield shift


def rows_by_day(env: AssetEnv, entry: MarketplaceConfig, table: str) -> dict[date, int]:
    column = DAY_COLUMN[table]
    frame = env.warehouse.query(f"select {column} as day, count(*) as n from {sql_table(entry, table)} group by 1")
    return {row["day"]: row["n"] for row in frame.to_dicts()}


def test_every_snapshot_asset_of_the_code_location_is_unpartitioned_and_takes_a_snapshot_date() -> None:
    definitions = project_definitions(load_config())
    graph = definitions.resolve_asset_graph()
    snapshots = [key for key in graph.materializable_asset_keys if graph.get(key).tags.get(REFRESH_TAG) == SNAPSHOT]
    names = {key.path[-1] for key in snapshots}
    assert {"inventory_supply", "inventory_supply_current", "my_prices", "competitive_prices", "product_categories",
            "catalog_matches", "merchant_listings", "fba_inventory"} <= names
    for key in snapshots:
        assert graph.get(key).partitions_def is None, key.to_user_string()
        assert graph.get(key).backfill_policy is None, key.to_user_string()
        op = definitions.get_assets_def(key).op
        assert op.config_field is not None and SNAPSHOT_DATE in op.config_field.config_type.fields, key
    for code in {key.path[0] for key in snapshots}:
        assert definitions.resolve_job_def(f"{code}_snapshot_job").partitions_def is None


def test_asset_kwargs_of_a_snapshot_give_no_partitions_and_the_optional_snapshot_date() -> None:
    entry = make_config({"us": {}}).get("us")
    kwargs = asset_kwargs(entry, "fee_estimates", "pricing", SNAPSHOT, "a later snapshot asset")
    assert "partitions_def" not in kwargs and "backfill_policy" not in kwargs
    field = kwargs["config_schema"][SNAPSHOT_DATE]
    assert not field.is_required


def test_two_days_keep_both_snapshots_a_rerun_replaces_its_day_and_a_past_day_is_refused(
        asset_env: AssetEnv, shifted: Callable[[timedelta], None]) -> None:
    code = latest_local_day()
    config = make_config({code: {}})  # sku_selection: all, so my_prices reads the day's merchant_listings
    entry = config.get(code)
    assets = [*build_inventory_assets(entry), *report_asset(entry, "merchant_listings"),
              build_pricing_assets(entry)[0]]
    with dg.instance_for_test() as instance:
        # Day one: the clocks say yesterday.
        shifted(timedelta(days=1))
        yesterday = local_day(entry, common.now_utc())
        first = asset_env.materialize(assets, config, instance=instance)
        assert first.success
        # Day two: today.
        shifted(timedelta(0))
        today = local_day(entry, common.now_utc())
        assert today == yesterday + timedelta(days=1)
        second = asset_env.materialize(assets, config, instance=instance)
        assert second.success

        kept = {table: rows_by_day(asset_env, entry, table) for table in TABLES}
        for table, days in kept.items():
            assert set(days) == {yesterday, today}, table
            assert days[today] > 0, table
        for result, day in ((first, yesterday), (second, today)):
            for table in ("inventory_supply", "inventory_supply_current", "merchant_listings", "my_prices"):
                metadata = materialization_metadata(result, [code, table])[0]
                assert metadata[SNAPSHOT_DATE] == day.isoformat(), (table, day)
        listing_loads = asset_env.warehouse.loads(code, "merchant_listings")
        assert sorted(listing_loads.get_column("partition_start").to_list()) == [yesterday.isoformat(),
                                                                                  today.isoformat()]
        # Dagster knows these assets without partitions: nothing can show as a missing partition.
        for table in ("inventory_supply", "merchant_listings", "my_prices"):
            key = dg.AssetKey([code, table])
            assert instance.get_materialized_partitions(key) == set()
            latest = instance.get_latest_materialization_event(key)
            assert latest is not None and latest.asset_materialization is not None
            assert latest.asset_materialization.partition is None
            assert latest.asset_materialization.metadata[SNAPSHOT_DATE].value == today.isoformat()

        # A rerun the same day replaces that day's rows and leaves yesterday's alone.
        again = asset_env.materialize(assets, config, instance=instance)
        assert again.success
        write = materialization_metadata(again, [code, "inventory_supply"])[0]["write"]
        assert write["deleted"] == kept["inventory_supply"][today]
        for table in TABLES:
            days = rows_by_day(asset_env, entry, table)
            assert days[yesterday] == kept[table][yesterday], table
            assert set(days) == {yesterday, today}, table

        # Yesterday asked for through run config: refused, nothing fetched, nothing written.
        before = {table: rows_by_day(asset_env, entry, table) for table in TABLES}
        calls = {op: asset_env.sandbox.stats.calls(op) for op in ("getInventorySummaries", "createReport",
                                                                    "getPricing")}
        refused = asset_env.materialize(assets, config, instance=instance,
                                        run_config=snapshot_date_config(assets, yesterday), raise_on_error=False)
        prices = assets[-1:]  # alone too: in the run above it waits for its refused upstream
        refused_prices = asset_env.materialize(prices, config, instance=instance,
                                               run_config=snapshot_date_config(prices, yesterday), raise_on_error=False)
        assert not refused.success and not refused_prices.success
        text = failure_text(refused) + failure_text(refused_prices)
        for name, history in (("inventory_supply", f"{code}/ledger_summary"),
                              ("merchant_listings", f"the snapshots {code}/merchant_listings kept"),
                              ("my_prices", f"{code}/merchant_listings")):
            assert f"{code}/{name} reads a point-in-time API" in text, name
            assert f"For history use {history}" in text, name
        assert f"refused snapshot_date {yesterday.isoformat()}" in text and "nothing was written" in text
        assert {table: rows_by_day(asset_env, entry, table) for table in TABLES} == before
        assert {op: asset_env.sandbox.stats.calls(op) for op in calls} == calls
        assert not refused.get_asset_materialization_events() and not refused_prices.get_asset_materialization_events()

        # Today's date in the run config is today's snapshot, as without it.
        explicit = asset_env.materialize(assets, config, instance=instance,
                                         run_config=snapshot_date_config(assets, today))
        assert explicit.success
        assert materialization_metadata(explicit, [code, "merchant_listings"])[0][SNAPSHOT_DATE] == today.isoformat()


def test_a_snapshot_date_that_is_not_a_date_is_refused_naming_the_field(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.get("us")
    assets = build_inventory_assets(entry)[:1]
    result = asset_env.materialize(assets, config, run_config=snapshot_date_config(assets, "yesterday"),
                                   raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "us/inventory_supply: run config snapshot_date 'yesterday' is not a date" in text
    assert "Nothing was written" in text
    assert not asset_env.warehouse.table_exists("us", "inventory_supply")
