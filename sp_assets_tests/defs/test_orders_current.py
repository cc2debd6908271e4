"""``orders_current``: the orders of each purchase day with the latest merged status, so an analyst
never has to know that ``orders`` freezes once a day leaves the schedule's re-pull window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dagster import AssetKey

from sp_assets.defs.orders.assets import build_orders_assets

from .conftest import AssetEnv, make_config, past_day
from .test_orders_assets import _order_with_two_day_gap


def test_orders_current_shows_a_status_changed_after_the_last_re_pull(asset_env: AssetEnv, sandbox_factory,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = sandbox_factory()
    monkeypatch.setenv("SP_API_ENDPOINT", sandbox.base_url)
    config = make_config({"us": {"timezone": "UTC"}})
    entry = config.get("us")
    orders, upsert = build_orders_assets(entry)[:2]
    order, day_a, day_b = _order_with_two_day_gap(sandbox.seller, entry.marketplace_id, past_day(20))
    clock_a = datetime(day_a.year, day_a.month, day_a.day, tzinfo=UTC) + timedelta(days=1, hours=1)
    clock_b = datetime(day_b.year, day_b.month, day_b.day, tzinfo=UTC) + timedelta(days=1, hours=1)
    shipped_at = order.plan.timeline[2].at
    assert clock_a < shipped_at < clock_b

    # The purchase day's last re-pull sees the order Unshipped; it ships afterwards and the upsert sees it.
    sandbox.seller.clock = lambda: clock_a
    assert asset_env.materialize([orders], config, partition_key=day_a.isoformat(),
                                 selection=[AssetKey(["us", "orders"])]).success
    sandbox.seller.clock = lambda: clock_b
    assert asset_env.materialize([upsert], config, partition_key=day_b.isoformat(),
                                 selection=[AssetKey(["us", "orders_upsert"])]).success

    def status(relation: str) -> tuple:
        return asset_env.warehouse.query(f"select order_status, last_update_date from {relation} "
                                         "where amazon_order_id = ?", [order.amazon_order_id]).row(0)

    assert status("us.orders") == ("Unshipped", order.plan.timeline[1].at)  # frozen at the last re-pull
    assert status("us.orders_current") == ("Shipped", shipped_at)
    assert status("amazon.orders_current") == ("Shipped", shipped_at)
    current = asset_env.warehouse.query(
        "select marketplace, partition_date, current_source from amazon.orders_current where amazon_order_id = ?",
        [order.amazon_order_id]).row(0)
    assert current == ("us", day_a, "orders_upsert")

    # One row per order of the loaded day, none added from the upsert's other days; an order the upsert
    # holds no newer version of keeps its row from orders.
    same = asset_env.warehouse.query(
        "select count(*) = (select count(*) from us.orders), count(distinct amazon_order_id) = count(*) "
        "from us.orders_current").row(0)
    assert same == (True, True)
    unchanged = asset_env.warehouse.query(
        "select count(*) from us.orders o join us.orders_current c using (amazon_order_id) "
        "where c.current_source = 'orders' and c.order_status = o.order_status "
        "and c.last_update_date = o.last_update_date").item()
    newer = asset_env.warehouse.query(
        "select count(*) from us.orders o join us.orders_upsert u using (amazon_order_id) "
        "where u.last_update_date > o.last_update_date").item()
    assert unchanged == asset_env.warehouse.row_count("us", "orders") - newer and newer >= 1
