"""Orders v2026-01-01 in the sandbox: Amazon's contract (orders_2026-01-01.json), its rules, and agreement
with Orders v0 and the synthetic seller.

Every answer comes over real HTTP and is checked against Amazon's own model (strictly: no property the
model does not declare). v2026 must serve the same orders, items and amounts as v0, since a client that
migrates must not see its data change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller, caller

from .contract import validate_response

# The same values as sp_assets_tests/conftest.py (pytest does not support importing a conftest).
MODEL = "orders_2026-01-01.json"
SEARCH = "/orders/2026-01-01/orders"
US = by_code("us").marketplace_id
CA = by_code("ca").marketplace_id
JP = by_code("jp").marketplace_id
ALL_BLOCKS = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES,PROMOTION,CANCELLATION"
V0_TO_2026 = {"Pending": "PENDING", "Unshipped": "UNSHIPPED", "PartiallyShipped": "PARTIALLY_SHIPPED",
              "Shipped": "SHIPPED", "Canceled": "CANCELLED"}


def get(sb: SandboxServer, path: str, token: SandboxCaller | None, **params: object) -> requests.Response:
    if token is None:
        return requests.get(sb.base_url + path, params=params, timeout=30)
    return token.get(path, params=params)


def day_start(days_ago: int) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


def amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])


def search_all(sb: SandboxServer, token: SandboxCaller,
               **query: object) -> tuple[list[dict], list[requests.Response]]:
    """Page through searchOrders as the model asks: the same parameters again, plus paginationToken."""
    answers = [get(sb, SEARCH, token, **query)]
    while answers[-1].status_code == 200 and "pagination" in answers[-1].json():
        answers.append(get(sb, SEARCH, token, **query,
                           paginationToken=answers[-1].json()["pagination"]["nextToken"]))
    orders = [order for answer in answers if answer.status_code == 200 for order in answer.json()["orders"]]
    return orders, answers


@pytest.fixture
def na(sandbox: SandboxServer, request: pytest.FixtureRequest) -> SandboxCaller:
    """A caller whose refresh token is this test's own, so each test has full buckets."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[-50:]
    return caller(sandbox, f"Atzr|sandbox-na-o26-{name}")


# -------------------------------------------------------------------------------------- searchOrders
def test_search_orders_pages_match_contract_and_serve_v0s_orders(sandbox: SandboxServer,
                                                                 na: SandboxCaller) -> None:
    start, end = day_start(5), day_start(4)
    query = {"marketplaceIds": US, "createdAfter": start.isoformat(), "createdBefore": end.isoformat(),
             "maxResultsPerPage": 40, "includedData": ALL_BLOCKS}
    orders, answers = search_all(sandbox, na, **query)
    assert len(answers) >= 3, "120 orders a day in pages of 40 must page"
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-amzn-RateLimit-Limit"] == "5.6"  # 0.0056/s at speed 1000
        body = answer.json()
        validate_response(MODEL, "searchOrders", 200, body, strict=True)
        assert body["createdBefore"] == end.strftime("%Y-%m-%dT%H:%M:%SZ") and "lastUpdatedBefore" not in body
        assert "payload" not in body
    tokens = [a.json()["pagination"]["nextToken"] for a in answers[:-1]]
    assert all({"+", "/", "="} <= set(t) for t in tokens), "tokens need percent-encoding, as Amazon's"

    truth = sandbox.seller.orders_created_between(US, start, end)
    assert [o["orderId"] for o in orders] == [o.amazon_order_id for o in truth]
    v0 = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US, CreatedAfter=start.isoformat(),
             CreatedBefore=end.isoformat(), MaxResultsPerPage=100).json()["payload"]["Orders"]
    by_id = {o["AmazonOrderId"]: o for o in v0}
    for order in orders[:100]:
        old = by_id[order["orderId"]]
        assert (order["createdTime"], order["lastUpdatedTime"]) == (old["PurchaseDate"], old["LastUpdateDate"])
        assert order["fulfillment"]["fulfillmentStatus"] == V0_TO_2026[old["OrderStatus"]]
        assert order["fulfillment"]["fulfilledBy"] == {"AFN": "AMAZON", "MFN": "MERCHANT"}[old["FulfillmentChannel"]]
        assert order["proceeds"]["grandTotal"] == {"amount": old["OrderTotal"]["Amount"],
                                                   "currencyCode": old["OrderTotal"]["CurrencyCode"]}
        assert order["salesChannel"]["marketplaceName"] == old["SalesChannel"]
        assert ("PRIME" in order.get("programs", [])) == old["IsPrime"]


