"""FBA inbound (QueryType=NEXT_TOKEN + NextToken) and outbound (payload.nextToken) calls page through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sp_assets.lib.shipments import (
    get_shipment_items,
    get_shipment_items_by_shipment_id,
    get_shipments,
    list_all_fulfillment_orders,
)
from sp_assets_tests.lib.spapi.support import US, client_for


def test_inbound_shipments_and_items_page_through(sandbox_factory) -> None:
    sb = sandbox_factory(extra={"page_sizes": {"inbound_shipments": 3, "inbound_items": 4}})
    now = datetime.now(UTC)
    after, before = now - timedelta(days=50), now - timedelta(days=20)
    truth = sb.backend("inbound").shipments_updated_between(US, after, before)
    with client_for(sb) as client:
        by_date = list(get_shipments(client, US, last_updated_after=after, last_updated_before=before))
        items = list(get_shipment_items(client, US, last_updated_after=after, last_updated_before=before))
        wanted = [s.shipment_id for s in truth[:5]]
        by_ids = list(get_shipments(client, US, shipment_ids=wanted))
        closed = list(get_shipments(client, US, shipment_ids=wanted, statuses=["CLOSED"]))
        first = by_date[0]["ShipmentId"]
        by_id = get_shipment_items_by_shipment_id(client, first)
    assert len(truth) > 3 and [s["ShipmentId"] for s in by_date] == [s.shipment_id for s in truth]
    assert sb.stats.get("getShipments.400") == 0 and sb.stats.get("getShipmentItems.400") == 0
    assert len(items) > 4 and sum(len(s.items_json()) for s in truth) == len(items)
    assert [s["ShipmentId"] for s in by_ids] == wanted
    assert [s["ShipmentId"] for s in closed] == [s.shipment_id for s in truth[:5] if s.status == "CLOSED"]
    assert by_id and all(i["ShipmentId"] == first for i in by_id)
    with pytest.raises(ValueError, match="statuses"):
        list(get_shipments(client, US))


def test_outbound_fulfillment_orders_page_through(sandbox_factory) -> None:
    sb = sandbox_factory(extra={"page_sizes": {"outbound": 10}})
    with client_for(sb) as client:
        orders = list(list_all_fulfillment_orders(client, datetime.now(UTC) - timedelta(days=5)))
    ids = [o["sellerFulfillmentOrderId"] for o in orders]
    assert len(ids) > 10 and len(set(ids)) == len(ids)
    assert sb.stats.get("listAllFulfillmentOrders.served") == -(-len(ids) // 10)
