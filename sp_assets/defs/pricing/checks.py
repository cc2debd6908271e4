"""Checks on the pricing tables: keys (the invalid-SKU WARN checks are reported by the assets themselves)."""

import dagster as dg

from sp_assets.defs.checks import primary_key_check
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.lib.pricing import COMPETITIVE_PRICES, MY_PRICES


def build_pricing_checks(entry: MarketplaceConfig) -> list[dg.AssetChecksDefinition]:
    return [primary_key_check(entry, MY_PRICES), primary_key_check(entry, COMPETITIVE_PRICES)]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=[c for m in load_config().marketplaces for c in build_pricing_checks(m)])
