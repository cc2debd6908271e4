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

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import dagster as dg

from sp_assets.defs.checks import ChecksByTable, in_step, primary_key, separate_steps
from sp_assets.defs.common import describe
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.rest_support import build_sku_snapshot_asset
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
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tablespec import TableSpec

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

    def fetch(client: SPAPIClient, skus: list[str], day: date, snapshot_time: datetime
              ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        priced = fetch_priced(client, entry.marketplace_id, skus, call)
        return to_rows(priced, day, snapshot_time), {"invalid": priced.invalid}

    return build_sku_snapshot_asset(entry, spec, family="pricing", description=DESCRIPTIONS[spec.name],
                                    checks=checks, fetch=fetch)


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
