"""FBA inbound shipments and their items (Inbound v0), and multi-channel fulfillment orders (Outbound
2020-07-01): the calls, the record-to-row mapping, the table specs and the fetch.

**Amazon calls.** FBA Inbound v0: ``getShipments``, ``getShipmentItems`` and ``getShipmentItemsByShipmentId``.

Pages continue with ``QueryType=NEXT_TOKEN`` and the ``NextToken`` of ``payload.NextToken``.

FBA Outbound 2020-07-01: ``listAllFulfillmentOrders`` (multi-channel fulfillment orders).

**Rows.** All three tables are merged by their key. Inbound v0 returns a shipment's current state but no
last-update time, so ``fetched_at`` (when the API was asked) is their version: a run that fetched
earlier can never overwrite what a later run wrote. Fulfillment orders carry Amazon's
``statusUpdatedDate``, which is their version.

Destination addresses and notification e-mails of fulfillment orders are the buyer's personal data:
they stay null unless the marketplace's configuration sets ``include_pii: true`` (city, region,
postal and country codes are kept, as for orders).

**Fetch.** Inbound v0's date range covers both ends and is clamped to now (a window that ends tomorrow asks for
nothing that exists yet). The configured statuses go to Amazon with the ``DATE_RANGE`` query.

The module reads top to bottom as the data flows: the Amazon calls, the record-to-row mapping, the table
specs, then the fetch functions the assets call (pages -> records -> rows). Nothing here touches
DuckDB or Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sp_assets.lib.spapi.errors import NotFoundError
from sp_assets.lib.spapi.http import SPAPIClient, path_segment
from sp_assets.lib.spapi.pages import INBOUND_V0, OUTBOUND_2020, iter_records, payload_list
from sp_assets.lib.tablespec import (
    BIGINT,
    BOOLEAN,
    DATE,
    JSON,
    TIMESTAMPTZ,
    VARCHAR,
    Column,
    TableSpec,
    decimal_type,
)

# ------------------------------------------------------------------------------------------------
# Amazon calls
# ------------------------------------------------------------------------------------------------

# FBA Inbound v0

SHIPMENTS_PATH = "/fba/inbound/v0/shipments"
SHIPMENT_ITEMS_PATH = "/fba/inbound/v0/shipmentItems"
SHIPMENT_STATUSES = ("WORKING", "READY_TO_SHIP", "SHIPPED", "RECEIVING", "CANCELLED", "DELETED", "CLOSED",
                     "ERROR", "IN_TRANSIT", "DELIVERED", "CHECKED_IN")
MAX_SHIPMENT_IDS = 999


def get_shipments(
    client: SPAPIClient,
    marketplace_id: str,
    *,
    statuses: Sequence[str] | None = None,
    shipment_ids: Sequence[str] | None = None,
    last_updated_after: datetime | None = None,
    last_updated_before: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield shipments (``payload.ShipmentData``), all pages.

    With ``last_updated_after``/``before`` the query type is ``DATE_RANGE``, optionally narrowed by
    ``statuses`` (the model lets ShipmentStatusList select by current status with either query type;
    shipment ids are a SHIPMENT query); otherwise ``SHIPMENT``, by ``statuses`` and/or ``shipment_ids`` (AND).
    """
    by_date = last_updated_after is not None or last_updated_before is not None
    if by_date and shipment_ids:
        raise ValueError("shipment_ids cannot be combined with a last-updated date range")
    if not by_date and not (statuses or shipment_ids):
        raise ValueError("give statuses and/or shipment_ids, or a last_updated_after/last_updated_before range")
    if statuses:
        bad = [s for s in statuses if s not in SHIPMENT_STATUSES]
        if bad:
            raise ValueError(f"statuses has unknown value(s) {bad}; allowed: {', '.join(SHIPMENT_STATUSES)}")
    if shipment_ids and len(shipment_ids) > MAX_SHIPMENT_IDS:
        raise ValueError(f"at most {MAX_SHIPMENT_IDS} shipment_ids per call, got {len(shipment_ids)}")
    params: dict[str, Any] = {
        "MarketplaceId": marketplace_id,
        "QueryType": "DATE_RANGE" if by_date else "SHIPMENT",
        "ShipmentStatusList": list(statuses) if statuses else None,
        "ShipmentIdList": list(shipment_ids) if shipment_ids else None,
        "LastUpdatedAfter": last_updated_after,
        "LastUpdatedBefore": last_updated_before,
    }
    yield from iter_records(client, "getShipments", SHIPMENTS_PATH, params, INBOUND_V0,
                            payload_list("ShipmentData"))


