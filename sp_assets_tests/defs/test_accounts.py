"""Issue 19: seller accounts as the unit; one marketplace under several accounts.

With several accounts every name carries the account (``acme_us/orders``, schema ``acme_us``, pools
``sp_api__acme__<family>``); with one, the names are the marketplace's alone, as before accounts, so
an existing warehouse keeps its tables. The acceptance test loads one day of orders of two accounts
that both sell in the US into their own tables and reads them back through ``amazon.orders``; the
marts keep the two accounts' rows apart, built by one location or by each account group's.
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from sp_assets.defs.config import ProjectConfig, parse_config
from sp_assets.defs.marketplace_factory import project_definitions
from sp_assets.defs.orders.assets import build_orders_assets
from sp_assets.defs.resources import SpApiResource, WarehouseResource, resource_key
from sp_assets.lib.marketplaces import DEFAULT_ACCOUNT
from sp_assets.lib.spapi import credentials
from sp_assets.lib.warehouse import Warehouse
from sp_assets_tests.defs.rest_helpers import check_evaluations
from sp_assets_tests.defs.test_marketplace_factory import summary
from sp_assets_tests.lib.marts.fixtures import create_account_tables

from .conftest import AssetEnv, day_window, make_config, past_day

warnings.filterwarnings("ignore", category=dg.BetaWarning)

TWO_IN_THE_US = {"acme": {"marketplaces": {"us": {}, "ca": {}}}, "brand": {"marketplaces": {"us": {}}}}


def accounts_config(accounts: dict[str, Any], **defaults: Any) -> ProjectConfig:
    """A validated configuration in the ``accounts:`` form; partitions start 60 days ago."""
    start = (date.today() - timedelta(days=60)).isoformat()
    return parse_config({"defaults": {"start_date": start, **defaults}, "accounts": accounts})


def test_two_accounts_in_the_us_get_their_own_keys_schemas_jobs_resources_and_pools() -> None:
    config = accounts_config(TWO_IN_THE_US)
    assert [(m.code, m.marketplace.code, m.account) for m in config.marketplaces] == [
        ("acme_us", "us", "acme"), ("acme_ca", "ca", "acme"), ("brand_us", "us", "brand")]
    definitions = project_definitions(config)
    names = summary(definitions)
    assert {"acme_us/orders", "brand_us/orders", "acme_ca/orders", "brand_us/settlements"} <= set(names["assets"])
    assert not [key for key in names["assets"] if key.startswith(("us/", "ca/"))]
    assert names["resources"] == ["sp_api_acme_ca", "sp_api_acme_us", "sp_api_brand_us", "warehouse"]
    assert {"acme_us_rolling_job", "brand_us_rolling_job", "acme_ca_snapshot_job"} <= set(names["jobs"])
    assert {"acme_us_daily", "brand_us_daily", "acme_ca_daily"} <= set(names["schedules"])
    # The same marketplace's assets under both accounts, nothing more, nothing less.
    per_entry = {code: {key.split("/", 1)[1] for key in names["assets"] if key.split("/")[0] == code}
                 for code in ("acme_us", "brand_us")}
    assert per_entry["acme_us"] == per_entry["brand_us"]

    for code, account in (("acme_us", "acme"), ("acme_ca", "acme"), ("brand_us", "brand")):
        orders = definitions.resolve_assets_def(dg.AssetKey([code, "orders"]))
        assert orders.op.pool == f"sp_api__{account}__orders", "Amazon meters each seller account apart"
        assert orders.group_names_by_key[dg.AssetKey([code, "orders"])] == f"amazon_{code}"
        assert resource_key(code) in orders.required_resource_keys
        assert orders.metadata_by_key[dg.AssetKey([code, "orders"])]["dagster/table_name"] == f"{code}.orders"
        resource = definitions.resources[resource_key(code)]
        assert isinstance(resource, SpApiResource)
        assert (resource.marketplace, resource.account, resource.account_credentials_only) == (
            code.split("_")[1], account, True)


def test_one_account_keeps_the_names_of_the_marketplaces_form() -> None:
    """Existing users keep their tables: one account in either form gives the same definitions."""
    one_account = accounts_config({"acme": {"region": "NA", "marketplaces": {"us": {}, "ca": {}}}})
    assert summary(project_definitions(one_account)) == summary(project_definitions(make_config({"us": {},
                                                                                                  "ca": {}})))
    assert [(m.code, m.account, m.account_credentials_only) for m in one_account.marketplaces] == [
        ("us", "acme", False), ("ca", "acme", False)]


def test_credentials_are_named_after_the_account() -> None:
    """One account: its own names first, then python-amazon-sp-api's. Several: the refresh token only
    from the account's own name; the application's id and secret may be shared."""
    one = credentials.candidate_names("SP_API_REFRESH_TOKEN", "us", "acme")
    assert one == ["SP_API_REFRESH_TOKEN_ACME", "SP_API_REFRESH_TOKEN_US", "SP_API_REFRESH_TOKEN_NA",
                   "SP_API_REFRESH_TOKEN"]
    assert credentials.candidate_names("SP_API_REFRESH_TOKEN", "us", "acme", account_only=True) == [
        "SP_API_REFRESH_TOKEN_ACME"]
    assert credentials.candidate_names("LWA_APP_ID", "us", "acme", account_only=True) == [
        "LWA_APP_ID_ACME", "LWA_APP_ID"]
    environ = {"LWA_APP_ID": "amzn1.application-oa2-client.x", "LWA_CLIENT_SECRET": "s",
               "SP_API_REFRESH_TOKEN_ACME": "Atzr|acme", "SP_API_REFRESH_TOKEN_BRAND": "Atzr|brand",
               "SP_API_REFRESH_TOKEN": "Atzr|plain"}
    acme = credentials.from_env("us", environ, account="acme", account_only=True)
    brand = credentials.from_env("us", environ, account="brand", account_only=True)
    assert (acme.refresh_token.reveal(), brand.refresh_token.reveal()) == ("Atzr|acme", "Atzr|brand")
    assert acme.fingerprint != brand.fingerprint, "each account its own token cache and quota buckets"
    with pytest.raises(credentials.MissingCredentialsError, match="for us of account other: set "
                                                                  "SP_API_REFRESH_TOKEN_OTHER$"):
        credentials.from_env("us", environ, account="other", account_only=True)


def test_two_accounts_in_the_us_load_into_their_own_tables_and_the_union_view(asset_env: AssetEnv) -> None:
    """Issue 19's acceptance. The sandbox serves one synthetic seller whatever the refresh token (each
    account gets its own token, so its own quota buckets): both accounts load the same orders, into
    separate tables, and the view tells them apart by ``account``."""
    config = accounts_config(TWO_IN_THE_US)
    day = past_day(12)
    expected = None
    for code in ("acme_us", "brand_us"):
        entry = config.get(code)
        result = asset_env.materialize(build_orders_assets(entry)[:1], config, partition_key=day.isoformat())
        assert result.success
        start, end = day_window(entry, day)
        truth = sorted(o.amazon_order_id for o in asset_env.sandbox.seller.orders_created_between(
            entry.marketplace_id, start, end))
        stored = asset_env.warehouse.query(f"select amazon_order_id from {code}.orders order by 1").to_series()
        assert stored.to_list() == truth and truth, code
        expected = truth
    assert not asset_env.warehouse.table_exists("us", "orders"), "no table outside the accounts' schemas"
    rows = asset_env.warehouse.query(
        "select account, marketplace, count(*), count(distinct amazon_order_id) from amazon.orders "
        "group by all order by 1").rows()
    assert rows == [("acme", "us", len(expected), len(expected)), ("brand", "us", len(expected), len(expected))]
    assert DEFAULT_ACCOUNT not in {row[0] for row in rows}


MART_DAYS = {"dagster/asset_partition_range_start": "2026-10-05", "dagster/asset_partition_range_end": "2026-10-10"}
MARTS = ("fx_rates", "sku_daily_profit", "marketplace_daily", "inventory_cover", "returns", "settlement_reconciliation")


def _build_marts(definitions: dg.Definitions, database: Path) -> set[str]:
    """Materialize every mart of a code location's ``definitions`` (the daily ones for 10-05..10-10) over
    the raw tables already in ``database``; the mart keys built, every check passed."""
    marts = [a for a in definitions.assets or [] if isinstance(a, dg.AssetsDefinition)
             and all(key.path[0] == "marts" for key in a.keys)]
    keys = {a.key for a in marts}
    resources = {"warehouse": WarehouseResource(database=str(database))}
    whole = dg.materialize(marts, selection=dg.AssetSelection.assets(*(k for k in keys if k.path[-1] in
                                                                         ("fx_rates", "returns",
                                                                          "settlement_reconciliation"))),
                           resources=resources)
    daily = dg.materialize(marts, selection=dg.AssetSelection.assets(*(k for k in keys if k.path[-1] in
                                                                         ("sku_daily_profit", "marketplace_daily",
                                                                          "inventory_cover"))),
                           resources=resources, tags=MART_DAYS)
    failed = {k: e.metadata for k, e in {**check_evaluations(whole), **check_evaluations(daily)}.items()
              if not e.passed}
    assert not failed
    return {key.to_user_string() for key in keys}


def _per_account(warehouse: Warehouse) -> dict[str, list[tuple]]:
    return {
        "daily": warehouse.query("select account, marketplace, day::varchar, net_proceeds::varchar "
                                 "from marts.marketplace_daily where net_proceeds <> 0 order by all").rows(),
        "cover": warehouse.query("select account, marketplace, available, days_of_cover from marts.inventory_cover "
                                 "where sku = 'SKU-A' order by all").rows(),
        "settled": warehouse.query("select account, events_total::varchar, difference::varchar from "
                                   "marts.settlement_reconciliation where settlement_id = 'G1' order by 1").rows(),
    }


# acme_us holds the fixture's US rows, brand_us the same with every amount doubled and 7 more units in stock
EXPECTED = {
    "daily": [("acme", "us", "2026-10-05", "-27.49"), ("acme", "us", "2026-10-06", "10.00"),
              ("brand", "us", "2026-10-05", "-54.98"), ("brand", "us", "2026-10-06", "20.00")],
    "cover": [("acme", "us", 14, 7.0), ("brand", "us", 21, 10.5)],
    "settled": [("acme", "-17.49", "0.00"), ("brand", "-34.98", "0.00")],
}


def test_two_accounts_in_the_us_get_their_own_rows_in_every_mart(tmp_path: Path) -> None:
    """Issue 19: the marts tell two sellers of the same marketplace apart by ``account``, whether one
    code location builds every account or each group's location (``SP_ASSETS_ACCOUNTS``) builds its own."""
    config = accounts_config(TWO_IN_THE_US, start_date="2026-09-01")
    database = tmp_path / "whole.duckdb"
    create_account_tables(Warehouse(database))
    whole = _build_marts(project_definitions(config), database)
    assert "marts/sku_daily_profit" in whole
    assert _per_account(Warehouse(database)) == EXPECTED

    # one location per account: each builds its own marts, under its own keys, into the same tables
    database = tmp_path / "groups.duckdb"
    create_account_tables(Warehouse(database))
    acme = _build_marts(project_definitions(config, ["acme"]), database)
    assert _per_account(Warehouse(database))["cover"] == EXPECTED["cover"][:1]
    brand = _build_marts(project_definitions(config, ["brand"]), database)
    assert not acme & brand, "two locations never define one asset key"
    assert {key.replace("marts/acme/", "marts/") for key in acme} == whole
    assert _per_account(Warehouse(database)) == EXPECTED
    # the acme location's rebuild replaces acme's rows only, and checks only them (brand's bad row is
    # brand's location's to report)
    with Warehouse(database).connect() as db:
        db.execute("update acme_us.fba_inventory set afn_fulfillable_quantity = 28")
        db.execute("update marts.inventory_cover set available = -1 where account = 'brand' and sku = 'SKU-A'")
    _build_marts(project_definitions(config, ["acme"]), database)
    assert _per_account(Warehouse(database))["cover"] == [("acme", "us", 28, 14.0), ("brand", "us", -1, 10.5)]
