"""Issue 4 acceptance: order assets against the sandbox, compared with the seller's ground truth."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from dagster import AssetKey

from sp_assets.defs.orders.assets import build_orders_assets
from sp_assets.lib.naming import qualified_name
from sp_assets.sandbox.seller import Order

from .conftest import AssetEnv, day_window, make_config, materialization_metadata, past_day


def _ground_truth(env: AssetEnv, entry, day: date) -> list[Order]:
    start, end = day_window(entry, day)
    return env.sandbox.seller.orders_created_between(entry.marketplace_id, start, end)


def _assert_orders_match(env: AssetEnv, entry, day: date) -> None:
    truth = {o.amazon_order_id: o for o in _ground_truth(env, entry, day)}
    stored = env.warehouse.query(
        f"select amazon_order_id, order_status, order_total_amount, last_update_date, purchase_date "
        f"from {qualified_name(entry.code, 'orders')} where partition_date = ?", [day]).rows()
    assert {row[0] for row in stored} == set(truth), f"{entry.code} {day}: orders differ from the sandbox"
    for order_id, status, total, updated, purchased in stored:
        order = truth[order_id]
        assert status == order.status
        assert total == (order.order_total if order.has_prices else None)
        assert updated == order.last_update_date and purchased == order.purchase_date

    items = env.warehouse.query(
        f"select amazon_order_id, order_item_id, seller_sku, quantity_ordered, item_price_amount, item_tax_amount "
        f"from {qualified_name(entry.code, 'order_items')} where partition_date = ?", [day]).rows()
    expected = {(o.amazon_order_id, i.order_item_id): (i.sku, i.quantity, i.item_price, i.item_tax)
                for o in truth.values() for i in o.items}
    assert {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in items} == expected


@pytest.mark.parametrize("orders_api", ["v0", "2026-01-01"])
def test_orders_and_items_match_the_sandbox_for_two_marketplaces(asset_env: AssetEnv, orders_api: str) -> None:
    config = make_config({"us": {}, "de": {}}, orders_api=orders_api)
    day = past_day(12)
    for entry in config.marketplaces:
        assets = build_orders_assets(entry)
        result = asset_env.materialize(assets[:1], config, partition_key=day.isoformat())
        assert result.success
        _assert_orders_match(asset_env, entry, day)
        metadata = materialization_metadata(result, [entry.code, "orders"])[0]
        assert metadata["dagster/row_count"] == len(_ground_truth(asset_env, entry, day)) > 0
        assert metadata["api_calls"] >= 1 and "preview" in metadata and metadata["window_start_utc"]
    # The union view spans both marketplaces and says which row came from where.
    per_marketplace = dict(asset_env.warehouse.query(
        "select marketplace, count(*) from amazon.orders group by 1").rows())
    assert set(per_marketplace) == {"us", "de"}


def test_a_multi_day_run_writes_each_day_once_and_rerunning_changes_nothing(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.get("us")
    assets = build_orders_assets(entry)[:1]
    first, last = past_day(14), past_day(12)
    assert asset_env.materialize(assets, config, first=first.isoformat(), last=last.isoformat()).success

    def snapshot() -> tuple[pl.DataFrame, pl.DataFrame]:
        return (asset_env.warehouse.query("select * exclude (source_api) from us.orders order by 1"),
                asset_env.warehouse.query("select * from us.order_items order by 1, 2"))

    before = snapshot()
    for day in (first, first + timedelta(days=1), last):
        _assert_orders_match(asset_env, entry, day)
    # Materializing the same partitions again, one by one and as a range, leaves the tables identical.
    assert asset_env.materialize(assets, config, partition_key=(first + timedelta(days=1)).isoformat()).success
    assert asset_env.materialize(assets, config, first=first.isoformat(), last=last.isoformat()).success
    after = snapshot()
    assert before[0].equals(after[0]) and before[1].equals(after[1])
    assert before[0]["amazon_order_id"].n_unique() == before[0].height


def test_asset_checks_pass_on_a_materialized_partition(asset_env: AssetEnv) -> None:
    from sp_assets.defs.orders.assets import build_orders_checks

    config = make_config({"us": {}})
    entry = config.get("us")
    result = asset_env.materialize([*build_orders_assets(entry)[:1], *build_orders_checks(entry)], config,
                                   partition_key=past_day(13).isoformat())
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations["orders_primary_key"] and evaluations["order_items_primary_key"]
    assert evaluations["order_items_reference_orders"]


def _order_with_two_day_gap(seller, marketplace_id: str, day: date) -> tuple[Order, date, date]:
    """An order of ``day`` whose Unshipped and Shipped moments fall on different UTC days, with no
    other change in between: the case where an old window sees an older state."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for order in seller.orders_created_between(marketplace_id, start, start + timedelta(days=1)):
        plan = order.plan
        statuses = [c.status for c in plan.timeline]
        if statuses == ["Pending", "Unshipped", "Shipped"] and plan.late_update is None:
            unshipped, shipped = plan.timeline[1].at, plan.timeline[2].at
            if shipped.date() > unshipped.date() and unshipped.date() == day:
                return order, unshipped.date(), shipped.date()
    raise AssertionError("the synthetic seller has no suitable order that day")


