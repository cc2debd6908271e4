"""FBA Outbound 2020-07-01 in the sandbox: listAllFulfillmentOrders against Amazon's model
(fulfillmentOutbound_2020-07-01.json), ``payload.nextToken`` paging, the region a token sees, and
fulfillment orders whose status moves over time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from sp_assets.lib.marketplaces import by_code, in_region
from sp_assets.sandbox.backends.outbound import OutboundBackend
from sp_assets.sandbox.seller import SyntheticSeller
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller, caller

from .contract import validate_response

MODEL = "fulfillmentOutbound_2020-07-01.json"
OP = "listAllFulfillmentOrders"
PATH = "/fba/outbound/2020-07-01/fulfillmentOrders"
US = by_code("us").marketplace_id


def get(sb: SandboxServer, token: SandboxCaller, **params: object) -> requests.Response:
    return token.get(PATH, params=params)


@pytest.fixture
def frozen(sandbox_factory) -> tuple[SandboxServer, datetime]:
    sb = sandbox_factory(speed=100.0, extra={"page_sizes": {"outbound": 10}})
    now = datetime.now(UTC).replace(microsecond=0)
    sb.seller.clock = lambda: now
    return sb, now


def fetch_all(sb: SandboxServer, token: SandboxCaller, **query: object) -> list[dict]:
    bodies = [get(sb, token, **query).json()]
    while "nextToken" in bodies[-1]["payload"]:
        bodies.append(get(sb, token, nextToken=bodies[-1]["payload"]["nextToken"]).json())
    for body in bodies:
        validate_response(MODEL, OP, 200, body, strict=True)
    return bodies


def test_default_window_is_the_last_36_hours_of_the_region(frozen) -> None:
    sb, now = frozen
    token = caller(sb, "Atzr|sandbox-na-outbound")
    bodies = fetch_all(sb, token)
    orders = [o for body in bodies for o in body["payload"]["fulfillmentOrders"]]
    truth = sb.backend("outbound").region_fulfillment_orders("NA", now, now - timedelta(hours=36))
    assert orders == [o.to_json() for o in truth] and orders
    assert {o["marketplaceId"] for o in orders} <= {m.marketplace_id for m in in_region("NA")}
    assert all(o["statusUpdatedDate"] >= (now - timedelta(hours=36)).strftime("%Y-%m-%dT%H:%M:%SZ") for o in orders)


def test_pages_with_next_token_cover_the_window_once(frozen) -> None:
    sb, now = frozen
    token = caller(sb, "Atzr|sandbox-na-outbound")
    start = now - timedelta(days=10)
    bodies = fetch_all(sb, token, queryStartDate=start.isoformat())
    assert len(bodies) >= 4, "10 a page over 10 days must page"
    assert {"+", "/"} <= set(bodies[0]["payload"]["nextToken"])
    orders = [o for body in bodies for o in body["payload"]["fulfillmentOrders"]]
    ids = [o["sellerFulfillmentOrderId"] for o in orders]
    assert len(ids) == len(set(ids))
    assert [o["statusUpdatedDate"] for o in orders] == sorted(o["statusUpdatedDate"] for o in orders)
    truth = sb.backend("outbound").region_fulfillment_orders("NA", now, start)
    assert orders == [o.to_json() for o in truth]
    statuses = {o["fulfillmentOrderStatus"] for o in orders}
    assert "Complete" in statuses and len(statuses) >= 2, "ten days hold finished and unfinished orders"


def test_each_region_sees_its_own_marketplaces(sandbox: SandboxServer) -> None:
    week = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    for region in ("EU", "FE"):
        token = caller(sandbox, f"Atzr|sandbox-{region.lower()}-outbound-region")
        orders = [o for body in fetch_all(sandbox, token, queryStartDate=week) for o in body["payload"]["fulfillmentOrders"]]
        assert orders and {o["marketplaceId"] for o in orders} <= {m.marketplace_id for m in in_region(region)}


def test_statuses_move_over_time() -> None:
    backend = OutboundBackend(SyntheticSeller(seed=7))
    plans = [p for d in range(20) for p in backend.day_plans(US, datetime(2025, 3, 1 + d, tzinfo=UTC).date())]
    assert 40 <= len(plans) <= 120, "a few a day"
    finals = set()
    for plan in plans:
        moments = sorted({c.at + timedelta(seconds=s) for c in plan.timeline for s in (-1, 0, 3600)}
                         - {plan.received_date - timedelta(seconds=1)})
        states = [plan.at(m) for m in moments]
        path = tuple(dict.fromkeys(s.status for s in states))
        assert path[:2] == ("New", "Received"), path
        assert path[-1] in ("Complete", "CompletePartialled", "Cancelled", "Unfulfillable")
        assert [s.status_updated_date for s in states] == sorted(s.status_updated_date for s in states)
        assert all(plan.received_date <= s.status_updated_date <= m for s, m in zip(states, moments, strict=True))
        finals.add(path[-1])
    assert {"Complete", "Cancelled"} <= finals


@pytest.mark.parametrize(("params", "detail"), [
    ({"queryStartDate": "last week"}, "queryStartDate"),
    ({"queryStartDate": "2999-01-01T00:00:00Z"}, "future"),
    ({"nextToken": "not-a-token"}, "nextToken"),
])
def test_bad_input_is_a_400(sandbox: SandboxServer, params: dict, detail: str) -> None:
    token = caller(sandbox, "Atzr|sandbox-na-outbound-errors")
    answer = get(sandbox, token, **params)
    assert answer.status_code == 400, answer.text
    assert detail in answer.json()["errors"][0]["details"]
    validate_response(MODEL, OP, 400, answer.json(), strict=True)


def test_a_next_token_is_bound_to_its_region(frozen) -> None:
    sb, now = frozen
    na = caller(sb, "Atzr|sandbox-na-outbound")
    eu = caller(sb, "Atzr|sandbox-eu-outbound")
    token = get(sb, na, queryStartDate=(now - timedelta(days=5)).isoformat()).json()["payload"]["nextToken"]
    answer = get(sb, eu, nextToken=token)
    assert answer.status_code == 400 and "region" in answer.json()["errors"][0]["details"]
