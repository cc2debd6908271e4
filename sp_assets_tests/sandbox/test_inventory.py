"""FBA Inventory v1 in the sandbox: Amazon's contract (fbaInventory.json), its paging rules (top-level
``pagination``, nextToken expiring after 30 s, startDateTime resent with every page) and agreement
with the seller's ground truth (FBA products only, stock moving with the AFN orders and shipments).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox.backends.inventory import InventoryBackend
from sp_assets.sandbox.seller import SyntheticSeller
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller, caller

from .contract import validate_response

MODEL = "fbaInventory.json"
OP = "getInventorySummaries"
PATH = "/fba/inventory/v1/summaries"
US = by_code("us").marketplace_id
TRICKY = ["MUG 12oz BLUE", "CABLE+USB/C-1M", 'TEE "VINTAGE" L']


def get(sb: SandboxServer, token: SandboxCaller, **params: object) -> requests.Response:
    """One call; a 429 (burst 2) is retried by polling until the bucket has a token again."""
    deadline = time.monotonic() + 5.0
    while True:
        answer = token.get(PATH, params=params)
        if answer.status_code != 429 or time.monotonic() > deadline:
            return answer
        time.sleep(0.002)


def market(**extra: object) -> dict[str, object]:
    return {"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US, **extra}


@pytest.fixture
def na(sandbox: SandboxServer, request: pytest.FixtureRequest) -> SandboxCaller:
    """A caller of this test's own refresh token: burst 2 is per seller, so tests never share a bucket."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[-50:]
    return caller(sandbox, f"Atzr|sandbox-na-{name}")


def frozen(sb: SandboxServer, moment: datetime) -> datetime:
    sb.seller.clock = lambda: moment
    return moment