def test_an_older_window_never_regresses_a_newer_merged_state(asset_env: AssetEnv, sandbox_factory,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = sandbox_factory()
    monkeypatch.setenv("SP_API_ENDPOINT", sandbox.base_url)
    config = make_config({"us": {"timezone": "UTC"}})
    entry = config.get("us")
    upsert = build_orders_assets(entry)[1]
    order, day_a, day_b = _order_with_two_day_gap(sandbox.seller, entry.marketplace_id, past_day(20))
    clock_a = datetime(day_a.year, day_a.month, day_a.day, tzinfo=UTC) + timedelta(days=1, hours=1)
    clock_b = datetime(day_b.year, day_b.month, day_b.day, tzinfo=UTC) + timedelta(days=1, hours=1)
    assert clock_a < order.plan.timeline[2].at, "the first run must see the order before it shipped"

    def stored() -> tuple[str, datetime]:
        return asset_env.warehouse.query("select order_status, last_update_date from us.orders_upsert "
                                         "where amazon_order_id = ?", [order.amazon_order_id]).row(0)

    sandbox.seller.clock = lambda: clock_a
    assert asset_env.materialize([upsert], config, partition_key=day_a.isoformat()).success
    assert stored() == ("Unshipped", order.plan.timeline[1].at)
    sandbox.seller.clock = lambda: clock_b
    assert asset_env.materialize([upsert], config, partition_key=day_b.isoformat()).success
    assert stored() == ("Shipped", order.plan.timeline[2].at)
    # Back-filling the older day again (the API still answers with the old state) must not regress.
    sandbox.seller.clock = lambda: clock_a
    result = asset_env.materialize([upsert], config, partition_key=day_a.isoformat())
    assert result.success
    assert stored() == ("Shipped", order.plan.timeline[2].at)
    write = materialization_metadata(result, ["us", "orders_upsert"])[0]["write"]
    assert write["stale"] >= 1


def test_a_status_filter_reaches_amazon_and_the_table(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"order_statuses": ["Canceled"]}})
    entry = config.get("us")
    day = past_day(12)
    assert asset_env.materialize(build_orders_assets(entry)[:1], config, partition_key=day.isoformat(),
                                 selection=[AssetKey(["us", "orders"])]).success
    statuses = asset_env.warehouse.query("select distinct order_status from us.orders").to_series().to_list()
    truth = [o for o in _ground_truth(asset_env, entry, day) if o.status == "Canceled"]
    assert statuses in ([], ["Canceled"])
    assert asset_env.warehouse.row_count("us", "orders") == len(truth)


def test_missing_credentials_outside_sandbox_mode_fail_the_run_and_write_nothing(
        asset_env: AssetEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SP_ASSETS_SANDBOX")
    config = make_config({"us": {"endpoint": "https://sellingpartnerapi-na.amazon.com"}})
    result = asset_env.materialize(build_orders_assets(config.get("us"))[:1], config,
                                   partition_key=past_day(12).isoformat(), raise_on_error=False)
    assert sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events) == 0
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)
    assert "LWA_APP_ID" in message and "SP_API_REFRESH_TOKEN" in message
    assert not asset_env.warehouse.table_exists("us", "orders")


