"""The per-marketplace wiring in ``defs/common.py`` with a marketplace whose code is a SQL keyword.

India's code ``in`` is a reserved word: every query of a marketplace's tables names them through
``sql_table`` (quoted), so its checks, the SKU selection and the items-only orders path work.
"""

from __future__ import annotations

from sp_assets.defs.common import sql_table
from sp_assets.defs.inventory.assets import build_inventory_assets, build_inventory_checks
from sp_assets.defs.orders.assets import build_orders_assets, build_orders_checks
from sp_assets.defs.pricing.assets import build_pricing_assets, build_pricing_checks
from sp_assets_tests.defs.conftest import AssetEnv, make_config, past_day
from sp_assets_tests.defs.rest_helpers import report_asset


def test_sql_table_quotes_both_names() -> None:
    assert sql_table(make_config({"in": {}}).get("in"), "orders") == '"in"."orders"'


def test_a_marketplace_coded_like_a_sql_keyword_loads_and_checks(asset_env: AssetEnv) -> None:
    config = make_config({"in": {"sku_selection": "all"}})
    entry = config.get("in")
    snapshot = [*build_inventory_assets(entry), *build_inventory_checks(entry),
                *report_asset(entry, "merchant_listings"),  # sku_selection: all prices its active SKUs
                *build_pricing_assets(entry), *build_pricing_checks(entry)]
    today = asset_env.materialize(snapshot, config)
    orders = asset_env.materialize([*build_orders_assets(entry), *build_orders_checks(entry)], config,
                                   partition_key=past_day(12).isoformat())
    for result in (today, orders):
        assert result.success
        evaluations = {(e.asset_key.to_user_string(), e.check_name): e.passed
                       for e in result.get_asset_check_evaluations()}
        assert evaluations and all(evaluations.values()), evaluations
    assert asset_env.warehouse.row_count("in", "inventory_supply") > 0
    assert asset_env.warehouse.row_count("in", "my_prices") > 0
