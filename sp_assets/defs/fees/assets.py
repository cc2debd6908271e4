"""Amazon's fee estimate per SKU at the SKU's own current price (Product Fees v0), and its checks.

=================  =============================================  =====================================
asset              source                                         write
=================  =============================================  =====================================
``fee_estimates``  no Domo equivalent: getPricing (own price),    partition replace by ``snapshot_date``
                   then getMyFeesEstimates, batches of 20         (today only)
=================  =============================================  =====================================

A daily snapshot like ``my_prices``: the same SKU selection (``sku_selection`` all: the active SKUs of
today's ``merchant_listings``; advanced: the configured ``skus``) and the same ``on_invalid_sku`` rule
(skip: write, the ``fee_estimates_valid_skus`` check fails with WARN; warn: the run fails, nothing is
written). Unlike prices, a SKU without an estimate is not left out under skip: it keeps one row with
its ``status`` and error, counted in ``fee_estimate_errors``. Its own domain folder rather than beside
pricing, because Product Fees is its own API (model, usage plan, operation family ``fees``); it runs
in the pricing pool all the same, as it asks getPricing for the price (a burst of 1 that ``my_prices``
and ``competitive_prices`` draw on too).
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from sp_assets.defs.checks import (
    ChecksByTable,
    in_step,
    materialized_then_checked,
    primary_key,
    separate_steps,
    specs_of,
)
from sp_assets.defs.common import SNAPSHOT, asset_kwargs, describe, fail_fast, local_dates, sp_client
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.partitions import utc_window
from sp_assets.defs.rest_support import (
    REPLACE_PARTITION,
    enforce_invalid_sku_policy,
    fetch_staged,
    history_asset,
    invalid_skus_check_result,
    invalid_skus_check_spec,
    selected_skus,
    sku_asset_deps,
    sku_metadata,
    snapshot_day,
    utc_now,
    write_frame,
)
from sp_assets.lib.product_fees import FEE_ESTIMATES, fetch_fee_estimates

HISTORY_ASSET = "merchant_listings"
# Shares getPricing's bucket (burst 1) with my_prices and competitive_prices: one pool for the three.
POOL_FAMILY = "pricing"

# The domain the UI files it under: fee estimates are money (what Amazon will take per sale), read beside
# the financial events and settlements that record what it did take; pricing holds the prices themselves.
DOMAIN = "finances"
DESCRIPTION = describe(
    "Amazon's estimated fees per SKU and fee type (referral, FBA...) at the SKU's own current price.",
    None,
    "The price is asked of getPricing for each batch of 20 SKUs just before getMyFeesEstimates. SKUs: "
    "`sku_selection` all (the active SKUs of today's merchant_listings report) or advanced (`skus`); invalid SKUs: "
    "`on_invalid_sku` skip (written as error rows with their status, WARN check) or warn (run fails, nothing "
    "written). Point-in-time: each run snapshots today (history: the merchant_listings report). Write mode: "
    "**partition replace** by snapshot_date.")


def build_fee_estimates_asset(entry: MarketplaceConfig, checks: ChecksByTable) -> dg.AssetsDefinition:
    """``fee_estimates``; its ``checks`` run in its step after the write."""
    spec = FEE_ESTIMATES
    name = spec.name
    table_checks = checks.get(name, [])

    @dg.asset(deps=sku_asset_deps(entry),
              check_specs=[invalid_skus_check_spec(entry, name), *specs_of(table_checks)],
              **asset_kwargs(entry, name, POOL_FAMILY, SNAPSHOT, DESCRIPTION, table=spec, domain=DOMAIN))
    @fail_fast(entry)
    def fee_estimates(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        day = snapshot_day(context, entry, history_asset(entry, HISTORY_ASSET))
        start, end = utc_window(context)
        client = sp_client(context, entry)  # first: without credentials nothing is read or written
        skus = selected_skus(context, entry, day)
        snapshot_time = utc_now()

        def fetch() -> tuple[list[dict[str, Any]], dict[str, Any]]:
            estimates = fetch_fee_estimates(client, entry.marketplace_id, skus)
            return estimates.rows(day, snapshot_time), {"invalid": estimates.invalid, "errors": estimates.errors}

        frame, side, api, stage = fetch_staged(context, entry, spec, client, fetch, skus=skus)
        invalid: dict[str, str] = side["invalid"]
        enforce_invalid_sku_policy(entry, name, invalid)
        result = write_frame(
            context, entry, spec, frame, mode=REPLACE_PARTITION, window=(start, end),
            api=api, days=local_dates(entry, start, end),
            check_results=[invalid_skus_check_result(entry, name, len(skus), invalid)],
            fee_estimate_errors=side["errors"], **sku_metadata(entry, skus, invalid), **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, table_checks)

    return fee_estimates


def build_fees_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """``fee_estimates``, its checks in its step (``checks_in_step=False``: without)."""
    return [build_fee_estimates_asset(entry, in_step(fees_table_checks(entry), checks_in_step))]


# ------------------------------------------------------------------------------------------ checks
def fees_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The checks of the table, by table name (``fee_estimates_valid_skus`` is the asset's own result)."""
    return {FEE_ESTIMATES.name: [primary_key(entry, FEE_ESTIMATES)]}


def build_fees_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in the asset's step (all of them with ``checks_in_step=False``)."""
    return separate_steps(fees_table_checks(entry), checks_in_step)
