"""FBA inventory supply: getInventorySummaries (with details), the summary-to-row mapping, the table specs.

**Amazon call.** FBA Inventory v1: ``getInventorySummaries`` (marketplace granularity, optional details).

Two tables hold the same columns. ``inventory_supply`` keeps history: each snapshot day (the
partition, in the marketplace's time zone) holds one row per SKU that changed since the day began,
and re-running the day replaces it. ``inventory_supply_current`` holds one row per SKU, merged with
``last_updated_time`` as the version, so it is the latest state seen and never goes back to an
older one.

Amazon does not move ``lastUpdatedTime`` when only inbound quantities change (it says so in the
model), so a same-day re-fetch whose only difference is an inbound quantity leaves the current row
unchanged; the snapshot table has the new numbers.

The module reads top to bottom as the data flows: the Amazon calls, the record-to-row mapping, the table
specs, then the fetch functions the assets call (pages -> records -> rows). Nothing here touches
DuckDB or Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.spapi.pages import FBA_INVENTORY, iter_records, payload_list
from sp_assets.lib.tablespec import BIGINT, DATE, JSON, TIMESTAMPTZ, VARCHAR, Column, TableSpec

# ------------------------------------------------------------------------------------------------
# Amazon calls
# ------------------------------------------------------------------------------------------------

SUMMARIES_PATH = "/fba/inventory/v1/summaries"
MAX_SELLER_SKUS = 50


def get_inventory_summaries(
    client: SPAPIClient,
    marketplace_id: str,
    *,
    details: bool = True,
    start_date_time: datetime | None = None,
    seller_skus: Sequence[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every inventory summary of one marketplace, all pages.

    ``start_date_time`` returns only summaries changed since then (Amazon: no earlier than 18 months
    ago; inbound quantity changes are not detected) and is sent again with every ``nextToken``, as
    Amazon requires. ``seller_skus`` restricts to those SKUs, in batches of 50 (Amazon's maximum); it
    cannot be combined with ``start_date_time`` because Amazon would silently ignore the SKUs.
    Tokens expire 30 s after they are issued, so consume the generator without long pauses.
    """
    if start_date_time is not None and seller_skus:
        raise ValueError("seller_skus cannot be combined with start_date_time (Amazon ignores the SKUs then)")
    base: dict[str, Any] = {
        "granularityType": "Marketplace",
        "granularityId": marketplace_id,
        "marketplaceIds": [marketplace_id],
        "details": details,
        "startDateTime": start_date_time,
    }
    if seller_skus is None:
        batches: list[list[str] | None] = [None]
    else:
        skus = list(dict.fromkeys(seller_skus))
        batches = [skus[i:i + MAX_SELLER_SKUS] for i in range(0, len(skus), MAX_SELLER_SKUS)]
    for batch in batches:
        params = {**base, "sellerSkus": batch}
        yield from iter_records(client, "getInventorySummaries", SUMMARIES_PATH, params, FBA_INVENTORY,
                                payload_list("inventorySummaries"))


# ------------------------------------------------------------------------------------------------
# Record-to-row mapping
# ------------------------------------------------------------------------------------------------

_RESEARCHING_TERMS: dict[Any, str] = {
    "researchingQuantityInShortTerm": "researching_short_term_quantity",
    "researchingQuantityInMidTerm": "researching_mid_term_quantity",
    "researchingQuantityInLongTerm": "researching_long_term_quantity",
}


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


# ------------------------------------------------------------------------------------------------
# Table specs
# ------------------------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------------------------
# Fetch: Amazon's pages to rows
# ------------------------------------------------------------------------------------------------

def fetch_inventory_supply_rows(client: SPAPIClient, marketplace_id: str, changed_since: datetime,
                                snapshot_date: date, snapshot_time: datetime) -> list[dict[str, Any]]:
    """Every FBA SKU whose summary changed since ``changed_since`` (details included), as rows.

    The pages are read back to back: Amazon's nextToken expires 30 s after it is issued.
    """
    summaries = get_inventory_summaries(client, marketplace_id, details=True, start_date_time=changed_since)
    return [inventory_supply_row(summary, snapshot_date, snapshot_time) for summary in summaries]