def v0_order_items(sb: SandboxServer, token: SandboxCaller, order_id: str) -> list[dict]:
    """Every v0 item of an order, paged (an order of more than 3 items has a second page here)."""
    path = f"/orders/v0/orders/{order_id}/orderItems"
    pages = [get(sb, path, token).json()["payload"]]
    while "NextToken" in pages[-1]:
        pages.append(get(sb, path, token, NextToken=pages[-1]["NextToken"]).json()["payload"])
    return [item for page in pages for item in page["OrderItems"]]


def test_items_are_inline_with_v0s_amounts_to_the_cent(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(9)
    orders, _ = search_all(sandbox, na, marketplaceIds=US, createdAfter=start.isoformat(),
                           createdBefore=(start + timedelta(hours=8)).isoformat(), includedData="PROCEEDS,FULFILLMENT")
    checked = 0
    for order in orders[:12]:
        v0_by_id = {i["OrderItemId"]: i for i in v0_order_items(sandbox, na, order["orderId"])}
        items_total = Decimal(0)
        for item in order["orderItems"]:
            old = v0_by_id[item["orderItemId"]]
            product = item["product"]
            assert (product["asin"], product["sellerSku"], product["title"]) == (old["ASIN"], old["SellerSKU"],
                                                                                 old["Title"])
            assert item["quantityOrdered"] == old["QuantityOrdered"]
            assert item["fulfillment"]["quantityFulfilled"] == old["QuantityShipped"]
            assert amount(product["price"]["unitPrice"]) * item["quantityOrdered"] == Decimal(old["ItemPrice"]["Amount"])
            parts = {b["type"]: b for b in item["proceeds"]["breakdowns"]}
            assert parts["ITEM"]["subtotal"]["amount"] == old["ItemPrice"]["Amount"]
            tax = {d["subtype"]: amount(d["value"]) for d in parts.get("TAX", {}).get("detailedBreakdowns", [])}
            assert tax.get("ITEM", Decimal(0)) == Decimal(old["ItemTax"]["Amount"])
            assert tax.get("SHIPPING", Decimal(0)) == Decimal(old["ShippingTax"]["Amount"])
            discount = -amount(parts["DISCOUNT"]["subtotal"]) if "DISCOUNT" in parts else Decimal(0)
            assert discount == Decimal(old["PromotionDiscount"]["Amount"])
            assert sum(amount(b["subtotal"]) for b in parts.values()) == amount(item["proceeds"]["proceedsTotal"])
            items_total += amount(item["proceeds"]["proceedsTotal"])
            checked += 1
        assert items_total == amount(order["proceeds"]["grandTotal"])
        assert len(order["orderItems"]) == len(v0_by_id)
    assert checked >= 12


def test_included_data_decides_the_optional_blocks(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(12)
    query = {"marketplaceIds": US, "createdAfter": start.isoformat(),
             "createdBefore": (start + timedelta(hours=6)).isoformat()}
    bare = get(sandbox, SEARCH, na, **query).json()
    validate_response(MODEL, "searchOrders", 200, bare, strict=True)
    optional = {"buyer", "recipient", "proceeds", "fulfillment", "packages"}
    for order in bare["orders"]:
        assert not optional & set(order), "no optional block without includedData"
        assert order["orderItems"] and all(set(i) == {"orderItemId", "quantityOrdered", "product"}
                                           for i in order["orderItems"])

    pii = get(sandbox, SEARCH, na, **query, includedData="BUYER,RECIPIENT").json()
    validate_response(MODEL, "searchOrders", 200, pii, strict=True)
    for order in pii["orders"]:
        truth = sandbox.seller.order(order["orderId"])
        # As v0's ShippingAddress: a delivery address once the order is to be shipped (not when canceled).
        has_address = truth.status in ("Unshipped", "PartiallyShipped", "Shipped")
        assert set(order) & optional == ({"buyer", "recipient"} if has_address else {"buyer"})
        assert order["buyer"]["buyerName"] == truth.buyer_name
        # The model: the buyer's email only for merchant-fulfilled orders.
        assert order["buyer"].get("buyerEmail") == (truth.buyer_email if truth.fulfillment_channel == "MFN" else None)
        if has_address:
            assert order["recipient"]["deliveryAddress"]["countryCode"] == "US"
    assert any("recipient" in o for o in pii["orders"]) and any(
        "buyerEmail" not in o["buyer"] for o in pii["orders"])

    repeated = na.get(f"{sandbox.base_url}{SEARCH}?includedData=PACKAGES&includedData=FULFILLMENT",
                      params=query).json()
    mfn_shipped = [o for o in repeated["orders"] if o["fulfillment"]["fulfilledBy"] == "MERCHANT"
                   and o["fulfillment"]["fulfillmentStatus"] == "SHIPPED"]
    assert mfn_shipped and all(o["packages"] for o in mfn_shipped), "repeated includedData is read too"
    assert all("packages" not in o for o in repeated["orders"] if o["fulfillment"]["fulfilledBy"] == "AMAZON")


def test_packages_ship_every_unit_of_a_merchant_order(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(15)
    orders, answers = search_all(sandbox, na, marketplaceIds=US, createdAfter=start.isoformat(),
                                 createdBefore=(start + timedelta(days=1)).isoformat(),
                                 includedData="PACKAGES,FULFILLMENT")
    validate_response(MODEL, "searchOrders", 200, answers[0].json(), strict=True)
    shipped = [o for o in orders if "packages" in o]
    assert shipped and any(len(o["packages"]) == 2 for o in shipped), "partial shipments make two packages"
    for order in shipped:
        sent: dict[str, int] = {}
        for package in order["packages"]:
            assert package["packageStatus"]["status"] == "DELIVERED"  # shipped two weeks ago
            for line in package["packageItems"]:
                sent[line["orderItemId"]] = sent.get(line["orderItemId"], 0) + line["quantity"]
        assert sent == {i["orderItemId"]: i["quantityOrdered"] for i in order["orderItems"]}


def test_pagination_token_needs_the_same_parameters(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(6)
    query = {"marketplaceIds": US, "createdAfter": start.isoformat(),
             "createdBefore": (start + timedelta(days=1)).isoformat(), "maxResultsPerPage": 10}
    first = get(sandbox, SEARCH, na, **query).json()
    token = first["pagination"]["nextToken"]

    # maxResultsPerPage and includedData may change between pages; the offset carries on.
    second = get(sandbox, SEARCH, na, **{**query, "maxResultsPerPage": 5, "includedData": "FULFILLMENT"},
                 paginationToken=token)
    assert second.status_code == 200, second.text
    validate_response(MODEL, "searchOrders", 200, second.json(), strict=True)
    assert len(second.json()["orders"]) == 5 and "fulfillment" in second.json()["orders"][0]
    everything, _ = search_all(sandbox, na, **{**query, "maxResultsPerPage": 100})
    assert [o["orderId"] for o in first["orders"] + second.json()["orders"]] == [
        o["orderId"] for o in everything[:15]]

    for changed, name in (({**query, "createdAfter": (start + timedelta(hours=1)).isoformat()}, "createdAfter"),
                          ({**query, "fulfillmentStatuses": "SHIPPED"}, "fulfillmentStatuses"),
                          ({"maxResultsPerPage": 10}, "createdAfter")):  # the token alone
        answer = get(sandbox, SEARCH, na, **changed, paginationToken=token)
        assert answer.status_code == 400, answer.text
        validate_response(MODEL, "searchOrders", 400, answer.json(), strict=True)
        assert "same parameters" in answer.json()["errors"][0]["details"]
        assert name in answer.json()["errors"][0]["details"]

    unencoded = na.get(f"{sandbox.base_url}{SEARCH}?marketplaceIds={US}&paginationToken={token}",
                       params={k: v for k, v in query.items() if k != "marketplaceIds"})
    assert unencoded.status_code == 400 and "paginationToken" in unencoded.json()["errors"][0]["details"]
    altered = get(sandbox, SEARCH, na, **query, paginationToken=token[:-8] + "AAAAAA==")
    assert altered.status_code == 400 and "not a token this service issued" in altered.json()["errors"][0]["details"]
    v0_token = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US, CreatedAfter=query["createdAfter"],
                   MaxResultsPerPage=1).json()["payload"]["NextToken"]
    assert get(sandbox, SEARCH, na, **query, paginationToken=v0_token).status_code == 400


def test_pagination_token_expires_after_24_scaled_hours(sandbox_factory) -> None:
    sb = sandbox_factory()
    token = caller(sb, "Atzr|sandbox-na-o26-expiry")
    query = {"marketplaceIds": US, "createdAfter": day_start(3).isoformat(),
             "createdBefore": day_start(2).isoformat(), "maxResultsPerPage": 10}
    next_token = get(sb, SEARCH, token, **query).json()["pagination"]["nextToken"]
    backend = sb.backend("orders_2026")
    assert backend.token_lifetime == pytest.approx(86.4)  # 24 hours at speed 1000
    issued = backend.clock()
    backend.clock = lambda: issued + 80.0
    assert get(sb, SEARCH, token, **query, paginationToken=next_token).status_code == 200
    backend.clock = lambda: issued + 90.0
    expired = get(sb, SEARCH, token, **query, paginationToken=next_token)
    assert expired.status_code == 400
    validate_response(MODEL, "searchOrders", 400, expired.json(), strict=True)
    assert "expired" in expired.json()["errors"][0]["details"]
    assert "24 hours" in expired.json()["errors"][0]["details"]


def test_pages_are_evaluated_at_the_moment_of_the_first_page(sandbox_factory) -> None:
    """Time passes while a client pages: later pages still show the orders as they were at page one."""
    sb = sandbox_factory()
    token = caller(sb, "Atzr|sandbox-na-o26-frozen")
    first_moment = datetime.now(UTC)
    start, end = first_moment - timedelta(hours=30), first_moment - timedelta(hours=2)
    query = {"marketplaceIds": US, "createdAfter": start.isoformat(), "createdBefore": end.isoformat(),
             "maxResultsPerPage": 20, "includedData": "FULFILLMENT"}
    first = get(sb, SEARCH, token, **query).json()
    later = first_moment + timedelta(days=3)
    sb.seller.clock = lambda: later  # three days pass: most of these orders ship meanwhile
    answers = [first]
    while "pagination" in answers[-1]:
        answers.append(get(sb, SEARCH, token, **query,
                           paginationToken=answers[-1]["pagination"]["nextToken"]).json())
    served = [(o["orderId"], o["fulfillment"]["fulfillmentStatus"]) for a in answers for o in a["orders"]]
    at_first = sb.seller.orders_created_between(US, start, end, as_of=first_moment)
    at_later = sb.seller.orders_created_between(US, start, end, as_of=later)
    assert served == [(o.amazon_order_id, V0_TO_2026[o.status]) for o in at_first]
    assert [o.status for o in at_later] != [o.status for o in at_first], "the test must see statuses move"


def test_last_updated_window_is_half_open_and_answers_last_updated_before(sandbox: SandboxServer,
                                                                          na: SandboxCaller) -> None:
    start = day_start(3)
    truth = sandbox.seller.orders_updated_between(US, start, start + timedelta(hours=12))
    cut = datetime.fromisoformat(truth[5].last_update_date.isoformat())
    body = get(sandbox, SEARCH, na, marketplaceIds=US, lastUpdatedAfter=start.isoformat(),
               lastUpdatedBefore=cut.isoformat()).json()
    validate_response(MODEL, "searchOrders", 200, body, strict=True)
    assert body["lastUpdatedBefore"] == cut.strftime("%Y-%m-%dT%H:%M:%SZ") and "createdBefore" not in body
    ids = [o["orderId"] for o in body["orders"]]
    assert ids == [o.amazon_order_id for o in truth if o.last_update_date < cut]
    assert truth[5].amazon_order_id not in ids, "Before is exclusive, as in v0"
    updated = [o["lastUpdatedTime"] for o in body["orders"]]
    assert updated == sorted(updated)


def test_filters_select_the_matching_orders(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(4)
    base = {"marketplaceIds": US, "createdAfter": start.isoformat(),
            "createdBefore": (start + timedelta(days=1)).isoformat(), "includedData": "FULFILLMENT"}
    everything, _ = search_all(sandbox, na, **base)
    amazon = get(sandbox, SEARCH, na, **base, fulfilledBy="AMAZON").json()["orders"]
    assert amazon and {o["fulfillment"]["fulfilledBy"] for o in amazon} == {"AMAZON"}
    assert len(amazon) == sum(o["fulfillment"]["fulfilledBy"] == "AMAZON" for o in everything)
    shipped, _ = search_all(sandbox, na, **base, fulfillmentStatuses="SHIPPED,CANCELLED")
    assert shipped and {o["fulfillment"]["fulfillmentStatus"] for o in shipped} <= {"SHIPPED", "CANCELLED"}
    assert len(shipped) == sum(o["fulfillment"]["fulfillmentStatus"] in ("SHIPPED", "CANCELLED")
                               for o in everything)


def test_without_marketplace_ids_the_regions_marketplaces_are_searched(sandbox: SandboxServer,
                                                                       na: SandboxCaller) -> None:
    start = day_start(7)
    body = get(sandbox, SEARCH, na, createdAfter=start.isoformat(),
               createdBefore=(start + timedelta(hours=6)).isoformat()).json()
    validate_response(MODEL, "searchOrders", 200, body, strict=True)
    marketplaces = {o["salesChannel"]["marketplaceId"] for o in body["orders"]}
    assert {US, CA} <= marketplaces and JP not in marketplaces
    created = [o["createdTime"] for o in body["orders"]]
    assert created == sorted(created)


@pytest.mark.parametrize(("params", "fragment"), [
    ({"createdAfter": "2024-01-01T00:00:00Z", "lastUpdatedAfter": "2024-01-01T00:00:00Z"}, "cannot be combined"),
    ({"lastUpdatedAfter": "2024-01-01T00:00:00Z", "createdBefore": "2024-01-02T00:00:00Z"}, "cannot be combined"),
    ({"createdBefore": "2024-01-02T00:00:00Z"}, "Exactly one of createdAfter or lastUpdatedAfter"),
    ({}, "Exactly one of createdAfter or lastUpdatedAfter"),
    ({"createdAfter": "2024-01-02T00:00:00Z", "createdBefore": "2024-01-01T00:00:00Z"}, "equal to or after"),
    ({"createdAfter": "yesterday"}, "createdAfter"),
    ({"createdAfter": "2024-01-01T00:00:00Z", "fulfillmentStatuses": "Shipped"}, "PENDING_AVAILABILITY"),
    ({"createdAfter": "2024-01-01T00:00:00Z", "fulfilledBy": "AFN"}, "MERCHANT"),
    ({"createdAfter": "2024-01-01T00:00:00Z", "includedData": "BUYER,ADDRESS"}, "FULFILLMENT_ORDERS"),
    ({"createdAfter": "2024-01-01T00:00:00Z", "maxResultsPerPage": "0"}, "maxResultsPerPage"),
    ({"createdAfter": "2024-01-01T00:00:00Z", "maxResultsPerPage": "101"}, "between 1 and 100"),
    ({"createdAfter": "2024-01-01T00:00:00Z", "marketplaceIds": ",".join([US] * 51)}, "at most 50"),
    ({"createdAfter": "2024-01-01T00:00:00Z", "marketplaceIds": "XX"}, "XX"),
])
def test_invalid_queries_get_400_naming_the_problem(sandbox: SandboxServer, na: SandboxCaller, params: dict,
                                                   fragment: str) -> None:
    answer = get(sandbox, SEARCH, na, **params)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    validate_response(MODEL, "searchOrders", 400, body, strict=True)
    assert body["errors"][0]["code"] == "InvalidInput"
    assert fragment in body["errors"][0]["details"] + body["errors"][0]["message"]


def test_two_minute_rule(sandbox: SandboxServer, na: SandboxCaller) -> None:
    now = datetime.now(UTC)
    too_recent = get(sandbox, SEARCH, na, marketplaceIds=US, createdAfter=(now - timedelta(hours=1)).isoformat(),
                     createdBefore=(now - timedelta(seconds=60)).isoformat())
    assert too_recent.status_code == 400
    validate_response(MODEL, "searchOrders", 400, too_recent.json(), strict=True)
    assert "at least 2 minutes before current time" in too_recent.json()["errors"][0]["message"]
    assert "createdBefore" in too_recent.json()["errors"][0]["details"]
    after = get(sandbox, SEARCH, na, marketplaceIds=US, lastUpdatedAfter=(now - timedelta(seconds=30)).isoformat())
    assert after.status_code == 400 and "lastUpdatedAfter" in after.json()["errors"][0]["details"]
    default = get(sandbox, SEARCH, na, marketplaceIds=US, createdAfter=(now - timedelta(hours=1)).isoformat())
    assert default.status_code == 200, default.text
    before = datetime.fromisoformat(default.json()["createdBefore"].replace("Z", "+00:00"))
    assert timedelta(seconds=110) <= now - before <= timedelta(seconds=180)


def test_403_for_another_region_or_no_token_and_429_match_contract(sandbox: SandboxServer, na: SandboxCaller,
                                                                   sandbox_factory) -> None:
    other_region = get(sandbox, SEARCH, na, marketplaceIds=f"{US},{JP}", createdAfter=day_start(2).isoformat())
    assert other_region.status_code == 403
    validate_response(MODEL, "searchOrders", 403, other_region.json(), strict=True)
    assert JP in other_region.json()["errors"][0]["details"]
    missing = get(sandbox, SEARCH, None, marketplaceIds=US, createdAfter=day_start(2).isoformat())
    assert missing.status_code == 403 and "x-amzn-RateLimit-Limit" not in missing.headers
    validate_response(MODEL, "searchOrders", 403, missing.json(), strict=True)

    # A token issued to a North America seller (for its region's marketplaces), replayed by a Far East
    # seller with the same parameters, is refused.
    query = {"createdAfter": day_start(3).isoformat(),
             "createdBefore": day_start(2).isoformat(), "maxResultsPerPage": 5}
    next_token = get(sandbox, SEARCH, na, **query).json()["pagination"]["nextToken"]
    fe = caller(sandbox, "Atzr|sandbox-fe-o26-replay")
    assert get(sandbox, SEARCH, fe, **query, paginationToken=next_token).status_code == 403

    throttled_sb = sandbox_factory(faults="429=1.0")
    throttled_token = caller(throttled_sb, "Atzr|sandbox-na-o26-throttled")
    throttled = get(throttled_sb, SEARCH, throttled_token, marketplaceIds=US, createdAfter=day_start(2).isoformat())
    assert throttled.status_code == 429 and "x-amzn-RateLimit-Limit" not in throttled.headers
    validate_response(MODEL, "searchOrders", 429, throttled.json(), strict=True)
    one = get(throttled_sb, f"{SEARCH}/111-1111111-1111111", throttled_token)
    assert one.status_code == 429
    validate_response(MODEL, "getOrder", 429, one.json(), strict=True)


def test_quotas_are_v2026s_own_and_separate_from_v0(sandbox_factory) -> None:
    """At speed 1 the bursts are exact: 20 searchOrders, 30 getOrder, and v0's getOrder keeps its own."""
    sb = sandbox_factory(speed=1.0)
    token = caller(sb, "Atzr|sandbox-na-o26-quota")
    searches = [get(sb, SEARCH, token).status_code for _ in range(21)]  # 400s still take a token
    assert searches == [400] * 20 + [429]
    orders = [get(sb, f"{SEARCH}/bad-id", token).status_code for _ in range(31)]
    assert orders == [400] * 30 + [429]
    assert get(sb, "/orders/v0/orders/bad-id", token).status_code == 400, "v0 getOrder has its own bucket"
    answer = get(sb, f"{SEARCH}/bad-id", token)
    assert answer.status_code == 429
    stats = requests.get(sb.base_url + "/_sandbox/stats", timeout=10).json()
    assert stats["searchOrders.429"] == 1 and stats["getOrder2026.429"] == 2
    assert stats["getOrder.400"] == 1 and "getOrder.429" not in stats


# ------------------------------------------------------------------------------------------ getOrder
def test_get_order_matches_contract_and_search(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(8)
    found = get(sandbox, SEARCH, na, marketplaceIds=US, createdAfter=start.isoformat(),
                createdBefore=(start + timedelta(hours=4)).isoformat(), includedData=ALL_BLOCKS).json()["orders"]
    for listed in found[:5]:
        answer = get(sandbox, f"{SEARCH}/{listed['orderId']}", na, includedData=ALL_BLOCKS)
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-amzn-RateLimit-Limit"] == "500"
        validate_response(MODEL, "getOrder", 200, answer.json(), strict=True)
        assert answer.json()["order"] == listed
    bare = get(sandbox, f"{SEARCH}/{found[0]['orderId']}", na).json()["order"]
    assert bare["orderItems"] and "proceeds" not in bare and "buyer" not in bare
    bad = get(sandbox, f"{SEARCH}/{found[0]['orderId']}", na, includedData="EVERYTHING")
    assert bad.status_code == 400 and "includedData" in bad.json()["errors"][0]["details"]
    validate_response(MODEL, "getOrder", 400, bad.json(), strict=True)


def test_get_order_404_for_unknown_other_region_and_expired_orders(sandbox: SandboxServer,
                                                                   na: SandboxCaller) -> None:
    unknown_id = f"101-{day_start(5).date().toordinal():07d}-9999999"
    assert sandbox.seller.order(unknown_id) is None
    for order_id in (unknown_id, sandbox.seller.day_plans(JP, day_start(5).date())[0].amazon_order_id,
                     sandbox.seller.day_plans(US, day_start(800).date())[0].amazon_order_id):
        answer = get(sandbox, f"{SEARCH}/{order_id}", na)
        assert answer.status_code == 404, order_id
        validate_response(MODEL, "getOrder", 404, answer.json(), strict=True)
        assert answer.json()["errors"][0]["code"] == "NotFound"
    malformed = get(sandbox, f"{SEARCH}/not-an-order", na)
    assert malformed.status_code == 400 and "3-7-7" in malformed.json()["errors"][0]["details"]
    validate_response(MODEL, "getOrder", 400, malformed.json(), strict=True)
    old_window = get(sandbox, SEARCH, na, marketplaceIds=US, createdAfter=day_start(900).isoformat(),
                     createdBefore=day_start(800).isoformat())
    assert old_window.status_code == 200 and old_window.json()["orders"] == []


def test_japanese_orders_for_a_far_east_seller(sandbox: SandboxServer) -> None:
    fe = caller(sandbox, "Atzr|sandbox-fe-o26-jp")
    plan = sandbox.seller.day_plans(JP, day_start(5).date())[0]
    answer = get(sandbox, f"{SEARCH}/{plan.amazon_order_id}", fe, includedData="PROCEEDS")
    assert answer.status_code == 200
    validate_response(MODEL, "getOrder", 200, answer.json(), strict=True)
    order = answer.json()["order"]
    moneys: list[dict[str, Any]] = [order["proceeds"]["grandTotal"]] + [
        b["subtotal"] for i in order["orderItems"] for b in i["proceeds"]["breakdowns"]]
    assert all(m["currencyCode"] == "JPY" and "." not in m["amount"] for m in moneys)


def test_pending_orders_carry_no_prices_buyer_or_address(sandbox_factory) -> None:
    sb = sandbox_factory()
    token = caller(sb, "Atzr|sandbox-na-o26-pending")
    plan = sb.seller.day_plans(US, day_start(5).date())[3]
    sb.seller.clock = lambda: plan.purchase_date + timedelta(seconds=1)
    answer = get(sb, f"{SEARCH}/{plan.amazon_order_id}", token, includedData=ALL_BLOCKS)
    validate_response(MODEL, "getOrder", 200, answer.json(), strict=True)
    order = answer.json()["order"]
    assert order["fulfillment"]["fulfillmentStatus"] == "PENDING"
    assert not {"proceeds", "buyer", "recipient", "packages"} & set(order)
    assert all("price" not in i["product"] and "proceeds" not in i for i in order["orderItems"])
    sb.seller.clock = lambda: plan.purchase_date - timedelta(seconds=1)
    assert get(sb, f"{SEARCH}/{plan.amazon_order_id}", token).status_code == 404
