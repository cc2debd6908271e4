"""FBA inventory supply (getInventorySummaries with details): table specs and the summary-to-row mapping.

Two tables hold the same columns. ``inventory_supply`` keeps history: each snapshot day (the
partition, in the marketplace's time zone) holds one row per SKU that changed since the day began,
and re-running the day replaces it. ``inventory_supply_current`` holds one row per SKU, merged with
``last_updated_time`` as the version, so it is the latest state seen and never goes back to an
older one.

Amazon does not move ``lastUpdatedTime`` when only inbound quantities change (it says so in the
model), so a same-day re-fetch whose only difference is an inbound quantity leaves the current row
unchanged; the snapshot table has the new numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sp_assets.lib.tables.base import BIGINT, DATE, JSON, TIMESTAMPTZ, VARCHAR, Column, TableSpec

_RESEARCHING_TERMS = {
    "researchingQuantityInShortTerm": "researching_short_term_quantity",
    "researchingQuantityInMidTerm": "researching_mid_term_quantity",
    "researchingQuantityInLongTerm": "researching_long_term_quantity",
}

_COLUMNS = (
    Column("snapshot_date", DATE, nullable=False, description="the seller's local day of the snapshot"),
    Column("seller_sku", VARCHAR, nullable=False),
    Column("asin", VARCHAR),
    Column("fn_sku", VARCHAR, description="the FBA fulfillment network SKU"),
    Column("condition", VARCHAR, description="e.g. NewItem"),
    Column("product_name", VARCHAR),
    Column("last_updated_time", TIMESTAMPTZ, description="Amazon's lastUpdatedTime; null when Amazon sends ''"),
    Column("total_quantity", BIGINT, description="units inbound or in Amazon's fulfillment centers"),
    Column("fulfillable_quantity", BIGINT),
    Column("inbound_working_quantity", BIGINT),
    Column("inbound_shipped_quantity", BIGINT),
    Column("inbound_receiving_quantity", BIGINT),
    Column("reserved_quantity", BIGINT, description="totalReservedQuantity"),
    Column("pending_customer_order_quantity", BIGINT),
    Column("pending_transshipment_quantity", BIGINT),
    Column("fc_processing_quantity", BIGINT),
    Column("researching_quantity", BIGINT, description="totalResearchingQuantity"),
    Column("researching_short_term_quantity", BIGINT),
    Column("researching_mid_term_quantity", BIGINT),
    Column("researching_long_term_quantity", BIGINT),
    Column("unfulfillable_quantity", BIGINT, description="totalUnfulfillableQuantity"),
    Column("customer_damaged_quantity", BIGINT),
    Column("warehouse_damaged_quantity", BIGINT),
    Column("distributor_damaged_quantity", BIGINT),
    Column("carrier_damaged_quantity", BIGINT),
    Column("defective_quantity", BIGINT),
    Column("expired_quantity", BIGINT),
    Column("stores", JSON, description="the stores list as Amazon sends it"),
    Column("snapshot_time", TIMESTAMPTZ, nullable=False, description="when the API was asked (UTC)"),
)

INVENTORY_SUPPLY = TableSpec(
    name="inventory_supply",
    columns=_COLUMNS,
    primary_key=("snapshot_date", "seller_sku"),
    partition_column="snapshot_date",
    description="FBA inventory summaries changed during each local day (the seed's List Inventory Supply); "
                "one row per SKU per snapshot day, the day replaced on each run.",
)
INVENTORY_SUPPLY_CURRENT = TableSpec(
    name="inventory_supply_current",
    columns=_COLUMNS,
    primary_key=("seller_sku",),
    version_column="last_updated_time",
    description="The latest FBA inventory summary of each SKU, merged by SKU, never regressing to an older "
                "lastUpdatedTime; snapshot_date is the day it was captured.",
)


def inventory_supply_row(summary: dict[str, Any], snapshot_date: date, snapshot_time: datetime) -> dict[str, Any]:
    """One ``InventorySummary`` (with ``inventoryDetails``) as a row of ``inventory_supply``."""
    details = summary.get("inventoryDetails") or {}
    reserved = details.get("reservedQuantity") or {}
    researching = details.get("researchingQuantity") or {}
    unfulfillable = details.get("unfulfillableQuantity") or {}
    row: dict[str, Any] = {
        "snapshot_date": snapshot_date,
        "seller_sku": summary.get("sellerSku"),
        "asin": summary.get("asin"),
        "fn_sku": summary.get("fnSku"),
        "condition": summary.get("condition"),
        "product_name": summary.get("productName"),
        "last_updated_time": summary.get("lastUpdatedTime"),
        "total_quantity": summary.get("totalQuantity"),
        "fulfillable_quantity": details.get("fulfillableQuantity"),
        "inbound_working_quantity": details.get("inboundWorkingQuantity"),
        "inbound_shipped_quantity": details.get("inboundShippedQuantity"),
        "inbound_receiving_quantity": details.get("inboundReceivingQuantity"),
        "reserved_quantity": reserved.get("totalReservedQuantity"),
        "pending_customer_order_quantity": reserved.get("pendingCustomerOrderQuantity"),
        "pending_transshipment_quantity": reserved.get("pendingTransshipmentQuantity"),
        "fc_processing_quantity": reserved.get("fcProcessingQuantity"),
        "researching_quantity": researching.get("totalResearchingQuantity"),
        "unfulfillable_quantity": unfulfillable.get("totalUnfulfillableQuantity"),
        "customer_damaged_quantity": unfulfillable.get("customerDamagedQuantity"),
        "warehouse_damaged_quantity": unfulfillable.get("warehouseDamagedQuantity"),
        "distributor_damaged_quantity": unfulfillable.get("distributorDamagedQuantity"),
        "carrier_damaged_quantity": unfulfillable.get("carrierDamagedQuantity"),
        "defective_quantity": unfulfillable.get("defectiveQuantity"),
        "expired_quantity": unfulfillable.get("expiredQuantity"),
        "stores": summary.get("stores"),
        "snapshot_time": snapshot_time,
    }
    for entry in researching.get("researchingQuantityBreakdown") or []:
        column = _RESEARCHING_TERMS.get(entry.get("name")) if isinstance(entry, dict) else None
        if column:
            row[column] = entry.get("quantity")
    return row
