"""FBA Inbound v0: ``getShipments``, ``getShipmentItems`` and ``getShipmentItemsByShipmentId``.

Pages continue with ``QueryType=NEXT_TOKEN`` and the ``NextToken`` of ``payload.NextToken``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from .http import SPAPIClient, path_segment
from .pages import INBOUND_V0, iter_records, payload_list

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
