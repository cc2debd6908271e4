"""Checks on the participations table: its key."""

import dagster as dg

from sp_assets.defs.checks import primary_key_check
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.lib.sellers import MARKETPLACE_PARTICIPATIONS


def build_sellers_checks(entry: MarketplaceConfig) -> list[dg.AssetChecksDefinition]:
    return [primary_key_check(entry, MARKETPLACE_PARTICIPATIONS)]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=[c for m in load_config().marketplaces for c in build_sellers_checks(m)])
