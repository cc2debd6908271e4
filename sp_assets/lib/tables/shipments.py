"""FBA inbound shipments and their items (Inbound v0), and multi-channel fulfillment orders (Outbound
2020-07-01): table specs and record-to-row mapping.

All three tables are merged by their key. Inbound v0 returns a shipment's current state but no
last-update time, so ``fetched_at`` (when the API was asked) is their version: a run that fetched
earlier can never overwrite what a later run wrote. Fulfillment orders carry Amazon's
``statusUpdatedDate``, which is their version.

Destination addresses and notification e-mails of fulfillment orders are the buyer's personal data:
they stay null unless the marketplace's configuration sets ``include_pii: true`` (city, region,
postal and country codes are kept, as for orders).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sp_assets.lib.tables.base import (
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

FEE = decimal_type(18, 4)  # per-unit fees can have more than two decimals
SOURCE_WINDOW = "updated_in_window"
SOURCE_SHIPMENT_ID = "configured_shipment_id"
FULFILLMENT_ORDER_STATUSES = ("New", "Received", "Planning", "Processing", "Cancelled", "Complete",
                              "CompletePartialled", "Unfulfillable", "Invalid")
_STATUS_BY_UPPER = {status.upper(): status for status in FULFILLMENT_ORDER_STATUSES}

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