def _backfill_worker(config_path: str, partition: str) -> int:
    """One partition run in its own process, as a backfill's runs are."""
    import warnings

    import dagster as dg

    from sp_assets.defs.config import load_config
    from sp_assets.defs.resources import WarehouseResource, sp_api_resource

    warnings.filterwarnings("ignore")
    entry = load_config(config_path).get("us")
    result = dg.materialize(build_orders_assets(entry)[:1], partition_key=partition,
                            resources={"sp_api_us": sp_api_resource(entry), "warehouse": WarehouseResource()})
    return int(result.success)


@pytest.mark.slow
def test_a_14_day_backfill_in_parallel_runs_has_no_lock_error_and_no_missing_day(
        asset_env: AssetEnv, tmp_path: Path) -> None:
    config_path = tmp_path / "marketplaces.yaml"
    start = (date.today() - timedelta(days=60)).isoformat()
    config_path.write_text(f"defaults:\n  start_date: {start}\nmarketplaces:\n  us: {{}}\n")
    days = [past_day(30 - i) for i in range(14)]
    # A process pool that reports a dead worker (BrokenProcessPool) instead of waiting for it forever,
    # and a deadline per run, so a stuck writer fails this test rather than hanging the suite.
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_backfill_worker, str(config_path), d.isoformat()) for d in days]
        outcomes = [future.result(timeout=300) for future in futures]
    assert outcomes == [1] * 14
    loaded = asset_env.warehouse.query(
        "select partition_date, count(*) from us.orders group by 1 order by 1").rows()
    entry = make_config({"us": {}}).get("us")
    assert [row[0] for row in loaded] == days
    assert [row[1] for row in loaded] == [len(_ground_truth(asset_env, entry, d)) for d in days]
    assert os.path.exists(asset_env.db_path)
    total_items = asset_env.warehouse.row_count("us", "order_items")
    assert total_items == sum(len(o.items) for d in days for o in _ground_truth(asset_env, entry, d))
    assert Decimal(0) < asset_env.warehouse.query("select sum(item_price_amount) from us.order_items").item()


# Columns that one Orders API version lacks or fills differently (sp_assets/lib/tables/orders.py).
V2026_DIFFERENCES = {"source_api", "order_channel", "ship_service_level", "order_type", "is_global_express_enabled",
                     "is_sold_by_ab", "is_access_point_order", "payment_method", "buyer_email", "buyer_name", "is_gift"}


def test_v0_and_v2026_fill_the_same_tables_with_the_same_values(asset_env: AssetEnv, tmp_path: Path) -> None:
    day = past_day(12).isoformat()
    tables = {}
    for api in ("v0", "2026-01-01"):
        config = make_config({"jp": {"orders_api": api}})
        env = AssetEnv(asset_env.sandbox, tmp_path / f"{api}.duckdb")
        result = env.materialize(build_orders_assets(config.get("jp")), config, partition_key=day)
        assert result.success
        tables[api] = {name: env.warehouse.query(f"select * from jp.{name} order by all") for name in
                       ("orders", "order_items", "orders_upsert", "order_items_upsert")}
        calls = {m["table"]: m["api_by_family"] for m in materialization_metadata(result, ["jp", "orders"])}
        if api == "2026-01-01":  # one searchOrders pass served orders and items: no per-order call
            assert "getOrderItems" not in str(calls) and "orderItems" not in str(calls)
    for name, v0 in tables["v0"].items():
        v2026 = tables["2026-01-01"][name]
        same = [c for c in v0.columns if c not in V2026_DIFFERENCES]
        assert v0.height > 0 and v0.select(same).equals(v2026.select(same)), name
        assert set(v2026["source_api"]) == {"2026-01-01"}


def test_buyer_details_stay_out_unless_the_configuration_asks(asset_env: AssetEnv) -> None:
    day = past_day(12).isoformat()
    for include_pii in (False, True):
        config = make_config({"us": {"include_pii": include_pii, "orders_api": "2026-01-01"}})
        assert asset_env.materialize(build_orders_assets(config.get("us"))[:1], config, partition_key=day).success
        filled = asset_env.warehouse.query(
            "select count(buyer_email) + count(buyer_name) from us.orders").item()
        assert (filled > 0) is include_pii