def get_shipment_items(
    client: SPAPIClient,
    marketplace_id: str,
    *,
    last_updated_after: datetime,
    last_updated_before: datetime,
) -> Iterator[dict[str, Any]]:
    """Yield the items of all shipments updated in a window (``DATE_RANGE``), all pages."""
    params: dict[str, Any] = {
        "MarketplaceId": marketplace_id,
        "QueryType": "DATE_RANGE",
        "LastUpdatedAfter": last_updated_after,
        "LastUpdatedBefore": last_updated_before,
    }
    yield from iter_records(client, "getShipmentItems", SHIPMENT_ITEMS_PATH, params, INBOUND_V0,
                            payload_list("ItemData"))


def get_shipment_items_by_shipment_id(client: SPAPIClient, shipment_id: str) -> list[dict[str, Any]]:
    """The items of one shipment (``payload.ItemData``).

    The model offers no ``NextToken`` parameter for this operation, so there is one page; the
    deprecated ``MarketplaceId`` parameter is not sent.
    """
    body = client.request("getShipmentItemsByShipmentId", "GET", f"{SHIPMENTS_PATH}/{path_segment(shipment_id)}/items")
    items = payload_list("ItemData")(body)
    return items if isinstance(items, list) else []


# FBA Outbound 2020-07-01

FULFILLMENT_ORDERS_PATH = "/fba/outbound/2020-07-01/fulfillmentOrders"


