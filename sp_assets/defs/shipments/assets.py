"""FBA inbound shipments, their items and multi-channel fulfillment orders, per marketplace, and their checks.

==========================  =======================================================  ===========================
asset                       the seed's report                                        write
==========================  =======================================================  ===========================
``inbound_shipments``       Fulfillment Inbound Shipment - List Inbound Shipments    merge by shipment id
                            (getShipments DATE_RANGE on the partition window,        (version: fetched_at)
                            then ``inbound_statuses``)
``inbound_shipment_items``  Fulfillment Inbound Shipment - Inbound Shipment Items     merge by (shipment id, SKU)
                            (getShipmentItems DATE_RANGE on the window, plus         (version: fetched_at)
                            getShipmentItemsByShipmentId for
                            ``inbound_shipment_ids``)
``fulfillment_orders``      Fulfillment Outbound Shipment - Fulfillment Orders       merge by seller fulfillment
                            (listAllFulfillmentOrders from the partition's start)    order id, never regressing
                                                                                     (statusUpdatedDate)
==========================  =======================================================  ===========================

These carry history that changes late (a shipment is received days after it is created), so they are
ROLLING: the daily schedule re-pulls the last ``days_back`` days and the merges keep one current row
per key. Amazon returns the current state of what changed in a window, so re-pulling an old window
never brings back an older state.
"""

from collections.abc import Iterator

import dagster as dg

from sp_assets.defs.checks import (
    ChecksByTable,
    TableCheck,
    in_step,
    materialized_then_checked,
    primary_key,
    separate_steps,
    specs_of,
)
from sp_assets.defs.common import (
    ROLLING,
    asset_key,
    asset_kwargs,
    describe,
    fail_fast,
    sp_client,
    sql_table,
    timestamp,
)
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.partitions import utc_window
from sp_assets.defs.rest_support import MERGE, fetch_staged, utc_now, write_frame
from sp_assets.lib.shipments import (
    FULFILLMENT_ORDERS,
    INBOUND_SHIPMENT_ITEMS,
    INBOUND_SHIPMENTS,
    UnknownShipmentError,
    fetch_fulfillment_order_rows,
    fetch_inbound_item_rows,
    fetch_inbound_shipment_rows,
)
from sp_assets.lib.warehouse import Warehouse

DESCRIPTIONS = {
    "inbound_shipments": describe(
        "FBA inbound shipments (seller to Amazon) updated in the window, one row per shipment with its status "
        "and destination.",
        "Fulfillment Inbound Shipment - List Inbound Shipments",
        "getShipments, QueryType DATE_RANGE, filtered by `inbound_statuses` (up to 10) when set. Write mode: "
        "**merge** by shipment id (the latest fetch wins)."),
    "inbound_shipment_items": describe(
        "The items of FBA inbound shipments, one row per shipment and SKU with quantities shipped and received.",
        "Fulfillment Inbound Shipment - Inbound Shipment Items",
        "The items of shipments updated in the window (getShipmentItems, DATE_RANGE) and of every shipment in "
        "`inbound_shipment_ids` (getShipmentItemsByShipmentId). Write mode: **merge** by (shipment id, SKU)."),
    "fulfillment_orders": describe(
        "Multi-channel fulfillment orders (Amazon ships the seller's other sales) updated since the partition "
        "started, one row per order with its status.",
        "Fulfillment Outbound Shipment - Fulfillment Orders",
        "listAllFulfillmentOrders (queryStartDate), this marketplace only. Write mode: **merge** by seller "
        "fulfillment order id, never regressing to an older statusUpdatedDate. Addresses and e-mails only with "
        "`include_pii`."),
}


