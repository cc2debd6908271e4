"""Checks on the inventory tables: keys, and the current table never lags the snapshot it came from."""

import dagster as dg

from sp_assets.defs.checks import primary_key_check
from sp_assets.defs.common import asset_key
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.lib.inventory import INVENTORY_SUPPLY, INVENTORY_SUPPLY_CURRENT
from sp_assets.lib.naming import qualified_name


def current_not_older_check(entry: MarketplaceConfig) -> dg.AssetChecksDefinition:
    """No SKU of the current table is older than its newest snapshot row (the merge never regressed)."""
    current, snapshot = f"{entry.code}.{INVENTORY_SUPPLY_CURRENT.name}", f"{entry.code}.{INVENTORY_SUPPLY.name}"

    @dg.asset_check(asset=asset_key(entry, INVENTORY_SUPPLY_CURRENT.name), name="inventory_supply_current_up_to_date",
                    blocking=False, required_resource_keys={"warehouse"},
                    description=f"every SKU of {current} is at least as new as its newest row in {snapshot}")
    def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        warehouse = context.resources.warehouse.warehouse()
        if not (warehouse.table_exists(entry.code, INVENTORY_SUPPLY_CURRENT.name)
                and warehouse.table_exists(entry.code, INVENTORY_SUPPLY.name)):
            return dg.AssetCheckResult(passed=True, metadata={"note": "tables not created yet"})
        behind = warehouse.query(
            f"select count(*) as n from (select seller_sku, max(last_updated_time) as newest "
            f"from {qualified_name(entry.code, INVENTORY_SUPPLY.name)} group by seller_sku) s "
            f"left join {qualified_name(entry.code, INVENTORY_SUPPLY_CURRENT.name)} c using (seller_sku) "
            f"where c.seller_sku is null or c.last_updated_time < s.newest"
        ).item()
        return dg.AssetCheckResult(passed=behind == 0, metadata={"skus_behind_snapshot": int(behind)})

    return check


def build_inventory_checks(entry: MarketplaceConfig) -> list[dg.AssetChecksDefinition]:
    return [primary_key_check(entry, INVENTORY_SUPPLY), primary_key_check(entry, INVENTORY_SUPPLY_CURRENT),
            current_not_older_check(entry)]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=[c for m in load_config().marketplaces for c in build_inventory_checks(m)])