def list_all_fulfillment_orders(client: SPAPIClient, query_start_date: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Yield fulfillment orders last updated at or after ``query_start_date``, all pages.

    Status values have been seen in upper case (the 2022 sandbox), so compare them case-insensitively.
    """
    params = {"queryStartDate": query_start_date}
    yield from iter_records(client, "listAllFulfillmentOrders", FULFILLMENT_ORDERS_PATH, params, OUTBOUND_2020,
                            payload_list("fulfillmentOrders"))


# ------------------------------------------------------------------------------------------------
# Record-to-row mapping
# ------------------------------------------------------------------------------------------------

SOURCE_WINDOW = "updated_in_window"
SOURCE_SHIPMENT_ID = "configured_shipment_id"
FULFILLMENT_ORDER_STATUSES = ("New", "Received", "Planning", "Processing", "Cancelled", "Complete",
                              "CompletePartialled", "Unfulfillable", "Invalid")
_STATUS_BY_UPPER = {status.upper(): status for status in FULFILLMENT_ORDER_STATUSES}


def _value(money: Any) -> Any:
    """Inbound's Amount type: ``{"CurrencyCode", "Value"}``."""
    return money.get("Value") if isinstance(money, dict) else None


def inbound_shipment_row(shipment: dict[str, Any], marketplace_id: str, fetched_at: datetime) -> dict[str, Any]:
    """One ``InboundShipmentInfo`` as an ``inbound_shipments`` row."""
    address = shipment.get("ShipFromAddress") or {}
    fee = shipment.get("EstimatedBoxContentsFee") or {}
    total, per_unit = fee.get("TotalFee") or {}, fee.get("FeePerUnit") or {}
    return {
        "shipment_id": shipment.get("ShipmentId"),
        "marketplace_id": marketplace_id,
        "shipment_name": shipment.get("ShipmentName"),
        "shipment_status": shipment.get("ShipmentStatus"),
        "destination_fulfillment_center_id": shipment.get("DestinationFulfillmentCenterId"),
        "label_prep_type": shipment.get("LabelPrepType"),
        "are_cases_required": shipment.get("AreCasesRequired"),
        "confirmed_need_by_date": shipment.get("ConfirmedNeedByDate"),
        "box_contents_source": shipment.get("BoxContentsSource"),
        "estimated_box_contents_units": fee.get("TotalUnits"),
        "estimated_box_contents_fee_per_unit": _value(per_unit),
        "estimated_box_contents_fee_total": _value(total),
        "estimated_box_contents_fee_currency": total.get("CurrencyCode") or per_unit.get("CurrencyCode"),
        "ship_from_name": address.get("Name"),
        "ship_from_address_line1": address.get("AddressLine1"),
        "ship_from_address_line2": address.get("AddressLine2"),
        "ship_from_district_or_county": address.get("DistrictOrCounty"),
        "ship_from_city": address.get("City"),
        "ship_from_state_or_province_code": address.get("StateOrProvinceCode"),
        "ship_from_country_code": address.get("CountryCode"),
        "ship_from_postal_code": address.get("PostalCode"),
        "fetched_at": fetched_at,
    }


def inbound_item_row(item: dict[str, Any], source: str, fetched_at: datetime,
                     shipment_id: str | None = None) -> dict[str, Any]:
    """One ``InboundShipmentItem`` as a row; ``shipment_id`` fills in when the item does not carry it."""
    prep = [p for p in item.get("PrepDetailsList") or [] if isinstance(p, dict)]
    return {
        "shipment_id": item.get("ShipmentId") or shipment_id,
        "seller_sku": item.get("SellerSKU"),
        "fulfillment_network_sku": item.get("FulfillmentNetworkSKU"),
        "quantity_shipped": item.get("QuantityShipped"),
        "quantity_received": item.get("QuantityReceived"),
        "quantity_in_case": item.get("QuantityInCase"),
        "release_date": item.get("ReleaseDate"),
        "prep_instructions": ",".join(str(p.get("PrepInstruction")) for p in prep if p.get("PrepInstruction"))
        or None,
        "prep_details": prep,
        "source": source,
        "fetched_at": fetched_at,
    }


def fulfillment_order_status(value: Any) -> str | None:
    """Amazon's documented spelling of a status; its 2022 sandbox sent upper case (``COMPLETE``)."""
    if not isinstance(value, str) or not value:
        return None
    return _STATUS_BY_UPPER.get(value.upper(), value)


def fulfillment_order_row(order: dict[str, Any], fetched_at: datetime, include_pii: bool = False) -> dict[str, Any]:
    """One ``FulfillmentOrder`` as a ``fulfillment_orders`` row; buyer details only with ``include_pii``."""
    address = order.get("destinationAddress") or {}
    window = order.get("deliveryWindow") or {}
    emails = [str(e) for e in order.get("notificationEmails") or []]
    cod = order.get("codSettings") or {}

    def personal(value: Any) -> Any:
        return value if include_pii else None

    return {
        "seller_fulfillment_order_id": order.get("sellerFulfillmentOrderId"),
        "marketplace_id": order.get("marketplaceId"),
        "displayable_order_id": order.get("displayableOrderId"),
        "displayable_order_date": order.get("displayableOrderDate"),
        "displayable_order_comment": order.get("displayableOrderComment"),
        "shipping_speed_category": order.get("shippingSpeedCategory"),
        "fulfillment_action": order.get("fulfillmentAction"),
        "fulfillment_policy": order.get("fulfillmentPolicy"),
        "fulfillment_order_status": fulfillment_order_status(order.get("fulfillmentOrderStatus")),
        "received_date": order.get("receivedDate"),
        "status_updated_date": order.get("statusUpdatedDate"),
        "delivery_window_start": window.get("startDate"),
        "delivery_window_end": window.get("endDate"),
        "destination_city": address.get("city"),
        "destination_state_or_region": address.get("stateOrRegion"),
        "destination_postal_code": address.get("postalCode"),
        "destination_country_code": address.get("countryCode"),
        "destination_name": personal(address.get("name")),
        "destination_address_line1": personal(address.get("addressLine1")),
        "destination_address_line2": personal(address.get("addressLine2")),
        "destination_address_line3": personal(address.get("addressLine3")),
        "destination_phone": personal(address.get("phone")),
        "notification_emails": personal(",".join(emails) or None),
        "cod_required": cod.get("isCodRequired"),
        "feature_constraints": order.get("featureConstraints"),
        "fetched_at": fetched_at,
    }


# ------------------------------------------------------------------------------------------------
# Table specs
# ------------------------------------------------------------------------------------------------

FEE = decimal_type(18, 4)  # per-unit fees can have more than two decimals

INBOUND_SHIPMENTS = TableSpec(
    name="inbound_shipments",
    columns=(
        Column("shipment_id", VARCHAR, nullable=False),
        Column("marketplace_id", VARCHAR),
        Column("shipment_name", VARCHAR),
        Column("shipment_status", VARCHAR),
        Column("destination_fulfillment_center_id", VARCHAR),
        Column("label_prep_type", VARCHAR),
        Column("are_cases_required", BOOLEAN),
        Column("confirmed_need_by_date", DATE),
        Column("box_contents_source", VARCHAR),
        Column("estimated_box_contents_units", BIGINT),
        Column("estimated_box_contents_fee_per_unit", FEE),
        Column("estimated_box_contents_fee_total", FEE),
        Column("estimated_box_contents_fee_currency", VARCHAR),
        Column("ship_from_name", VARCHAR),
        Column("ship_from_address_line1", VARCHAR),
        Column("ship_from_address_line2", VARCHAR),
        Column("ship_from_district_or_county", VARCHAR),
        Column("ship_from_city", VARCHAR),
        Column("ship_from_state_or_province_code", VARCHAR),
        Column("ship_from_country_code", VARCHAR),
        Column("ship_from_postal_code", VARCHAR),
        Column("fetched_at", TIMESTAMPTZ, nullable=False, description="when the API was asked; the version"),
    ),
    primary_key=("shipment_id",),
    version_column="fetched_at",
    description="FBA inbound shipments updated in each window (the seed's List Inbound Shipments), merged by "
                "shipment id; the latest fetch wins.",
)

INBOUND_SHIPMENT_ITEMS = TableSpec(
    name="inbound_shipment_items",
    columns=(
        Column("shipment_id", VARCHAR, nullable=False),
        Column("seller_sku", VARCHAR, nullable=False),
        Column("fulfillment_network_sku", VARCHAR),
        Column("quantity_shipped", BIGINT),
        Column("quantity_received", BIGINT),
        Column("quantity_in_case", BIGINT),
        Column("release_date", DATE),
        Column("prep_instructions", VARCHAR, description="comma-separated PrepInstruction values"),
        Column("prep_details", JSON, description="PrepDetailsList as Amazon sends it"),
        Column("source", VARCHAR, description="updated_in_window (getShipmentItems) or configured_shipment_id"),
        Column("fetched_at", TIMESTAMPTZ, nullable=False, description="when the API was asked; the version"),
    ),
    primary_key=("shipment_id", "seller_sku"),
    version_column="fetched_at",
    description="Items of the inbound shipments updated in each window and of the configured shipment ids "
                "(the seed's Inbound Shipment Items), merged by (shipment id, SKU).",
)

FULFILLMENT_ORDERS = TableSpec(
    name="fulfillment_orders",
    columns=(
        Column("seller_fulfillment_order_id", VARCHAR, nullable=False),
        Column("marketplace_id", VARCHAR),
        Column("displayable_order_id", VARCHAR),
        Column("displayable_order_date", TIMESTAMPTZ),
        Column("displayable_order_comment", VARCHAR),
        Column("shipping_speed_category", VARCHAR),
        Column("fulfillment_action", VARCHAR),
        Column("fulfillment_policy", VARCHAR),
        Column("fulfillment_order_status", VARCHAR, description="Amazon's documented spelling (Complete...)"),
        Column("received_date", TIMESTAMPTZ),
        Column("status_updated_date", TIMESTAMPTZ, nullable=False, description="the version of the row"),
        Column("delivery_window_start", TIMESTAMPTZ),
        Column("delivery_window_end", TIMESTAMPTZ),
        Column("destination_city", VARCHAR),
        Column("destination_state_or_region", VARCHAR),
        Column("destination_postal_code", VARCHAR),
        Column("destination_country_code", VARCHAR),
        Column("destination_name", VARCHAR, description="personal data: null unless include_pii"),
        Column("destination_address_line1", VARCHAR, description="personal data: null unless include_pii"),
        Column("destination_address_line2", VARCHAR, description="personal data: null unless include_pii"),
        Column("destination_address_line3", VARCHAR, description="personal data: null unless include_pii"),
        Column("destination_phone", VARCHAR, description="personal data: null unless include_pii"),
        Column("notification_emails", VARCHAR, description="personal data: null unless include_pii"),
        Column("cod_required", BOOLEAN),
        Column("feature_constraints", JSON),
        Column("fetched_at", TIMESTAMPTZ, nullable=False, description="when the API was asked"),
    ),
    primary_key=("seller_fulfillment_order_id",),
    version_column="status_updated_date",
    description="Multi-channel fulfillment orders updated since each partition's start (the seed's Fulfillment "
                "Orders), merged by seller fulfillment order id, never regressing to an older update.",
)


# ------------------------------------------------------------------------------------------------
# Fetch: Amazon's pages to rows
# ------------------------------------------------------------------------------------------------

class UnknownShipmentError(LookupError):
    """A configured inbound shipment id that Amazon does not know for this seller."""


def clamp_to_now(end: datetime, now: datetime | None = None) -> datetime:
    return min(end, now or datetime.now(UTC))


def fetch_inbound_shipment_rows(client: SPAPIClient, marketplace_id: str, start: datetime, end: datetime,
                                statuses: Sequence[str], fetched_at: datetime) -> list[dict[str, Any]]:
    """Shipments last updated in [start, end] (getShipments, DATE_RANGE), kept if in ``statuses`` (if any)."""
    shipments = get_shipments(client, marketplace_id, statuses=list(statuses) or None,
                              last_updated_after=start, last_updated_before=clamp_to_now(end, fetched_at))
    return [inbound_shipment_row(s, marketplace_id, fetched_at) for s in shipments]


def fetch_inbound_item_rows(client: SPAPIClient, marketplace_id: str, start: datetime, end: datetime,
                            shipment_ids: Sequence[str], fetched_at: datetime) -> list[dict[str, Any]]:
    """Items of shipments updated in [start, end] (getShipmentItems), then the items of each configured
    shipment id (getShipmentItemsByShipmentId); an unknown id raises ``UnknownShipmentError``."""
    items = get_shipment_items(client, marketplace_id, last_updated_after=start,
                               last_updated_before=clamp_to_now(end, fetched_at))
    rows = [inbound_item_row(item, SOURCE_WINDOW, fetched_at) for item in items]
    for shipment_id in dict.fromkeys(shipment_ids):
        try:
            by_id = get_shipment_items_by_shipment_id(client, shipment_id)
        except NotFoundError:
            raise UnknownShipmentError(shipment_id) from None
        rows.extend(inbound_item_row(item, SOURCE_SHIPMENT_ID, fetched_at, shipment_id) for item in by_id)
    return rows


def fetch_fulfillment_order_rows(client: SPAPIClient, marketplace_id: str, start: datetime, fetched_at: datetime,
                                 include_pii: bool = False) -> list[dict[str, Any]]:
    """Fulfillment orders updated at or after ``start`` in this marketplace.

    listAllFulfillmentOrders has no marketplace parameter: it lists every marketplace of the
    credential's region, so the other marketplaces' orders are dropped here.
    """
    orders = list_all_fulfillment_orders(client, query_start_date=start)
    return [fulfillment_order_row(order, fetched_at, include_pii) for order in orders
            if order.get("marketplaceId") == marketplace_id]
