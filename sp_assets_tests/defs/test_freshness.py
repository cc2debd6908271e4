"""Freshness and row-count anomaly checks on the history assets (issue 16, "Missing today")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from sp_assets.defs.freshness import (
    ANOMALY_CHECK,
    build_freshness_checks,
    freshness_hour,
    history_keys,
    judge_days,
)
from sp_assets.defs.marketplace_factory import marketplace_definitions
from sp_assets.defs.orders.assets import build_orders_assets
from sp_assets.defs.resources import project_resources

from .conftest import AssetEnv, make_config

D = date(2026, 11, 20)


def _trailing(n: int) -> dict[date, int]:
    return {D - timedelta(days=k): n for k in range(1, 15)}


def test_a_day_far_off_the_trailing_median_is_odd_and_quiet_days_are_not() -> None:
    assert judge_days({**_trailing(100), D: 95}, [D])["odd"] == []
    assert judge_days({**_trailing(100), D: 0}, [D])["odd"] == [f"{D}: no rows (trailing median 100)"]
    assert "0.10x" in judge_days({**_trailing(100), D: 10}, [D])["odd"][0]
    assert "5.00x" in judge_days({**_trailing(100), D: 500}, [D])["odd"][0]
    assert judge_days({**_trailing(3), D: 12}, [D])["odd"] == [], "a median under 10 rows a day is noise"
    assert judge_days({D: 0}, [D])["odd"] == [], "no history yet: nothing to compare with"


def test_every_history_asset_has_both_checks_and_the_sensor_runs_by_default() -> None:
    config = make_config({"us": {}})
    entry = config.get("us")
    definitions = dg.Definitions.merge(marketplace_definitions(entry),
                                       dg.Definitions(resources=project_resources(config)))
    graph = definitions.resolve_asset_graph()
    history = history_keys(entry, list(definitions.assets or []))  # type: ignore[arg-type]
    assert {"us/orders", "us/order_items", "us/financial_events", "us/all_orders_report"} <= {
        k.to_user_string() for k in history}
    assert not {"us/my_prices", "us/merchant_listings"} & {k.to_user_string() for k in history}, "snapshots"
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    for key in history:
        assert any(name == "freshness_check" and asset == key.to_user_string() for asset, name in checks)
    for table in ("orders", "order_items", "financial_events", "all_orders_report", "kiosk_economics"):
        assert (f"us/{table}", f"{table}_{ANOMALY_CHECK}") in checks, table
    assert not any(asset == "us/my_prices" and name.endswith(ANOMALY_CHECK) for asset, name in checks)
    rolling = definitions.get_repository_def().get_job("us_rolling_job")
    assert not any(name.startswith("freshness_check") for name in rolling.graph.node_dict), \
        "freshness is the sensor's, not a step of the rolling job"
    sensor = definitions.get_repository_def().get_sensor_def("us_freshness_checks")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert freshness_hour(entry) == entry.schedule_hour + 2


def test_on_an_instance_loaded_days_pass_and_a_missing_yesterday_fails_naming_it(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.get("us")
    orders = [a for a in build_orders_assets(entry) if dg.AssetKey(["us", "orders"]) in a.keys]
    freshness = build_freshness_checks(entry, orders)
    today = datetime.now(ZoneInfo(entry.timezone)).date()
    with dg.instance_for_test() as instance:
        missing = asset_env.materialize([*orders, *freshness], config, instance=instance,
                                        selection=dg.AssetSelection.checks(*freshness), raise_on_error=False)
        evaluations = [e.event_specific_data for e in missing.all_events
                       if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        assert evaluations and not any(e.passed for e in evaluations), "nothing loaded: every check fails"
        loaded = asset_env.materialize(orders, config, instance=instance,
                                       first=(today - timedelta(days=3)).isoformat(), last=today.isoformat())
        assert loaded.success
        anomaly = [e.event_specific_data for e in loaded.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
                   and e.event_specific_data.check_name.endswith(ANOMALY_CHECK)]
        assert anomaly and all(a.passed for a in anomaly), "a sandbox day looks like the days before it"
        partitions = {a.metadata["partitions"].value for a in anomaly}
        assert partitions == {f"{today - timedelta(days=3)}..{today}"}
        fresh = asset_env.materialize([*orders, *freshness], config, instance=instance,
                                      selection=dg.AssetSelection.checks(*freshness))
        results = [e.event_specific_data for e in fresh.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        assert results and all(r.passed for r in results), [r.metadata for r in results]
