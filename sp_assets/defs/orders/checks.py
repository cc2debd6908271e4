"""Checks on the order tables: keys, and every item references an order of its table."""


import dagster as dg

from sp_assets.defs.checks import primary_key_check
from sp_assets.defs.common import asset_key
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.lib.naming import qualified_name
from sp_assets.lib.orders import ORDER_ITEMS, ORDER_ITEMS_UPSERT, ORDERS, ORDERS_UPSERT


def items_reference_orders_check(entry: MarketplaceConfig, items_table: str, orders_table: str
                                 ) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset_key(entry, items_table), name=f"{items_table}_reference_{orders_table}",
                    blocking=True, required_resource_keys={"warehouse"},
                    description=f"every row of {entry.code}.{items_table} belongs to an order in "
                                f"{entry.code}.{orders_table}")
    def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        warehouse = context.resources.warehouse.warehouse()
        if not warehouse.table_exists(entry.code, items_table):
            return dg.AssetCheckResult(passed=True, metadata={"orphans": 0, "note": "table not created yet"})
        if not warehouse.table_exists(entry.code, orders_table):
            return dg.AssetCheckResult(passed=False, metadata={"note": f"{orders_table} does not exist"})
        orphans = warehouse.query(
            f"select count(*) as n from {qualified_name(entry.code, items_table)} i where not exists "
            f"(select 1 from {qualified_name(entry.code, orders_table)} o "
            f"where o.amazon_order_id = i.amazon_order_id)"
        ).item()
        return dg.AssetCheckResult(passed=orphans == 0, metadata={"orphan_items": int(orphans)})

    return check


def build_orders_checks(entry: MarketplaceConfig) -> list[dg.AssetChecksDefinition]:
    return [
        primary_key_check(entry, ORDERS),
        primary_key_check(entry, ORDER_ITEMS),
        primary_key_check(entry, ORDERS_UPSERT),
        primary_key_check(entry, ORDER_ITEMS_UPSERT),
        items_reference_orders_check(entry, "order_items", "orders"),
        items_reference_orders_check(entry, "order_items_upsert", "orders_upsert"),
    ]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=[c for m in load_config().marketplaces for c in build_orders_checks(m)])