def test_summaries_match_contract_and_ground_truth(sandbox_factory) -> None:
    sb = sandbox_factory(speed=100.0)
    now = frozen(sb, datetime.now(UTC).replace(microsecond=0))
    token = caller(sb, "Atzr|sandbox-na-inventory")
    answer = get(sb, token, **market(details="true"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    validate_response(MODEL, OP, 200, body, strict=True)
    assert body["payload"]["granularity"] == {"granularityType": "Marketplace", "granularityId": US}
    assert "pagination" in body and "pagination" not in body["payload"], "pagination sits beside payload"

    truth = sb.backend("inventory").inventory_summaries(US, now)
    assert [s.to_json(True) for s in truth] == body["payload"]["inventorySummaries"]
    afn = sorted(p.sku for p in sb.seller.products(US) if p.fulfillment_channel == "AFN")
    assert [s["sellerSku"] for s in body["payload"]["inventorySummaries"]] == afn, "only FBA products"
    for summary in body["payload"]["inventorySummaries"]:
        details = summary["inventoryDetails"]
        assert summary["lastUpdatedTime"] <= now.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert summary["totalQuantity"] == (
            details["fulfillableQuantity"] + details["inboundWorkingQuantity"] + details["inboundShippedQuantity"]
            + details["inboundReceivingQuantity"] + details["reservedQuantity"]["totalReservedQuantity"]
            + details["researchingQuantity"]["totalResearchingQuantity"]
            + details["unfulfillableQuantity"]["totalUnfulfillableQuantity"])

    plain = get(sb, token, **market()).json()
    assert all("inventoryDetails" not in s for s in plain["payload"]["inventorySummaries"])


def test_stock_follows_orders_and_inbound_shipments() -> None:
    """Reserved units are the AFN orders still pending at the change; inbound units are open shipments."""
    seller = SyntheticSeller(seed=7, orders_per_day=120)
    backend = InventoryBackend(seller)
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    summaries = backend.inventory_summaries(US, moment)
    for summary in summaries[:8]:
        changed = summary.last_updated_time
        assert changed == backend.last_change(US, summary.seller_sku, moment)
        orders = seller.orders_created_between(US, changed - timedelta(days=3), changed, as_of=changed)
        pending = sum(i.quantity for o in orders if o.fulfillment_channel == "AFN"
                      and o.status in ("Pending", "Unshipped") for i in o.items if i.sku == summary.seller_sku)
        assert summary.pending_customer_order == pending
    inbound = backend.inbound.inbound_units(US, moment)
    assert {s.seller_sku: (s.inbound_working, s.inbound_shipped, s.inbound_receiving) for s in summaries
            if s.seller_sku in inbound} == inbound

    # Stock moves daily: a week later every SKU has a new lastUpdatedTime and most quantities differ.
    later = backend.inventory_summaries(US, moment + timedelta(days=7))
    assert all(a.last_updated_time < b.last_updated_time for a, b in zip(summaries, later, strict=True))
    assert sum(a.fulfillable != b.fulfillable for a, b in zip(summaries, later, strict=True)) > len(later) // 2
    # Same seed, another instance (as another process would have): the same answer.
    again = InventoryBackend(SyntheticSeller(seed=7, orders_per_day=120)).inventory_summaries(US, moment)
    assert again == summaries


def test_pages_and_start_date_time_must_be_resent(sandbox_factory) -> None:
    sb = sandbox_factory(speed=100.0, extra={"page_sizes": {"inventory": 7}})
    now = frozen(sb, datetime.now(UTC).replace(microsecond=0))
    token = caller(sb, "Atzr|sandbox-na-inventory")
    start = now - timedelta(hours=12)
    expected = [s.seller_sku for s in sb.backend("inventory").inventory_summaries(US, now)
                if s.last_updated_time >= start]
    assert 7 < len(expected) < 40, "the window must select some SKUs but not all, and more than a page"

    query = market(startDateTime=start.isoformat(), sellerSkus="KIT-01-BLK")  # SKUs are ignored with a start
    pages = [get(sb, token, **query).json()]
    next_token = pages[0]["pagination"]["nextToken"]
    assert {"+", "/", "="} <= set(next_token), "tokens are base64 with +/=: clients must percent-encode them"

    missing_start = get(sb, token, **market(nextToken=next_token))
    assert missing_start.status_code == 400
    assert "startDateTime" in missing_start.json()["errors"][0]["details"]
    validate_response(MODEL, OP, 400, missing_start.json(), strict=True)

    while "nextToken" in pages[-1]["pagination"]:
        pages.append(get(sb, token, **market(startDateTime=start.isoformat(),
                                              nextToken=pages[-1]["pagination"]["nextToken"])).json())
    for page in pages:
        validate_response(MODEL, OP, 200, page, strict=True)
    served = [s["sellerSku"] for page in pages for s in page["payload"]["inventorySummaries"]]
    assert served == expected
    assert all(len(page["payload"]["inventorySummaries"]) == 7 for page in pages[:-1])


def test_next_token_expires_after_30_scaled_seconds(sandbox_factory) -> None:
    sb = sandbox_factory(speed=30.0, extra={"page_sizes": {"inventory": 10}})  # 30 s -> 1 s
    token = caller(sb, "Atzr|sandbox-na-inventory")
    first = get(sb, token, **market())
    issued = time.monotonic()
    next_token = first.json()["pagination"]["nextToken"]
    assert get(sb, token, **market(nextToken=next_token)).status_code == 200

    deadline = issued + 10.0
    while True:
        answer = get(sb, token, **market(nextToken=next_token))
        if answer.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # polling interval while waiting for the expiry, not synchronisation
    assert answer.status_code == 400, "the token never expired"
    assert time.monotonic() - issued >= 0.9, "a token must live 30 s / speed"
    error = answer.json()["errors"][0]
    assert "expired" in error["details"] and "nextToken" in error["details"]
    validate_response(MODEL, OP, 400, answer.json(), strict=True)


def test_seller_skus_filter_round_trips_tricky_skus(sandbox: SandboxServer, na: SandboxCaller) -> None:
    answer = get(sandbox, na, **market(sellerSkus=",".join(TRICKY + ["NOT-A-SKU"])))
    assert answer.status_code == 200, answer.text
    assert sorted(s["sellerSku"] for s in answer.json()["payload"]["inventorySummaries"]) == sorted(TRICKY)
    single = get(sandbox, na, **market(sellerSku="CABLE+USB/C-1M")).json()["payload"]["inventorySummaries"]
    assert [s["sellerSku"] for s in single] == ["CABLE+USB/C-1M"]


@pytest.mark.parametrize(("params", "detail"), [
    (market(sellerSkus=",".join(f"S{i}" for i in range(51))), "at most 50"),
    (market(startDateTime="2019-01-01T00:00:00Z"), "18 months"),
    (market(startDateTime="yesterday"), "startDateTime"),
    (market(marketplaceIds=f"{US},A2EUQ1WTGCTBG2"), "at most 1"),
    ({"granularityId": US, "marketplaceIds": US}, "granularityType"),
    (market(granularityType="Country"), "granularityType"),
    (market(granularityId="A2EUQ1WTGCTBG2"), "granularityId"),
    (market(nextToken="bm90LWEtdG9rZW4="), "nextToken"),
    (market(details="yes"), "details"),
])
def test_bad_input_is_a_400_naming_the_field(sandbox: SandboxServer, na: SandboxCaller, params: dict,
                                             detail: str) -> None:
    answer = get(sandbox, na, **params)
    assert answer.status_code == 400, answer.text
    assert detail in answer.json()["errors"][0]["details"]
    validate_response(MODEL, OP, 400, answer.json(), strict=True)


def test_a_token_of_another_region_is_denied(sandbox: SandboxServer) -> None:
    fe = caller(sandbox, "Atzr|sandbox-fe-inventory-region")
    answer = get(sandbox, fe, **market())
    assert answer.status_code == 403
    validate_response(MODEL, OP, 403, answer.json(), strict=True)
    jp = by_code("jp").marketplace_id
    ok = get(sandbox, fe, granularityType="Marketplace", granularityId=jp, marketplaceIds=jp)
    assert ok.status_code == 200
    assert ok.json()["payload"]["inventorySummaries"][0]["productName"].isascii() is False  # Japanese titles
