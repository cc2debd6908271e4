"""fee_estimates against the sandbox: each SKU's estimate at its own price (the price my_prices records)
equals the fee the sandbox's settlements charge at that price; SKU selection and both invalid-SKU
policies as for prices (invalid SKUs kept as error rows under skip); the refusal of a past partition."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg

from sp_assets.defs.config import ProjectConfig
from sp_assets.defs.fees.assets import build_fees_assets, build_fees_checks
from sp_assets.defs.pricing.assets import build_pricing_assets
from sp_assets.lib.product_fees import NO_FEE
from sp_assets.sandbox.report_documents import item_fees
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

TRICKY = ("MUG 12oz BLUE", "CABLE+USB/C-1M")
INVALID = ("NOPE-404", 'NOT "A" SKU/1')


def _advanced(env: AssetEnv, policy: str) -> ProjectConfig:
    products = env.sandbox.seller.products("ATVPDKIKX0DER")
    fba = [p.sku for p in products if p.fulfillment_channel == "AFN" and p.sku not in TRICKY][:2]
    mfn = [p.sku for p in products if p.fulfillment_channel == "MFN" and p.sku not in TRICKY][:2]
    return make_config({"us": {"sku_selection": "advanced", "skus": [*TRICKY, *fba, *mfn, *INVALID],
                               "on_invalid_sku": policy}})


def test_estimates_at_my_own_price_are_what_the_settlement_charges(asset_env: AssetEnv) -> None:
    config = _advanced(asset_env, "skip")
    entry = config.get("us")
    with dg.instance_for_test() as instance:
        result = asset_env.materialize([*build_fees_assets(entry), *build_fees_checks(entry),
                                        build_pricing_assets(entry)[0]], config, instance=instance)
        assert result.success
        recorded = instance.get_latest_materialization_event(dg.AssetKey(["us", "fee_estimates"]))
        assert recorded is not None and recorded.run_id == result.run_id
    seller, valid = asset_env.sandbox.seller, [s for s in entry.skus if s not in INVALID]
    rows = asset_env.warehouse.query("select * from us.fee_estimates order by sku, fee_type").to_dicts()
    prices = {r["seller_sku"]: r for r in asset_env.warehouse.query("select * from us.my_prices").to_dicts()}
    assert {r["sku"] for r in rows} == set(entry.skus) and sorted(prices) == sorted(valid)
    for sku in valid:
        product, mine = seller.product(entry.marketplace_id, sku), {r["fee_type"]: r for r in rows if r["sku"] == sku}
        price = prices[sku]["listing_price"]
        settled = {name: -amount for name, amount in item_fees(price, price, 1, product.fulfillment_channel, "USD")}
        fba = product.fulfillment_channel == "AFN"
        assert set(mine) == {"ReferralFee", "VariableClosingFee", "PerItemFee", *(["FBAFees"] if fba else [])}
        assert mine["ReferralFee"]["final_fee"] == settled["Commission"] == (price * Decimal("0.15")).quantize(
            Decimal("0.01"))
        if fba:
            assert mine["FBAFees"]["final_fee"] == settled["FBAPerUnitFulfillmentFee"]
        for row in mine.values():
            assert (row["price_amount"], row["shipping_amount"]) == (price, prices[sku]["shipping_price"])
            assert row["total_fees_estimate"] == sum(settled.values())
            assert (row["status"], row["is_amazon_fulfilled"], row["asin"]) == ("Success", fba, product.asin)
            assert row["snapshot_date"] == today(entry) and row["id_type"] == "SellerSKU"
    for sku in INVALID:
        (row,) = [r for r in rows if r["sku"] == sku]
        assert (row["fee_type"], row["status"], row["error_code"]) == (NO_FEE, "ClientError", "NoPrice")
        assert row["final_fee"] is None and row["error_message"]

    metadata = materialization_metadata(result, ["us", "fee_estimates"])[0]
    assert metadata["invalid_skus"] == dict.fromkeys(INVALID, "ClientError")
    assert metadata["fee_estimate_errors"] == len(INVALID) and metadata["requested_skus"] == len(entry.skus)
    assert metadata["dagster/row_count"] == len(rows)
    checks = check_evaluations(result)
    warning = checks[("us/fee_estimates", "fee_estimates_valid_skus")]
    assert not warning.passed and warning.severity.value == "WARN"
    assert checks[("us/fee_estimates", "fee_estimates_primary_key")].passed


def test_warn_fails_listing_the_invalid_skus_and_writes_nothing(asset_env: AssetEnv) -> None:
    config = _advanced(asset_env, "warn")
    entry = config.get("us")
    result = asset_env.materialize(build_fees_assets(entry), config, raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert all(repr(sku) in text for sku in INVALID) and "on_invalid_sku is 'warn'" in text
    assert not any(repr(sku) in text for sku in TRICKY)
    assert not asset_env.warehouse.table_exists("us", "fee_estimates")


def test_all_estimates_every_active_sku_after_the_listings_report(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"sku_selection": "all"}})
    entry = config.get("us")
    (asset,) = build_fees_assets(entry)
    assert {k.to_user_string() for k in asset.asset_deps[asset.key]} == {"us/merchant_listings"}
    result = asset_env.materialize([*report_asset(entry, "merchant_listings"), asset], config)
    assert result.success
    active = active_listings(asset_env.sandbox.seller, entry)
    written = asset_env.warehouse.query("select distinct sku, status from us.fee_estimates order by sku")
    assert written.get_column("sku").to_list() == active and set(written.get_column("status")) == {"Success"}
    metadata = materialization_metadata(result, ["us", "fee_estimates"])[0]
    assert metadata["fee_estimate_errors"] == 0 and metadata["requested_skus"] == len(active)


def test_a_past_partition_is_refused_and_nothing_is_asked(asset_env: AssetEnv) -> None:
    config = _advanced(asset_env, "skip")
    entry = config.get("us")
    calls = asset_env.sandbox.stats.calls("getMyFeesEstimates") + asset_env.sandbox.stats.calls("getPricing")
    assets = build_fees_assets(entry)
    result = asset_env.materialize(assets, config, run_config=snapshot_date_config(assets, past_day(2)),
                                   raise_on_error=False)
    assert not result.success
    assert "us/merchant_listings" in failure_text(result)
    assert asset_env.sandbox.stats.calls("getMyFeesEstimates") + asset_env.sandbox.stats.calls("getPricing") == calls
    assert not asset_env.warehouse.table_exists("us", "fee_estimates")
