"""my_prices and competitive_prices against the sandbox's pricing ground truth: SKU selection (all:
every active listing of the seller; advanced: the configured list), both invalid-SKU policies, SKUs
that need encoding, and the refusal of a past partition."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sp_assets.defs.common import sql_table
from sp_assets.defs.config import ProjectConfig
from sp_assets.defs.pricing.assets import build_pricing_assets, build_pricing_checks
from sp_assets_tests.defs.conftest import (
    AssetEnv,
    make_config,
    materialization_metadata,
    past_day,
    snapshot_date_config,
)
from sp_assets_tests.defs.rest_helpers import (
    active_listings,
    check_evaluations,
    failure_text,
    report_asset,
    today,
)

# The sandbox catalog's SKUs that break naive URL encoding (space, +, /, quotes, #), and two it lacks.
TRICKY = ("MUG 12oz BLUE", "CABLE+USB/C-1M", 'TEE "VINTAGE" L', "KIT#7 SET")
INVALID = ("NOPE-404", 'NOT "A" SKU/1')


def _advanced(env: AssetEnv, policy: str) -> ProjectConfig:
    plain = [p.sku for p in env.sandbox.seller.products("ATVPDKIKX0DER") if p.sku not in TRICKY][:3]
    return make_config({"us": {"sku_selection": "advanced", "skus": [*TRICKY, *plain, *INVALID],
                               "on_invalid_sku": policy}})


def _money(value: Any) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def test_advanced_skus_with_skip_write_the_valid_ones_and_warn_about_the_rest(asset_env: AssetEnv) -> None:
    config = _advanced(asset_env, "skip")
    entry = config.marketplaces[0]
    result = asset_env.materialize(build_pricing_assets(entry) + build_pricing_checks(entry), config)
    assert result.success
    seller, backend = asset_env.sandbox.seller, asset_env.sandbox.backend("pricing")
    catalog = asset_env.sandbox.backend("catalog")
    valid = [sku for sku in entry.skus if sku not in INVALID]

    mine = {r["seller_sku"]: r for r in asset_env.warehouse.query("select * from us.my_prices").to_dicts()}
    assert sorted(mine) == sorted(valid)
    for sku, row in mine.items():
        product = seller.product(entry.marketplace_id, sku)
        shipping = backend.shipping(product)
        assert (row["asin"], row["currency"], row["snapshot_date"]) == (product.asin, "USD", today(entry))
        assert row["listing_price"] == _money(product.price)
        assert (row["shipping_price"], row["landed_price"]) == (_money(shipping), _money(product.price + shipping))
        assert row["fulfillment_channel"] == ("Amazon" if product.fulfillment_channel == "AFN" else "Merchant")
        assert row["offer_count"] == 1 and row["item_condition"] == "New" and row["seller_id"] == backend.seller_id

    buy_box = {r["seller_sku"]: r for r in asset_env.warehouse.query("select * from us.competitive_prices").to_dicts()}
    assert sorted(buy_box) == sorted(valid)
    for sku, row in buy_box.items():
        product = seller.product(entry.marketplace_id, sku)
        snap = backend.competitive(entry.marketplace_id, product, row["snapshot_time"])
        ranks = catalog.sales_ranks(entry.marketplace_id, product, row["snapshot_time"].date())
        assert row["new_buy_box_listing_price"] == _money(snap.listing_price)
        assert row["new_buy_box_landed_price"] == _money(snap.landed_price)
        assert row["new_buy_box_is_mine"] is snap.belongs_to_requester
        assert (row["new_offer_count"], row["used_offer_count"]) == (snap.new_offers, snap.used_offers)
        assert row["any_offer_count"] == snap.new_offers + snap.used_offers
        used = None if snap.used_listing_price is None else _money(snap.used_listing_price)
        assert row["used_buy_box_listing_price"] == used
        assert (row["sales_rank"], row["sales_rank_category_id"]) == (ranks.display_group_rank,
                                                                      catalog.display_group(product))

    for name in ("my_prices", "competitive_prices"):
        metadata = materialization_metadata(result, ["us", name])[0]
        assert metadata["invalid_skus"] == dict.fromkeys(INVALID, "ClientError")
        assert metadata["requested_skus"] == len(entry.skus) and metadata["sku_selection"] == "advanced"
        assert metadata["dagster/row_count"] == len(valid) and metadata["api_calls"] >= 1
        checks = check_evaluations(result)
        warning = checks[(f"us/{name}", f"{name}_valid_skus")]
        assert not warning.passed and warning.severity.value == "WARN"
        assert warning.metadata["invalid_sku_count"].value == len(INVALID)
        assert checks[(f"us/{name}", f"{name}_primary_key")].passed


def test_advanced_skus_with_warn_fail_listing_the_invalid_ones_and_write_nothing(asset_env: AssetEnv) -> None:
    config = _advanced(asset_env, "warn")
    entry = config.marketplaces[0]
    result = asset_env.materialize(build_pricing_assets(entry), config,
                                   raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert all(repr(sku) in text for sku in INVALID) and "on_invalid_sku is 'warn'" in text
    assert not any(repr(sku) in text for sku in TRICKY)  # encoded correctly, so valid
    assert not asset_env.warehouse.table_exists("us", "my_prices")
    assert not asset_env.warehouse.table_exists("us", "competitive_prices")


def test_all_prices_every_active_sku_of_the_seller_fba_and_merchant_fulfilled(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"sku_selection": "all"}})
    entry = config.get("us")
    listings = report_asset(entry, "merchant_listings")
    result = asset_env.materialize([*listings, *build_pricing_assets(entry)], config)
    assert result.success
    active = active_listings(asset_env.sandbox.seller, entry)
    channels = {p.fulfillment_channel for p in asset_env.sandbox.seller.products(entry.marketplace_id)
                if p.sku in active}
    assert channels == {"AFN", "MFN"} and len(active) >= 50  # the demo seller lists 60 SKUs, ~5% inactive
    for table in ("my_prices", "competitive_prices"):
        written = asset_env.warehouse.query(f"select seller_sku from {sql_table(entry, table)} order by 1")
        assert written.get_column("seller_sku").to_list() == active, table
        metadata = materialization_metadata(result, ["us", table])[0]
        assert metadata["sku_selection"] == "all" and metadata["invalid_skus"] == {}
        assert metadata["requested_skus"] == len(active)


def test_all_depends_on_the_listings_report_and_advanced_on_nothing() -> None:
    for name, options in (("all", {}), ("advanced", {"sku_selection": "advanced", "skus": ["MUG-1"]})):
        entry = make_config({"us": options}).get("us")
        deps = {asset.key.to_user_string(): {k.to_user_string() for k in asset.asset_deps[asset.key]}
                for asset in build_pricing_assets(entry)}
        expected = {"us/merchant_listings"} if name == "all" else set()
        assert deps == {"us/my_prices": expected, "us/competitive_prices": expected}, name


def test_all_follows_the_listings_report_to_its_configured_table(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"reports": [{"table": "merchant_listings", "enabled": False},
                                             {"type": "GET_MERCHANT_LISTINGS_ALL_DATA", "table": "listings"}]}})
    entry = config.get("us")
    (my_prices, _) = build_pricing_assets(entry)
    assert {k.to_user_string() for k in my_prices.asset_deps[my_prices.key]} == {"us/listings"}
    result = asset_env.materialize([*report_asset(entry, "listings"), my_prices], config)
    assert result.success
    written = asset_env.warehouse.query("select seller_sku from us.my_prices order by 1")
    assert written.get_column("seller_sku").to_list() == active_listings(asset_env.sandbox.seller, entry)


def test_all_without_todays_listings_report_fails_clearly(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.marketplaces[0]
    result = asset_env.materialize(build_pricing_assets(entry)[:1], config,
                                   raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "us/merchant_listings has not been materialized for " + today(entry).isoformat() in text
    assert not asset_env.warehouse.table_exists("us", "my_prices")


def test_a_past_day_is_refused_and_nothing_is_written(asset_env: AssetEnv) -> None:
    config = _advanced(asset_env, "skip")
    entry = config.marketplaces[0]
    calls = asset_env.sandbox.stats.calls("getPricing") + asset_env.sandbox.stats.calls("getCompetitivePricing")
    assets = build_pricing_assets(entry)
    result = asset_env.materialize(assets, config, run_config=snapshot_date_config(assets, past_day(2)),
                                   raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "us/merchant_listings" in text and "us/my_prices" in text and "us/competitive_prices" in text
    assert asset_env.sandbox.stats.calls("getPricing") + asset_env.sandbox.stats.calls("getCompetitivePricing") == calls
    assert not asset_env.warehouse.table_exists("us", "my_prices")
