"""Checks on the shipment tables: keys, and fulfillment orders belong to their marketplace."""

import dagster as dg

from sp_assets.defs.checks import primary_key_check
from sp_assets.defs.common import asset_key
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.lib.naming import qualified_name
from sp_assets.lib.shipments import FULFILLMENT_ORDERS, INBOUND_SHIPMENT_ITEMS, INBOUND_SHIPMENTS


def fulfillment_orders_marketplace_check(entry: MarketplaceConfig) -> dg.AssetChecksDefinition:
    """listAllFulfillmentOrders lists the whole region: no other marketplace's order may leak in."""
    table = f"{entry.code}.{FULFILLMENT_ORDERS.name}"

    @dg.asset_check(asset=asset_key(entry, FULFILLMENT_ORDERS.name), name="fulfillment_orders_marketplace",
                    blocking=True, required_resource_keys={"warehouse"},
                    description=f"every row of {table} has marketplace_id {entry.marketplace_id}")
    def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        warehouse = context.resources.warehouse.warehouse()
        if not warehouse.table_exists(entry.code, FULFILLMENT_ORDERS.name):
            return dg.AssetCheckResult(passed=True, metadata={"note": "table not created yet"})
        others = warehouse.query(
            f"select count(*) as n from {qualified_name(entry.code, FULFILLMENT_ORDERS.name)} "
            f"where marketplace_id is distinct from ?", [entry.marketplace_id]
        ).item()
        return dg.AssetCheckResult(passed=others == 0, metadata={"other_marketplace_rows": int(others)})

    return check


def build_shipments_checks(entry: MarketplaceConfig) -> list[dg.AssetChecksDefinition]:
    return [primary_key_check(entry, INBOUND_SHIPMENTS), primary_key_check(entry, INBOUND_SHIPMENT_ITEMS),
            primary_key_check(entry, FULFILLMENT_ORDERS), fulfillment_orders_marketplace_check(entry)]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=[c for m in load_config().marketplaces for c in build_shipments_checks(m)])
