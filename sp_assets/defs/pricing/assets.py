"""The seller's own price and the buy box per SKU, per marketplace (Product Pricing v0), and their checks.

=======================  ==========================================  =====================================
asset                    the seed's report                           write
=======================  ==========================================  =====================================
``my_prices``            Products - My Price for SKU                 replace today's ``snapshot_date`` rows
                         (getPricing, ItemType=Sku)                  (earlier days kept)
``competitive_prices``   Products - Competitive Prices By SKU        replace today's ``snapshot_date`` rows
                         (getCompetitivePricing, ItemType=Sku)       (earlier days kept)
=======================  ==========================================  =====================================

SKUs come from ``sku_selection`` (all: the active SKUs, FBA and merchant-fulfilled, of today's
``merchant_listings`` report, on which these assets then depend; advanced: the configured ``skus``). Invalid SKUs follow ``on_invalid_sku``: skip writes
the valid ones and the asset's ``<asset>_valid_skus`` check fails with WARN severity listing the
others; warn fails the run and writes nothing. Pricing is point-in-time: the assets are unpartitioned
snapshots (``SNAPSHOT``), each run snapshots today and a past ``snapshot_date`` in the run config is
refused (history: the ``merchant_listings`` report asset).
"""

from collections.abc import Callable, Iterator
from datetime import date, datetime
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
from sp_assets.lib import pricing as pricing_api
from sp_assets.lib.pricing import (
    COMPETITIVE_PRICES,
    MY_PRICES,
    PricedSkus,
    PricingCall,
    competitive_price_rows,
    fetch_priced,
    my_price_rows,
)
from sp_assets.lib.tablespec import TableSpec

HISTORY_ASSET = "merchant_listings"
_SKU_NOTE = ("SKUs: `sku_selection` all (the active SKUs of today's merchant_listings report, FBA and "
             "merchant-fulfilled) or advanced (`skus`); invalid SKUs: "
             "`on_invalid_sku` skip (written without them, WARN check) or warn (run fails, nothing written). "
             "Point-in-time: each run snapshots today (history: the merchant_listings report).")

DESCRIPTIONS = {
    "my_prices": describe(
        "The seller's own offer per SKU on each snapshot day: listing price, shipping and landed price.",
        "Products - My Price for SKU",
        f"getPricing, ItemType=Sku. {_SKU_NOTE} Write mode: **partition replace** by snapshot_date."),
    "competitive_prices": describe(
        "Buy box prices, offer counts and sales ranks per SKU on each snapshot day.",
        "Products - Competitive Prices By SKU",
        f"getCompetitivePricing, ItemType=Sku. {_SKU_NOTE} Write mode: **partition replace** by snapshot_date."),
}

RowBuilder = Callable[[PricedSkus, date, datetime], list[dict[str, Any]]]


def build_pricing_asset(entry: MarketplaceConfig, spec: TableSpec, call: PricingCall, to_rows: RowBuilder,
                        checks: ChecksByTable) -> dg.AssetsDefinition:
    """One per-SKU pricing asset (the two differ only in the operation and the row mapping); its
    ``checks`` run in its step after the write."""
    name = spec.name
    table_checks = checks.get(name, [])

    @dg.asset(deps=sku_asset_deps(entry), check_specs=[invalid_skus_check_spec(entry, name), *specs_of(table_checks)],
              **asset_kwargs(entry, name, "pricing", SNAPSHOT, DESCRIPTIONS[name], table=spec))
    @fail_fast(entry)
    def pricing_asset(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        day = snapshot_day(context, entry, history_asset(entry, HISTORY_ASSET))
        start, end = utc_window(context)
        client = sp_client(context, entry)  # first: without credentials nothing is read or written
        skus = selected_skus(context, entry, day)
        snapshot_time = utc_now()

        def fetch() -> tuple[list[dict[str, Any]], dict[str, Any]]:
            priced = fetch_priced(client, entry.marketplace_id, skus, call)
            return to_rows(priced, day, snapshot_time), {"invalid": priced.invalid}

        frame, side, api, stage = fetch_staged(context, entry, spec, client, fetch, skus=skus)
        invalid: dict[str, str] = side["invalid"]
        enforce_invalid_sku_policy(entry, name, invalid)
        result = write_frame(
            context, entry, spec, frame, mode=REPLACE_PARTITION, window=(start, end),
            api=api, days=local_dates(entry, start, end),
            check_results=[invalid_skus_check_result(entry, name, len(skus), invalid)],
            **sku_metadata(entry, skus, invalid), **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, table_checks)

    return pricing_asset


def build_pricing_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """``my_prices`` and ``competitive_prices``, their checks in their steps (``checks_in_step=False``: without)."""
    checks = in_step(pricing_table_checks(entry), checks_in_step)
    return [
        build_pricing_asset(entry, MY_PRICES, pricing_api.get_pricing, my_price_rows, checks),
        build_pricing_asset(entry, COMPETITIVE_PRICES, pricing_api.get_competitive_pricing, competitive_price_rows,
                            checks),
    ]


# ------------------------------------------------------------------------------------------ checks
def pricing_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The checks of each pricing table, by table name (``<asset>_valid_skus`` is the asset's own result)."""
    return {spec.name: [primary_key(entry, spec)] for spec in (MY_PRICES, COMPETITIVE_PRICES)}


def build_pricing_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in their assets' steps (all of them with ``checks_in_step=False``)."""
    return separate_steps(pricing_table_checks(entry), checks_in_step)