def build_shipments_assets(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetsDefinition]:
    """The inbound and outbound assets of one marketplace, each running its checks in its step
    (``checks_in_step=False``: without, for the old layout's separate check steps)."""
    checks = in_step(shipments_table_checks(entry), checks_in_step)
    shipment_checks, item_checks, outbound_checks = (checks.get(spec.name, []) for spec in (
        INBOUND_SHIPMENTS, INBOUND_SHIPMENT_ITEMS, FULFILLMENT_ORDERS))

    @dg.asset(check_specs=specs_of(shipment_checks), **asset_kwargs(entry, INBOUND_SHIPMENTS.name, "inbound", ROLLING,
                                   DESCRIPTIONS["inbound_shipments"], table=INBOUND_SHIPMENTS))
    @fail_fast(entry)
    def inbound_shipments(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        start, end = utc_window(context)
        client = sp_client(context, entry)
        frame, _, api, stage = fetch_staged(context, entry, INBOUND_SHIPMENTS, client, lambda: (
            fetch_inbound_shipment_rows(client, entry.marketplace_id, start, end, entry.inbound_statuses, utc_now()),
            {}))
        result = write_frame(context, entry, INBOUND_SHIPMENTS, frame, mode=MERGE, window=(start, end), api=api,
                             inbound_statuses=dg.MetadataValue.json(list(entry.inbound_statuses)), **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, shipment_checks)

    @dg.asset(check_specs=specs_of(item_checks), **asset_kwargs(entry, INBOUND_SHIPMENT_ITEMS.name, "inbound", ROLLING,
                                   DESCRIPTIONS["inbound_shipment_items"], table=INBOUND_SHIPMENT_ITEMS))
    @fail_fast(entry)
    def inbound_shipment_items(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        start, end = utc_window(context)
        client = sp_client(context, entry)
        try:
            frame, _, api, stage = fetch_staged(context, entry, INBOUND_SHIPMENT_ITEMS, client, lambda: (
                fetch_inbound_item_rows(client, entry.marketplace_id, start, end, entry.inbound_shipment_ids,
                                        utc_now()), {}))
        except UnknownShipmentError as error:
            raise dg.Failure(
                description=f"{entry.path}.inbound_shipment_ids: Amazon does not know shipment "
                            f"{error.args[0]!r} for this seller (HTTP 404); remove or correct it. Nothing was written.",
                allow_retries=False,
            ) from None
        result = write_frame(context, entry, INBOUND_SHIPMENT_ITEMS, frame, mode=MERGE, window=(start, end), api=api,
                             configured_shipment_ids=dg.MetadataValue.json(list(entry.inbound_shipment_ids)),
                             **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, item_checks)

    @dg.asset(check_specs=specs_of(outbound_checks), **asset_kwargs(entry, FULFILLMENT_ORDERS.name, "outbound", ROLLING,
                                   DESCRIPTIONS["fulfillment_orders"], table=FULFILLMENT_ORDERS))
    @fail_fast(entry)
    def fulfillment_orders(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        start, end = utc_window(context)
        client = sp_client(context, entry)
        frame, _, api, stage = fetch_staged(context, entry, FULFILLMENT_ORDERS, client, lambda: (
            fetch_fulfillment_order_rows(client, entry.marketplace_id, start, utc_now(), entry.include_pii), {}))
        result = write_frame(context, entry, FULFILLMENT_ORDERS, frame, mode=MERGE, window=(start, end), api=api,
                             query_start_date_utc=timestamp(start), **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, outbound_checks)

    return [inbound_shipments, inbound_shipment_items, fulfillment_orders]


# ------------------------------------------------------------------------------------------ checks
def fulfillment_orders_marketplace(entry: MarketplaceConfig) -> TableCheck:
    """listAllFulfillmentOrders lists the whole region: no other marketplace's order may leak in."""
    table = f"{entry.code}.{FULFILLMENT_ORDERS.name}"

    def evaluate(warehouse: Warehouse) -> dg.AssetCheckResult:
        if not warehouse.table_exists(entry.code, FULFILLMENT_ORDERS.name):
            return dg.AssetCheckResult(passed=True, metadata={"note": "table not created yet"})
        others = warehouse.query(
            f"select count(*) as n from {sql_table(entry, FULFILLMENT_ORDERS.name)} "
            f"where marketplace_id is distinct from ?", [entry.marketplace_id]
        ).item()
        return dg.AssetCheckResult(passed=others == 0, metadata={"other_marketplace_rows": int(others)})

    return TableCheck(dg.AssetCheckSpec("fulfillment_orders_marketplace", asset=asset_key(entry, FULFILLMENT_ORDERS.name),
                                        blocking=True,
                                        description=f"every row of {table} has marketplace_id {entry.marketplace_id}"),
                      evaluate)


def shipments_table_checks(entry: MarketplaceConfig) -> ChecksByTable:
    """The checks of each shipments table, by table name."""
    return {INBOUND_SHIPMENTS.name: [primary_key(entry, INBOUND_SHIPMENTS)],
            INBOUND_SHIPMENT_ITEMS.name: [primary_key(entry, INBOUND_SHIPMENT_ITEMS)],
            FULFILLMENT_ORDERS.name: [primary_key(entry, FULFILLMENT_ORDERS), fulfillment_orders_marketplace(entry)]}


def build_shipments_checks(entry: MarketplaceConfig, *, checks_in_step: bool = True) -> list[dg.AssetChecksDefinition]:
    """No check steps: they run in their assets' steps (all of them with ``checks_in_step=False``)."""
    return separate_steps(shipments_table_checks(entry), checks_in_step)
