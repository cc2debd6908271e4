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

from datetime import date, datetime
from typing import Any

import dagster as dg

from sp_assets.defs.checks import ChecksByTable, in_step, primary_key, separate_steps
from sp_assets.defs.common import describe
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.rest_support import build_sku_snapshot_asset
from sp_assets.lib.product_fees import FEE_ESTIMATES, fetch_fee_estimates
from sp_assets.lib.spapi.http import SPAPIClient

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

    def fetch(client: SPAPIClient, skus: list[str], day: date, snapshot_time: datetime
              ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        estimates = fetch_fee_estimates(client, entry.marketplace_id, skus)
        return estimates.rows(day, snapshot_time), {"invalid": estimates.invalid, "errors": estimates.errors}

    return build_sku_snapshot_asset(entry, FEE_ESTIMATES, family=POOL_FAMILY, description=DESCRIPTION,
                                    checks=checks, fetch=fetch, domain=DOMAIN,
                                    side_metadata=lambda side: {"fee_estimate_errors": side["errors"]})


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
