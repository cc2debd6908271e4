"""Issue 19: seller accounts as the unit; one marketplace under several accounts.

With several accounts every name carries the account (``acme_us/orders``, schema ``acme_us``, pools
``sp_api__acme__<family>``); with one, the names are the marketplace's alone, as before accounts, so
an existing warehouse keeps its tables. The acceptance test loads one day of orders of two accounts
that both sell in the US into their own tables and reads them back through ``amazon.orders``.
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from typing import Any

import dagster as dg
import pytest

from sp_assets.defs.config import ProjectConfig, parse_config
from sp_assets.defs.marketplace_factory import project_definitions
from sp_assets.defs.orders.assets import build_orders_assets
from sp_assets.defs.resources import SpApiResource, resource_key
from sp_assets.lib.marketplaces import DEFAULT_ACCOUNT
from sp_assets.lib.spapi import credentials
from sp_assets_tests.defs.test_marketplace_factory import summary

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
