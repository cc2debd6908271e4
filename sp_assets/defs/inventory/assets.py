"""FBA inventory supply per marketplace: a daily snapshot kept as history, and the current state.

=============================  ==============================================  ================================
asset                          the seed's report                               write
=============================  ==============================================  ================================
``inventory_supply``           Fulfillment Inventory - List Inventory Supply   partition replace by
                               (getInventorySummaries, details=true, changed   ``snapshot_date``; today only
                               since the partition's start)
``inventory_supply_current``   (the same report, latest state per SKU)         merge by SKU, version
                                                                               ``last_updated_time``
=============================  ==============================================  ================================

Two assets rather than one multi-asset: the API is read once, by ``inventory_supply``; the current
table is derived from that snapshot in DuckDB, so each table has its own materialization, checks and
metadata, and re-deriving the current table never calls Amazon. The inventory API is point-in-time:
only today's partition (the marketplace's time zone) can be materialized; for history use the
``ledger_summary`` report asset.
"""

import dagster as dg

from sp_assets.defs.common import SNAPSHOT, daily_asset_kwargs, local_dates
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.defs.partitions import utc_window
from sp_assets.defs.rest_support import (
    MERGE,
    REPLACE_PARTITION,
    api_since,
    history_asset,
    snapshot_day,
    sp_client,
    utc_now,
    write_frame,
    write_rows,
)
from sp_assets.lib.inventory import INVENTORY_SUPPLY, INVENTORY_SUPPLY_CURRENT, fetch_inventory_supply_rows
from sp_assets.lib.naming import qualified_name

HISTORY_ASSET = "ledger_summary"

DESCRIPTIONS = {
    "inventory_supply": "Replaces the seed's **Fulfillment Inventory - List Inventory Supply**: FBA inventory "
                        "summaries (getInventorySummaries, details=true) that changed since the start of the "
                        "partition's day. Point-in-time: only today's partition can be materialized (history: "
                        "the ledger_summary report). Write mode: **partition replace** by snapshot_date (one row "
                        "per SKU per snapshot day, kept as history; re-running today replaces today).",
    "inventory_supply_current": "The latest FBA inventory summary of each SKU, derived from the "
                                "`inventory_supply` snapshot of the partition (seed report: **Fulfillment "
                                "Inventory - List Inventory Supply**). No API call. Write mode: **merge** by "
                                "seller_sku, never regressing to an older lastUpdatedTime.",
}


def build_inventory_assets(entry: MarketplaceConfig) -> list[dg.AssetsDefinition]:
    """``inventory_supply`` and ``inventory_supply_current`` of one marketplace."""

    @dg.asset(**daily_asset_kwargs(entry, "inventory_supply", "inventory", SNAPSHOT,
                                   DESCRIPTIONS["inventory_supply"]))
    def inventory_supply(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        day = snapshot_day(context, entry, history_asset(entry, HISTORY_ASSET))
        start, end = utc_window(context)
        client = sp_client(context, entry)
        before = client.stats.snapshot()
        rows = fetch_inventory_supply_rows(client, entry.marketplace_id, start, day, utc_now())
        return write_rows(context, entry, INVENTORY_SUPPLY, rows, mode=REPLACE_PARTITION, window=(start, end),
                          api=api_since(client, before), days=local_dates(entry, start, end),
                          changed_since_utc=start.isoformat())

    current_kwargs = daily_asset_kwargs(entry, "inventory_supply_current", "inventory", SNAPSHOT,
                                        DESCRIPTIONS["inventory_supply_current"])
    current_kwargs["required_resource_keys"] = {"warehouse"}  # reads DuckDB only

    @dg.asset(deps=[inventory_supply], **current_kwargs)
    def inventory_supply_current(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        start, end = utc_window(context)
        first, last = local_dates(entry, start, end)
        warehouse = context.resources.warehouse.warehouse()
        if not warehouse.table_exists(entry.code, INVENTORY_SUPPLY.name):
            raise dg.Failure(description=f"{entry.code}.{INVENTORY_SUPPLY.name} does not exist yet: materialize "
                                         f"{history_asset(entry, INVENTORY_SUPPLY.name)} first",
                             allow_retries=False)
        frame = warehouse.query(
            f"select {', '.join(INVENTORY_SUPPLY_CURRENT.column_names)} "
            f"from {qualified_name(entry.code, INVENTORY_SUPPLY.name)} "
            f"where snapshot_date >= ? and snapshot_date < ? order by snapshot_date, seller_sku", [first, last],
        )
        return write_frame(context, entry, INVENTORY_SUPPLY_CURRENT, frame, mode=MERGE, window=(start, end),
                           api={}, source_table=f"{entry.code}.{INVENTORY_SUPPLY.name}")

    return [inventory_supply, inventory_supply_current]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[a for m in load_config().marketplaces for a in build_inventory_assets(m)])
