"""FBA Inbound v0 in the sandbox: getShipments, getShipmentItems and getShipmentItemsByShipmentId against
Amazon's model (fulfillmentInboundV0.json), QueryType rules, status filters, NEXT_TOKEN paging, and
agreement with the seller's shipments (which move WORKING -> ... -> CLOSED over days).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox.backends.inbound import InboundBackend
from sp_assets.sandbox.seller import SyntheticSeller
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller, caller

from .contract import validate_response

MODEL = "fulfillmentInboundV0.json"
SHIPMENTS = "/fba/inbound/v0/shipments"
ITEMS = "/fba/inbound/v0/shipmentItems"
US = by_code("us").marketplace_id
JP = by_code("jp").marketplace_id


def get(sb: SandboxServer, token: SandboxCaller, path: str, **params: object) -> requests.Response:
    return token.get(path, params=params)


@pytest.fixture
def frozen(sandbox_factory) -> tuple[SandboxServer, SandboxCaller, datetime]:
    """A sandbox with small pages and a frozen clock (ground truth and answers see the same moment)."""
    sb = sandbox_factory(speed=100.0, extra={"page_sizes": {"inbound_shipments": 5, "inbound_items": 7}})
    now = datetime.now(UTC).replace(microsecond=0)
    sb.seller.clock = lambda: now
    return sb, caller(sb, "Atzr|sandbox-na-inbound"), now


def fetch_all(sb: SandboxServer, token: SandboxCaller, path: str, key: str,
              **query: object) -> tuple[list[dict], list[dict]]:
    """Page with QueryType=NEXT_TOKEN as a client must; returns (records, bodies)."""
    bodies = [get(sb, token, path, MarketplaceId=US, **query).json()]
    while "NextToken" in bodies[-1]["payload"]:
        bodies.append(get(sb, token, path, MarketplaceId=US, QueryType="NEXT_TOKEN",
                          NextToken=bodies[-1]["payload"]["NextToken"]).json())
    return [r for body in bodies for r in body["payload"][key]], bodies


def test_date_range_pages_match_contract_and_ground_truth(frozen) -> None:
    sb, token, now = frozen
    after, before = now - timedelta(days=60), now - timedelta(days=2)
    shipments, bodies = fetch_all(sb, token, SHIPMENTS, "ShipmentData", QueryType="DATE_RANGE",
                                  LastUpdatedAfter=after.isoformat(), LastUpdatedBefore=before.isoformat())
    assert len(bodies) >= 3, "5 a page over 60 days must page"
    assert {"+", "/"} <= set(bodies[0]["payload"]["NextToken"]), "tokens need percent-encoding"
    for body in bodies:
        validate_response(MODEL, "getShipments", 200, body, strict=True)
    truth = sb.backend("inbound").shipments_updated_between(US, after, before, now)
    assert shipments == [s.to_json() for s in truth]
    assert len({s["ShipmentId"] for s in shipments}) == len(shipments)
    assert {s["ShipmentStatus"] for s in shipments} <= {"CLOSED", "CANCELLED", "DELETED", "RECEIVING",
                                                         "IN_TRANSIT", "SHIPPED", "WORKING"}

    items, item_bodies = fetch_all(sb, token, ITEMS, "ItemData", QueryType="DATE_RANGE",
                                   LastUpdatedAfter=after.isoformat(), LastUpdatedBefore=before.isoformat())
    for body in item_bodies:
        validate_response(MODEL, "getShipmentItems", 200, body, strict=True)
    assert len(item_bodies) >= 2
    assert items == [item for s in truth for item in s.items_json()]


def test_status_and_id_filters(frozen) -> None:
    sb, token, now = frozen
    backend = sb.backend("inbound")
    recent = backend.shipments(US, now, since=now - timedelta(days=30))
    open_statuses = ["WORKING", "SHIPPED", "IN_TRANSIT", "RECEIVING"]
    served, bodies = fetch_all(sb, token, SHIPMENTS, "ShipmentData", QueryType="SHIPMENT",
                               ShipmentStatusList=",".join(open_statuses))
    validate_response(MODEL, "getShipments", 200, bodies[0], strict=True)
    truth = [s for s in backend.shipments(US, now) if s.status in open_statuses]
    assert served == [s.to_json() for s in truth] and served, "a month has open shipments"

    closed_ids = [s.shipment_id for s in recent if s.status == "CLOSED"][:3]
    open_ids = [s.shipment_id for s in recent if s.status != "CLOSED"][:3]
    assert closed_ids and open_ids, "a month has closed and open shipments"
    ids = open_ids + closed_ids
    by_id, _ = fetch_all(sb, token, SHIPMENTS, "ShipmentData", QueryType="SHIPMENT",
                         ShipmentIdList=",".join(ids + ["FBA000000000"]))
    assert [s["ShipmentId"] for s in by_id] == ids
    both, _ = fetch_all(sb, token, SHIPMENTS, "ShipmentData", QueryType="SHIPMENT", ShipmentIdList=",".join(ids),
                        ShipmentStatusList="CLOSED")
    assert [s["ShipmentId"] for s in both] == closed_ids, "the two lists are ANDed"


def test_items_by_shipment_id(frozen, sandbox: SandboxServer) -> None:
    sb, token, now = frozen
    shipment = sb.backend("inbound").shipments(US, now, since=now - timedelta(days=20))[0]
    answer = get(sb, token, f"{SHIPMENTS}/{shipment.shipment_id}/items")
    assert answer.status_code == 200, answer.text
    validate_response(MODEL, "getShipmentItemsByShipmentId", 200, answer.json(), strict=True)
    assert answer.json()["payload"]["ItemData"] == shipment.items_json()
    products = {p.sku: p for p in sb.seller.products(US)}
    for item in answer.json()["payload"]["ItemData"]:
        assert products[item["SellerSKU"]].fulfillment_channel == "AFN"
        assert item["FulfillmentNetworkSKU"] == products[item["SellerSKU"]].fnsku
        assert 0 <= item["QuantityReceived"] <= item["QuantityShipped"]

    unknown = get(sb, token, f"{SHIPMENTS}/FBA000000000/items")
    assert unknown.status_code == 404
    validate_response(MODEL, "getShipmentItemsByShipmentId", 404, unknown.json(), strict=True)
    japanese = sb.backend("inbound").shipments(JP, now, since=now - timedelta(days=60))[0]
    other_region = get(sb, token, f"{SHIPMENTS}/{japanese.shipment_id}/items")
    assert other_region.status_code == 404, "an NA token does not see FE shipments"


@pytest.mark.parametrize(("path", "params", "status", "detail"), [
    (SHIPMENTS, {"QueryType": "SHIPMENT", "ShipmentStatusList": "WORKING,PACKED"}, 400, "WORKING, READY_TO_SHIP"),
    (SHIPMENTS, {"QueryType": "SHIPMENT"}, 400, "ShipmentStatusList or ShipmentIdList"),
    (SHIPMENTS, {"QueryType": "SHIPMENT", "ShipmentIdList": ",".join(f"FBA{i:09d}" for i in range(1000))},
     400, "at most 999"),
    (SHIPMENTS, {}, 400, "QueryType"),
    (SHIPMENTS, {"QueryType": "ALL"}, 400, "QueryType"),
    (SHIPMENTS, {"QueryType": "DATE_RANGE"}, 400, "LastUpdatedAfter"),
    (SHIPMENTS, {"QueryType": "DATE_RANGE", "LastUpdatedAfter": "2025-02-01T00:00:00Z",
                 "LastUpdatedBefore": "2025-01-01T00:00:00Z"}, 400, "earlier"),
    (SHIPMENTS, {"QueryType": "NEXT_TOKEN"}, 400, "NextToken"),
    (SHIPMENTS, {"QueryType": "NEXT_TOKEN", "NextToken": "garbage"}, 400, "NextToken"),
    (SHIPMENTS, {"QueryType": "SHIPMENT", "ShipmentStatusList": "WORKING", "MarketplaceId": JP}, 403, "region"),
    (SHIPMENTS, {"QueryType": "SHIPMENT", "ShipmentStatusList": "WORKING", "MarketplaceId": None}, 400,
     "MarketplaceId"),
    (ITEMS, {"QueryType": "SHIPMENT"}, 400, "DATE_RANGE, NEXT_TOKEN"),
])
def test_bad_queries(sandbox: SandboxServer, path: str, params: dict, status: int, detail: str) -> None:
    token = caller(sandbox, "Atzr|sandbox-na-inbound-errors")
    answer = get(sandbox, token, path, **{"MarketplaceId": US, **params})
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["errors"][0]["details"]
    operation = "getShipments" if path == SHIPMENTS else "getShipmentItems"
    validate_response(MODEL, operation, status, answer.json(), strict=True)


def test_shipments_move_through_their_statuses() -> None:
    backend = InboundBackend(SyntheticSeller(seed=7))
    moment = datetime(2025, 6, 1, tzinfo=UTC)
    plans = [p for day in range(60) for p in backend.day_plans(US, (moment - timedelta(days=day)).date())]
    assert 12 <= len(plans) <= 40, "a few shipments a week"
    seen_paths = set()
    for plan in plans:
        moments = sorted({c.at + timedelta(seconds=s) for c in plan.timeline for s in (-1, 0, 3600)}
                         - {plan.created - timedelta(seconds=1)})
        states = [plan.at(m) for m in moments]
        statuses = [s.status for s in states]
        path = tuple(dict.fromkeys(statuses))
        seen_paths.add(path)
        assert path in {("WORKING", "DELETED"), ("WORKING", "SHIPPED", "CANCELLED"),
                        ("WORKING", "SHIPPED", "IN_TRANSIT", "RECEIVING", "CLOSED")}, path
        assert [s.last_updated for s in states] == sorted(s.last_updated for s in states)
        assert all(s.last_updated <= m for s, m in zip(states, moments, strict=True))
        received = [sum(r for _, r in s.items()) for s in states]
        assert received == sorted(received), "units received never go down"
        assert backend.plan(plan.shipment_id) is plan, "an id finds its shipment"
    assert ("WORKING", "SHIPPED", "IN_TRANSIT", "RECEIVING", "CLOSED") in seen_paths
