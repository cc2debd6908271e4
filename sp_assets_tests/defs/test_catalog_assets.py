"""product_categories (Catalog 2022-04-01 and v0) and catalog_matches against the sandbox's catalog."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sp_assets.defs.catalog.assets import build_catalog_assets, build_catalog_checks
from sp_assets.defs.config import ProjectConfig
from sp_assets_tests.defs.conftest import (
    AssetEnv,
    make_config,
    materialization_metadata,
    snapshot_date_config,
)
from sp_assets_tests.defs.rest_helpers import (
    active_listings,
    check_evaluations,
    failure_text,
    report_asset,
    today,
    utc_day,
)

TRICKY = ("MUG 12oz BLUE", "CABLE+USB/C-1M", 'TEE "VINTAGE" L', "KIT#7 SET")
INVALID = ("NOPE-404", 'NOT "A" SKU/1')


def _config(env: AssetEnv, api: str, policy: str = "skip", **extra: object) -> ProjectConfig:
    plain = [p.sku for p in env.sandbox.seller.products("ATVPDKIKX0DER") if p.sku not in TRICKY][5:8]
    return make_config({"us": {"sku_selection": "advanced", "skus": [*TRICKY, *plain, *INVALID],
                               "on_invalid_sku": policy, "catalog_categories_api": api, **extra}})


@pytest.mark.parametrize(("api", "invalid_status"), [("2022-04-01", "ClientError"), ("v0", "HTTP 400")])
def test_product_categories_match_the_catalog_for_valid_skus(asset_env: AssetEnv, api: str,
                                                             invalid_status: str) -> None:
    config = _config(asset_env, api)
    entry = config.marketplaces[0]
    assets = build_catalog_assets(entry)[:1] + build_catalog_checks(entry)[:1]
    result = asset_env.materialize(assets, config)
    valid = [sku for sku in entry.skus if sku not in INVALID]
    rows = {r["seller_sku"]: r for r in asset_env.warehouse.query("select * from us.product_categories").to_dicts()}
    assert sorted(rows) == sorted(valid)  # one leaf category per product in the sandbox
    catalog = asset_env.sandbox.backend("catalog")
    for sku, row in rows.items():
        product = asset_env.sandbox.seller.product(entry.marketplace_id, sku)
        leaf = catalog.category_chain(product)
        assert (row["category_id"], row["category_name"]) == (leaf.category_id, leaf.name)
        assert (row["parent_category_id"], row["parent_category_name"]) == (leaf.parent.category_id, leaf.parent.name)
        assert (row["root_category_id"], row["depth"]) == (leaf.parent.category_id, 2)
        assert row["category_path"] == f"{leaf.parent.name} > {leaf.name}"
        assert row["asin"] == (product.asin if api == "2022-04-01" else None)
        assert row["source_api"] == api and row["snapshot_date"] == today(entry)

    metadata = materialization_metadata(result, ["us", "product_categories"])[0]
    assert metadata["invalid_skus"] == dict.fromkeys(INVALID, invalid_status)
    assert metadata["catalog_categories_api"] == api and metadata["skus_without_categories"] == []
    assert metadata["api_by_family"]["catalog"]["calls"] >= 1
    # Catalog 2022-04-01 finds items by ASIN: the SKUs are resolved (and judged) by getPricing first.
    assert ("pricing" in metadata["api_by_family"]) is (api == "2022-04-01")
    checks = check_evaluations(result)
    warning = checks[("us/product_categories", "product_categories_valid_skus")]
    assert not warning.passed and warning.severity.value == "WARN"
    assert checks[("us/product_categories", "product_categories_primary_key")].passed


def test_product_categories_with_all_cover_every_active_listing(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"sku_selection": "all"}})
    entry = config.get("us")
    (categories, _) = build_catalog_assets(entry)
    assert {k.to_user_string() for k in categories.asset_deps[categories.key]} == {"us/merchant_listings"}
    result = asset_env.materialize([*report_asset(entry, "merchant_listings"), categories], config)
    assert result.success
    written = asset_env.warehouse.query("select distinct seller_sku from us.product_categories order by 1")
    assert written.get_column("seller_sku").to_list() == active_listings(asset_env.sandbox.seller, entry)


def test_product_categories_with_warn_fail_and_write_nothing(asset_env: AssetEnv) -> None:
    config = _config(asset_env, "v0", policy="warn")
    entry = config.marketplaces[0]
    result = asset_env.materialize(build_catalog_assets(entry)[:1], config,
                                   raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert all(repr(sku) in text for sku in INVALID)
    assert not asset_env.warehouse.table_exists("us", "product_categories")


def test_catalog_matches_are_the_keyword_search_in_amazons_order(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"catalog_keywords": "Brightline"}})  # every product: three pages of 20
    entry = config.marketplaces[0]
    result = asset_env.materialize(build_catalog_assets(entry)[1:] + build_catalog_checks(entry)[1:], config)
    rows = asset_env.warehouse.query("select * from us.catalog_matches order by search_position").to_dicts()
    catalog = asset_env.sandbox.backend("catalog")
    expected = catalog.search(entry.marketplace_id, ["Brightline"])
    assert len(expected) > 40
    assert [r["asin"] for r in rows] == [p.asin for p in expected]
    assert [r["search_position"] for r in rows] == list(range(1, len(expected) + 1))
    for row, product in zip(rows, expected, strict=True):
        ranks = catalog.sales_ranks(entry.marketplace_id, product, utc_day(row["snapshot_time"]))
        codes = catalog.identifiers(product)
        assert (row["item_name"], row["brand"], row["keywords"]) == (product.title, product.brand, "Brightline")
        assert (row["browse_classification_id"], row["browse_classification_name"]) == (product.category_id,
                                                                                      product.category_name)
        assert (row["classification_rank"], row["display_group_rank"]) == (ranks.classification_rank,
                                                                          ranks.display_group_rank)
        assert (row["ean"], row["upc"], row["gtin"]) == (codes["EAN"], codes["UPC"], codes["GTIN"])
    metadata = materialization_metadata(result, ["us", "catalog_matches"])[0]
    assert metadata["dagster/row_count"] == len(expected) and metadata["api_calls"] == 3
    assert check_evaluations(result)[("us/catalog_matches", "catalog_matches_primary_key")].passed


def test_catalog_matches_without_keywords_write_an_empty_day_and_say_why(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.marketplaces[0]
    result = asset_env.materialize(build_catalog_assets(entry)[1:], config)
    metadata = materialization_metadata(result, ["us", "catalog_matches"])[0]
    assert "catalog_keywords is empty" in metadata["skipped_reason"]
    assert metadata["dagster/row_count"] == 0 and metadata["api_calls"] == 0
    assert asset_env.warehouse.row_count("us", "catalog_matches") == 0
    loads = asset_env.warehouse.loads("us", "catalog_matches").to_dicts()
    assert [(ld["partition_start"], ld["rows"]) for ld in loads] == [(today(entry).isoformat(), 0)]


def test_a_past_day_is_refused_and_nothing_is_written(asset_env: AssetEnv) -> None:
    config = _config(asset_env, "2022-04-01", catalog_keywords="mug")
    entry = config.marketplaces[0]
    calls = asset_env.sandbox.stats.calls("searchCatalogItems")
    assets = build_catalog_assets(entry)
    yesterday = today(entry) - timedelta(days=1)  # the marketplace's yesterday, whatever the UTC hour
    result = asset_env.materialize(assets, config, run_config=snapshot_date_config(assets, yesterday),
                                   raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "us/merchant_listings" in text and "us/catalog_matches" in text and "us/product_categories" in text
    assert asset_env.sandbox.stats.calls("searchCatalogItems") == calls
    assert not asset_env.warehouse.table_exists("us", "catalog_matches")
    assert not asset_env.warehouse.table_exists("us", "product_categories")
