"""Orders, order items and their upserts, per marketplace.

====================  ============================================  ===================================
asset                 the seed's report                             write
====================  ============================================  ===================================
``orders``            Order Details                                 partition replace (by local day)
``order_items``       Order Items / List Order Items By Input       partition replace, items of the
                      Dataset (the input dataset is ``orders``)     partition's orders
``orders_upsert``     Orders - List Orders - Upsert                 merge by order id, never regressing
``order_items_upsert`` Orders - List Order Items Upsert             merge by (order id, item id)
====================  ============================================  ===================================

Each run reads the API first (pages, then records, then one polars frame) and then writes once.
"""


from datetime import date
from typing import Any

import dagster as dg

from sp_assets.defs.common import ROLLING, daily_asset_kwargs, local_dates, run_metadata
from sp_assets.defs.config import MarketplaceConfig, load_config
from sp_assets.defs.orders.fetch import fetch_item_rows, fetch_order_rows
from sp_assets.defs.partitions import utc_window
from sp_assets.lib.tables.base import TableSpec, frame_from_records
from sp_assets.lib.tables.orders import ORDER_ITEMS, ORDER_ITEMS_UPSERT, ORDERS, ORDERS_UPSERT

DESCRIPTIONS = {
    "orders": "Replaces the seed's **Order Details**: every order created in the partition's day "
              "(getOrders by CreatedAfter/Before, or by LastUpdated with `query_date_type: last_updated`). "
              "Write mode: **partition replace** (materializing a day twice never duplicates a row).",
    "order_items": "Replaces the seed's **Order Items** and **List Order Items By Input Dataset**: the items of "
                   "the partition's orders (getOrderItems per order of the `orders` asset). "
                   "Write mode: **partition replace**.",
    "orders_upsert": "Replaces the seed's **Orders - List Orders - Upsert**: orders updated in the window "
                     "(LastUpdatedAfter/Before, clamped to now minus 15 minutes). Write mode: **merge** by "
                     "order id; a row is never replaced by one with an older LastUpdateDate.",
    "order_items_upsert": "Replaces the seed's **Orders - List Order Items Upsert**: the items of the orders in "
                          "`orders_upsert` updated in the window. Write mode: **merge** by (order id, item id), "
                          "never regressing.",
}


def _orders_in(context: dg.AssetExecutionContext, entry: MarketplaceConfig, table: str, column: str,
               first: Any, last: Any) -> list[dict[str, Any]]:
    """The order rows a downstream items asset needs, read from the upstream table in DuckDB."""
    warehouse = context.resources.warehouse.warehouse()
    if not warehouse.table_exists(entry.code, table):
        return []
    frame = warehouse.query(
        f"select amazon_order_id, partition_date, purchase_date, last_update_date, order_status "
        f"from {entry.code}.{table} where {column} >= ? and {column} < ? order by amazon_order_id",
        [first, last],
    )
    return frame.to_dicts()


def build_orders_assets(entry: MarketplaceConfig) -> list[dg.AssetsDefinition]:
    """The four order assets of one marketplace."""
    sp_key = f"sp_api_{entry.code}"

    def write(context: dg.AssetExecutionContext, spec: TableSpec, rows: list[dict[str, Any]],
              start, end, replace: tuple[date, date] | None, before) -> dg.MaterializeResult:
        frame = frame_from_records(spec, rows)
        warehouse = context.resources.warehouse.warehouse()
        if replace is not None:
            result = warehouse.replace_partition(entry.code, spec, frame, replace[0], replace[1])
        else:
            result = warehouse.merge(entry.code, spec, frame)
        client = getattr(context.resources, sp_key).client()
        return dg.MaterializeResult(metadata=run_metadata(
            rows=frame.height, start=start, end=end, api=client.stats.since(before).as_dict(), frame=frame,
            write=dg.MetadataValue.json(_as_dict(result)), table=f"{entry.code}.{spec.name}",
        ))

    @dg.asset(**daily_asset_kwargs(entry, "orders", "orders", ROLLING, DESCRIPTIONS["orders"]))
    def orders(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        start, end = utc_window(context)
        client = getattr(context.resources, sp_key).client()
        before = client.stats.snapshot()
        rows = fetch_order_rows(client, entry.marketplace_id, entry.timezone, start, end,
                                by=entry.query_date_type, statuses=entry.order_statuses,
                                include_pii=entry.include_pii)
        return write(context, ORDERS, rows, start, end, local_dates(entry, start, end), before)

    @dg.asset(deps=[orders], **daily_asset_kwargs(entry, "order_items", "orders", ROLLING,
                                                   DESCRIPTIONS["order_items"]))
    def order_items(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        start, end = utc_window(context)
        first, last = local_dates(entry, start, end)
        client = getattr(context.resources, sp_key).client()
        before = client.stats.snapshot()
        rows = fetch_item_rows(client, _orders_in(context, entry, "orders", "partition_date", first, last))
        return write(context, ORDER_ITEMS, rows, start, end, (first, last), before)

    @dg.asset(**daily_asset_kwargs(entry, "orders_upsert", "orders", ROLLING, DESCRIPTIONS["orders_upsert"]))
    def orders_upsert(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        start, end = utc_window(context)
        client = getattr(context.resources, sp_key).client()
        before = client.stats.snapshot()
        rows = fetch_order_rows(client, entry.marketplace_id, entry.timezone, start, end, by="last_updated",
                                statuses=entry.order_statuses, include_pii=entry.include_pii)
        return write(context, ORDERS_UPSERT, rows, start, end, None, before)

    @dg.asset(deps=[orders_upsert], **daily_asset_kwargs(entry, "order_items_upsert", "orders", ROLLING,
                                                          DESCRIPTIONS["order_items_upsert"]))
    def order_items_upsert(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        start, end = utc_window(context)
        client = getattr(context.resources, sp_key).client()
        before = client.stats.snapshot()
        rows = fetch_item_rows(client, _orders_in(context, entry, "orders_upsert", "last_update_date", start, end))
        return write(context, ORDER_ITEMS_UPSERT, rows, start, end, None, before)

    return [orders, order_items, orders_upsert, order_items_upsert]


def _as_dict(result: Any) -> dict[str, Any]:
    if hasattr(result, "__dataclass_fields__"):
        return {k: getattr(result, k) for k in result.__dataclass_fields__}
    return dict(result) if isinstance(result, dict) else {"result": str(result)}


@dg.definitions
def defs() -> dg.Definitions:
    assets = [a for entry in load_config().marketplaces for a in build_orders_assets(entry)]
    return dg.Definitions(assets=assets)
