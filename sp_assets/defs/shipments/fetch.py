"""API pages to rows for FBA inbound shipments and multi-channel fulfillment orders.

Inbound v0's date range covers both ends and is clamped to now (a window that ends tomorrow asks for
nothing that exists yet). The configured statuses go to Amazon with the ``DATE_RANGE`` query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sp_assets.lib.spapi import inbound as inbound_api
from sp_assets.lib.spapi import outbound as outbound_api
from sp_assets.lib.spapi.errors import NotFoundError
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tables.shipments import (
    SOURCE_SHIPMENT_ID,
    SOURCE_WINDOW,
    fulfillment_order_row,
    inbound_item_row,
    inbound_shipment_row,
)


class UnknownShipmentError(LookupError):
    """A configured inbound shipment id that Amazon does not know for this seller."""


def clamp_to_now(end: datetime, now: datetime | None = None) -> datetime:
    return min(end, now or datetime.now(UTC))


def fetch_inbound_shipment_rows(client: SPAPIClient, marketplace_id: str, start: datetime, end: datetime,
                                statuses: Sequence[str], fetched_at: datetime) -> list[dict[str, Any]]:
    """Shipments last updated in [start, end] (getShipments, DATE_RANGE), kept if in ``statuses`` (if any)."""
    shipments = inbound_api.get_shipments(client, marketplace_id, statuses=list(statuses) or None,
                                          last_updated_after=start, last_updated_before=clamp_to_now(end, fetched_at))
    return [inbound_shipment_row(s, marketplace_id, fetched_at) for s in shipments]


def fetch_inbound_item_rows(client: SPAPIClient, marketplace_id: str, start: datetime, end: datetime,
                            shipment_ids: Sequence[str], fetched_at: datetime) -> list[dict[str, Any]]:
    """Items of shipments updated in [start, end] (getShipmentItems), then the items of each configured
    shipment id (getShipmentItemsByShipmentId); an unknown id raises ``UnknownShipmentError``."""
    items = inbound_api.get_shipment_items(client, marketplace_id, last_updated_after=start,
                                           last_updated_before=clamp_to_now(end, fetched_at))
    rows = [inbound_item_row(item, SOURCE_WINDOW, fetched_at) for item in items]
    for shipment_id in dict.fromkeys(shipment_ids):
        try:
            by_id = inbound_api.get_shipment_items_by_shipment_id(client, shipment_id)
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
    orders = outbound_api.list_all_fulfillment_orders(client, query_start_date=start)
    return [fulfillment_order_row(order, fetched_at, include_pii) for order in orders
            if order.get("marketplaceId") == marketplace_id]
