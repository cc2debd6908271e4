"""Checks on the catalog tables: keys (the invalid-SKU WARN check is reported by product_categories)."""

import dagster as dg

from sp_assets.defs.checks import primary_key_check
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.lib.catalog import CATALOG_MATCHES, PRODUCT_CATEGORIES


def build_catalog_checks(entry: MarketplaceConfig) -> list[dg.AssetChecksDefinition]:
    return [primary_key_check(entry, PRODUCT_CATEGORIES), primary_key_check(entry, CATALOG_MATCHES)]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=[c for m in load_config().marketplaces for c in build_catalog_checks(m)])
