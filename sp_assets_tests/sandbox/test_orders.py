"""Orders v0 in the sandbox: Amazon's contract (ordersV0.json), its rules, and agreement with the seller.

Every answer here comes over real HTTP and is checked against Amazon's own model; the orders a query
returns are checked against the synthetic seller's ground truth.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests import support
from sp_assets_tests.support import SandboxCaller

from .contract import validate_response

# The same values as sp_assets_tests/conftest.py (pytest does not support importing a conftest).
MODEL = "ordersV0.json"
US = by_code("us").marketplace_id
JP = by_code("jp").marketplace_id
# Own refresh tokens: these tests never drain the session sandbox's buckets that others share.
NA_TOKEN = "Atzr|sandbox-na-orders-tests"
FE_TOKEN = "Atzr|sandbox-fe-orders-tests"


def caller(sb: SandboxServer, refresh_token: str = NA_TOKEN) -> SandboxCaller:
    """A caller for ``refresh_token`` that always sends an access token the sandbox accepts."""
    return support.caller(sb, refresh_token)


def get(sb: SandboxServer, path: str, token: SandboxCaller | None, **params: object) -> requests.Response:
    if token is None:
        return requests.get(sb.base_url + path, params=params, timeout=30)
    return token.get(path, params=params)


def day_start(days_ago: int) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


def fetch_all_orders(sb: SandboxServer, token: SandboxCaller,
                     **query: object) -> tuple[list[dict], list[requests.Response]]:
    """Page through getOrders the way a client should: resend MarketplaceIds with the NextToken."""
    answers = [get(sb, "/orders/v0/orders", token, **query)]
    while "NextToken" in answers[-1].json().get("payload", {}):
        next_token = answers[-1].json()["payload"]["NextToken"]
        answers.append(get(sb, "/orders/v0/orders", token, MarketplaceIds=query["MarketplaceIds"],
                           NextToken=next_token))
    orders = [order for answer in answers for order in answer.json()["payload"]["Orders"]]
    return orders, answers


@pytest.fixture
def na(sandbox: SandboxServer, request: pytest.FixtureRequest) -> SandboxCaller:
    """A caller whose refresh token is this test's own, so each test has full buckets."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[-50:]
    return caller(sandbox, f"Atzr|sandbox-na-{name}")


# ------------------------------------------------------------------------------------------ getOrders
def test_get_orders_pages_match_contract_and_ground_truth(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(5)
    end = start + timedelta(days=1)
    orders, answers = fetch_all_orders(sandbox, na, MarketplaceIds=US, CreatedAfter=start.isoformat(),
                                       CreatedBefore=end.isoformat(), MaxResultsPerPage=40)
    assert len(answers) >= 3, "120 orders a day in pages of 40 must page"
    for answer in answers:
        assert answer.status_code == 200, answer.text
        validate_response(MODEL, "getOrders", 200, answer.json(), strict=True)
        assert answer.json()["payload"]["CreatedBefore"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")
    truth = sandbox.seller.orders_created_between(US, start, end)
    assert [o["AmazonOrderId"] for o in orders] == [o.amazon_order_id for o in truth]
    assert [o["PurchaseDate"] for o in orders] == sorted(o["PurchaseDate"] for o in orders)
    assert all(start.strftime("%Y-%m-%d") == o["PurchaseDate"][:10] for o in orders)


def test_next_token_needs_percent_encoding_and_ignores_resent_filters(sandbox: SandboxServer,
                                                                      na: SandboxCaller) -> None:
    start = day_start(6)
    query = {"MarketplaceIds": US, "CreatedAfter": start.isoformat(),
             "CreatedBefore": (start + timedelta(days=1)).isoformat(), "MaxResultsPerPage": 10}
    first = get(sandbox, "/orders/v0/orders", na, **query).json()["payload"]
    token = first["NextToken"]
    assert {"+", "/", "="} <= set(token), "tokens are base64 with +/= so clients must percent-encode them"

    only_token = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US, NextToken=token).json()
    # Other filters resent with the token (as Airbyte and Amazon's sandbox example do) change nothing.
    resent = get(sandbox, "/orders/v0/orders", na, **{**query, "MaxResultsPerPage": 1,
                                                      "OrderStatuses": "Canceled", "NextToken": token}).json()
    assert resent == only_token
    assert len(only_token["payload"]["Orders"]) == 10
    assert not {o["AmazonOrderId"] for o in only_token["payload"]["Orders"]} & {
        o["AmazonOrderId"] for o in first["Orders"]}

    # Unencoded, "+" arrives as a space: the token cannot be decoded, as on Amazon.
    raw = na.get(f"{sandbox.base_url}/orders/v0/orders?MarketplaceIds={US}&NextToken={token}", timeout=10)
    assert raw.status_code == 400
    assert "NextToken" in raw.json()["errors"][0]["details"]
    validate_response(MODEL, "getOrders", 400, raw.json(), strict=True)
    truncated = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US, NextToken=token[:-8] + "AAAAAA==")
    assert truncated.status_code == 400


def test_pages_are_evaluated_at_the_moment_of_the_first_page(sandbox_factory) -> None:
    """Time passes while a client pages: later pages still show the orders as they were at page one."""
    sb = sandbox_factory()
    token = caller(sb)
    first_moment = datetime.now(UTC)
    start, end = first_moment - timedelta(hours=30), first_moment - timedelta(hours=2)
    query = {"MarketplaceIds": US, "CreatedAfter": start.isoformat(), "CreatedBefore": end.isoformat(),
             "MaxResultsPerPage": 20}
    first = get(sb, "/orders/v0/orders", token, **query).json()["payload"]

    later = first_moment + timedelta(days=3)
    sb.seller.clock = lambda: later  # three days pass: most of these orders ship meanwhile
    answers = [first]
    while "NextToken" in answers[-1]:
        answers.append(get(sb, "/orders/v0/orders", token, MarketplaceIds=US,
                           NextToken=answers[-1]["NextToken"]).json()["payload"])
    served = [(o["AmazonOrderId"], o["OrderStatus"], o["LastUpdateDate"]) for a in answers for o in a["Orders"]]

    at_first = sb.seller.orders_created_between(US, start, end, as_of=first_moment)
    at_later = sb.seller.orders_created_between(US, start, end, as_of=later)
    assert [o[0] for o in served] == [o.amazon_order_id for o in at_first]
    assert [o[1] for o in served] == [o.status for o in at_first]
    assert [o.status for o in at_later] != [o.status for o in at_first], "the test must see statuses move"
    fresh = get(sb, "/orders/v0/orders", token, **query).json()["payload"]["Orders"]
    assert [o["OrderStatus"] for o in fresh] == [o.status for o in at_later[:20]]


def test_a_page_sequence_evaluates_its_query_once(sandbox_factory) -> None:
    """Later pages cut the frozen result of page one (O(page)), instead of re-running the window search:
    with a re-run per page the sandbox's CPU grew with the square of a day's orders."""
    sb = sandbox_factory()
    token = caller(sb)
    end = datetime.now(UTC) - timedelta(hours=2)
    query = {"MarketplaceIds": US, "CreatedAfter": (end - timedelta(hours=40)).isoformat(),
             "CreatedBefore": end.isoformat(), "MaxResultsPerPage": 20}
    before = sb.backend("orders").frozen.evaluations
    orders, answers = fetch_all_orders(sb, token, **query)
    assert len(answers) >= 4, "the window must span several pages for the test to mean anything"
    assert sb.backend("orders").frozen.evaluations - before == 1
    assert len({o["AmazonOrderId"] for o in orders}) == len(orders)
    fresh = get(sb, "/orders/v0/orders", token, **query).json()["payload"]  # a new first page: a new moment
    assert sb.backend("orders").frozen.evaluations - before == 2
    assert [o["AmazonOrderId"] for o in fresh["Orders"]] == [o["AmazonOrderId"] for o in orders[:20]]


def test_last_updated_query_sorts_by_last_update_date(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(3)
    end = start + timedelta(hours=12)
    orders, answers = fetch_all_orders(sandbox, na, MarketplaceIds=US, LastUpdatedAfter=start.isoformat(),
                                       LastUpdatedBefore=end.isoformat(), MaxResultsPerPage=100)
    validate_response(MODEL, "getOrders", 200, answers[0].json(), strict=True)
    assert "LastUpdatedBefore" in answers[0].json()["payload"]
    assert "CreatedBefore" not in answers[0].json()["payload"]
    truth = sandbox.seller.orders_updated_between(US, start, end)
    assert [o["AmazonOrderId"] for o in orders] == [o.amazon_order_id for o in truth]
    updated = [o["LastUpdateDate"] for o in orders]
    assert updated == sorted(updated) and all(start.isoformat()[:10] == u[:10] for u in updated)
    assert any(o["PurchaseDate"][:10] != start.isoformat()[:10] for o in orders), "older orders updated too"


def test_filters_select_the_matching_orders(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(4)
    base = {"MarketplaceIds": US, "CreatedAfter": start.isoformat(),
            "CreatedBefore": (start + timedelta(days=1)).isoformat()}
    everything, _ = fetch_all_orders(sandbox, na, **base)
    afn = get(sandbox, "/orders/v0/orders", na, **base, FulfillmentChannels="AFN").json()["payload"]["Orders"]
    assert afn and {o["FulfillmentChannel"] for o in afn} == {"AFN"}
    assert len(afn) == sum(o["FulfillmentChannel"] == "AFN" for o in everything)
    shipped = get(sandbox, "/orders/v0/orders", na, **base,
                  OrderStatuses="Shipped,Canceled").json()["payload"]["Orders"]
    assert {o["OrderStatus"] for o in shipped} <= {"Shipped", "Canceled"}
    wanted = [everything[3]["AmazonOrderId"], everything[7]["AmazonOrderId"]]
    by_id = get(sandbox, "/orders/v0/orders", na, **base, AmazonOrderIds=",".join(wanted)).json()
    assert [o["AmazonOrderId"] for o in by_id["payload"]["Orders"]] == wanted


def test_order_fields_follow_amazons_rules(sandbox: SandboxServer, na: SandboxCaller) -> None:
    start = day_start(8)
    orders, _ = fetch_all_orders(sandbox, na, MarketplaceIds=US, CreatedAfter=start.isoformat(),
                                 CreatedBefore=(start + timedelta(days=1)).isoformat())
    for order in orders:
        truth = sandbox.seller.order(order["AmazonOrderId"])
        assert order["MarketplaceId"] == US and order["SalesChannel"] == "Amazon.com"
        assert order["OrderStatus"] == truth.status
        if order["OrderStatus"] in ("Unshipped", "PartiallyShipped", "Shipped"):
            assert order["ShippingAddress"]["CountryCode"] == "US"
        else:
            assert "ShippingAddress" not in order
        assert isinstance(order["OrderTotal"]["Amount"], str)
        assert Decimal(order["OrderTotal"]["Amount"]) == truth.order_total
        assert order["OrderTotal"]["Amount"].count(".") == 1 and len(order["OrderTotal"]["Amount"].split(".")[1]) == 2
        assert order["NumberOfItemsShipped"] + order["NumberOfItemsUnshipped"] == (
            0 if truth.status == "Canceled" else sum(i.quantity for i in truth.items))


@pytest.mark.parametrize(("params", "fragment"), [
    ({"CreatedAfter": "2024-01-01T00:00:00Z", "LastUpdatedAfter": "2024-01-01T00:00:00Z"}, "cannot be combined"),
    ({"LastUpdatedAfter": "2024-01-01T00:00:00Z", "CreatedBefore": "2024-01-02T00:00:00Z"}, "cannot be combined"),
    ({"CreatedBefore": "2024-01-02T00:00:00Z"}, "Either CreatedAfter or LastUpdatedAfter is required"),
    ({}, "Either CreatedAfter or LastUpdatedAfter is required"),
    ({"CreatedAfter": "2024-01-02T00:00:00Z", "CreatedBefore": "2024-01-01T00:00:00Z"}, "equal to or after"),
    ({"CreatedAfter": "yesterday"}, "CreatedAfter"),
    ({"CreatedAfter": "2024-01-01T00:00:00Z", "OrderStatuses": "Shipped,Lost"}, "PendingAvailability"),
    ({"CreatedAfter": "2024-01-01T00:00:00Z", "FulfillmentChannels": "FBA"}, "AFN"),
    ({"CreatedAfter": "2024-01-01T00:00:00Z", "MaxResultsPerPage": "0"}, "MaxResultsPerPage"),
    ({"CreatedAfter": "2024-01-01T00:00:00Z", "MaxResultsPerPage": "101"}, "between 1 and 100"),
    ({"CreatedAfter": "2024-01-01T00:00:00Z", "AmazonOrderIds": "123"}, "3-7-7"),
    ({"CreatedAfter": "2024-01-01T00:00:00Z", "AmazonOrderIds": ",".join(["111-1111111-1111111"] * 51)},
     "at most 50"),
])
def test_invalid_queries_get_400_naming_the_problem(sandbox: SandboxServer, na: SandboxCaller, params: dict,
                                                   fragment: str) -> None:
    answer = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US, **params)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    validate_response(MODEL, "getOrders", 400, body, strict=True)
    assert body["errors"][0]["code"] == "InvalidInput"
    assert fragment in body["errors"][0]["details"] + body["errors"][0]["message"]
    assert answer.headers["x-amzn-RateLimit-Limit"] == "16.7"


def test_marketplace_ids_are_required_and_bounded(sandbox: SandboxServer, na: SandboxCaller) -> None:
    missing = get(sandbox, "/orders/v0/orders", na, CreatedAfter="2024-01-01T00:00:00Z")
    assert missing.status_code == 400 and "MarketplaceIds" in missing.json()["errors"][0]["details"]
    too_many = get(sandbox, "/orders/v0/orders", na, CreatedAfter="2024-01-01T00:00:00Z",
                   MarketplaceIds=",".join([US] * 51))
    assert too_many.status_code == 400 and "at most 50" in too_many.json()["errors"][0]["details"]
    unknown = get(sandbox, "/orders/v0/orders", na, CreatedAfter="2024-01-01T00:00:00Z", MarketplaceIds="XX")
    assert unknown.status_code == 400 and "XX" in unknown.json()["errors"][0]["details"]


def test_two_minute_rule_quotes_amazons_message(sandbox: SandboxServer, na: SandboxCaller) -> None:
    now = datetime.now(UTC)
    too_recent = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US,
                     CreatedAfter=(now - timedelta(hours=1)).isoformat(),
                     CreatedBefore=(now - timedelta(seconds=60)).isoformat())
    assert too_recent.status_code == 400
    validate_response(MODEL, "getOrders", 400, too_recent.json(), strict=True)
    error = too_recent.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    assert "at least 2 minutes before current time" in error["message"]
    assert "CreatedBefore" in error["details"]
    ok = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US,
             LastUpdatedAfter=(now - timedelta(hours=1)).isoformat(),
             LastUpdatedBefore=(now - timedelta(minutes=3)).isoformat())
    assert ok.status_code == 200, ok.text
    after_too_recent = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US,
                           LastUpdatedAfter=(now - timedelta(seconds=30)).isoformat())
    assert after_too_recent.status_code == 400
    assert "LastUpdatedAfter" in after_too_recent.json()["errors"][0]["details"]
    # Without a Before, the sandbox answers up to now - 2 minutes and says so.
    default = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US,
                  CreatedAfter=(now - timedelta(hours=1)).isoformat()).json()["payload"]
    before = datetime.fromisoformat(default["CreatedBefore"].replace("Z", "+00:00"))
    assert timedelta(seconds=110) <= now - before <= timedelta(seconds=180)


def test_missing_token_403_and_throttled_429_match_contract(sandbox: SandboxServer, sandbox_factory) -> None:
    missing = get(sandbox, "/orders/v0/orders", None, MarketplaceIds=US, CreatedAfter="2024-01-01T00:00:00Z")
    assert missing.status_code == 403
    validate_response(MODEL, "getOrders", 403, missing.json(), strict=True)
    assert "x-amzn-RateLimit-Limit" not in missing.headers

    throttled_sb = sandbox_factory(faults="429=1.0")
    throttled = get(throttled_sb, "/orders/v0/orders", caller(throttled_sb), MarketplaceIds=US,
                    CreatedAfter="2024-01-01T00:00:00Z")
    assert throttled.status_code == 429
    validate_response(MODEL, "getOrders", 429, throttled.json(), strict=True)
    items = get(throttled_sb, "/orders/v0/orders/111-1111111-1111111/orderItems", caller(throttled_sb))
    validate_response(MODEL, "getOrderItems", 429, items.json(), strict=True)


def test_another_regions_marketplace_is_forbidden(sandbox: SandboxServer, na: SandboxCaller) -> None:
    answer = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=f"{US},{JP}",
                 CreatedAfter=day_start(2).isoformat(), CreatedBefore=day_start(1).isoformat())
    assert answer.status_code == 403
    validate_response(MODEL, "getOrders", 403, answer.json(), strict=True)
    assert JP in answer.json()["errors"][0]["details"]


# -------------------------------------------------------------------------------- getOrderItems
def _plan_with_items(sb: SandboxServer, count: int, days_ago: int = 5):
    for offset in range(days_ago, days_ago + 10):
        for plan in sb.seller.day_plans(US, day_start(offset).date()):
            if len(plan.items) == count:
                return plan
    raise AssertionError(f"no order with {count} items in the seller's data")


def test_get_order_items_pages_a_four_item_order(sandbox: SandboxServer, na: SandboxCaller) -> None:
    plan = _plan_with_items(sandbox, 4)
    path = f"/orders/v0/orders/{plan.amazon_order_id}/orderItems"
    first = get(sandbox, path, na)
    assert first.status_code == 200
    validate_response(MODEL, "getOrderItems", 200, first.json(), strict=True)
    payload = first.json()["payload"]
    assert payload["AmazonOrderId"] == plan.amazon_order_id
    assert len(payload["OrderItems"]) == 3 and {"+", "/", "="} <= set(payload["NextToken"])
    second = get(sandbox, path, na, NextToken=payload["NextToken"])
    validate_response(MODEL, "getOrderItems", 200, second.json(), strict=True)
    assert "NextToken" not in second.json()["payload"]
    items = payload["OrderItems"] + second.json()["payload"]["OrderItems"]
    assert [i["OrderItemId"] for i in items] == [i.order_item_id for i in plan.items]
    assert [i["SellerSKU"] for i in items] == [i.sku for i in plan.items]
    assert [i["QuantityOrdered"] for i in items] == [i.quantity for i in plan.items]

    # The items add up to the order's total, to the cent.
    order = get(sandbox, f"/orders/v0/orders/{plan.amazon_order_id}", na)
    validate_response(MODEL, "getOrder", 200, order.json(), strict=True)
    total = sum(Decimal(i[k]["Amount"]) for i in items for k in ("ItemPrice", "ItemTax", "ShippingPrice",
                                                                  "ShippingTax")) - sum(
        Decimal(i["PromotionDiscount"]["Amount"]) for i in items)
    assert total == Decimal(order.json()["payload"]["OrderTotal"]["Amount"])
    assert all(i["IsGift"] in ("true", "false") for i in items)

    other = _plan_with_items(sandbox, 1)
    wrong_order = get(sandbox, f"/orders/v0/orders/{other.amazon_order_id}/orderItems", na,
                      NextToken=payload["NextToken"])
    assert wrong_order.status_code == 400


def test_get_order_items_single_page_and_shipped_quantities(sandbox: SandboxServer,
                                                            na: SandboxCaller) -> None:
    plan = _plan_with_items(sandbox, 2, days_ago=20)  # long shipped by now
    answer = get(sandbox, f"/orders/v0/orders/{plan.amazon_order_id}/orderItems", na)
    validate_response(MODEL, "getOrderItems", 200, answer.json(), strict=True)
    items = answer.json()["payload"]["OrderItems"]
    assert "NextToken" not in answer.json()["payload"] and len(items) == 2
    status = sandbox.seller.order(plan.amazon_order_id).status
    expected = [i.quantity for i in plan.items] if status == "Shipped" else [0, 0]
    assert [i["QuantityShipped"] for i in items] == expected


def test_unknown_order_404_and_malformed_id_400(sandbox: SandboxServer, na: SandboxCaller) -> None:
    unknown_id = f"101-{day_start(5).date().toordinal():07d}-9999999"  # no such index that day
    assert sandbox.seller.order(unknown_id) is None
    unknown = get(sandbox, f"/orders/v0/orders/{unknown_id}/orderItems", na)
    assert unknown.status_code == 404
    validate_response(MODEL, "getOrderItems", 404, unknown.json(), strict=True)
    assert unknown.json()["errors"][0]["code"] == "NotFound"
    assert unknown.headers["x-amzn-RateLimit-Limit"] == "500"
    malformed = get(sandbox, "/orders/v0/orders/not-an-order/orderItems", na)
    assert malformed.status_code == 400
    validate_response(MODEL, "getOrderItems", 400, malformed.json(), strict=True)
    assert "3-7-7" in malformed.json()["errors"][0]["details"]
    order_404 = get(sandbox, f"/orders/v0/orders/{unknown_id}", na)
    assert order_404.status_code == 404
    validate_response(MODEL, "getOrder", 404, order_404.json(), strict=True)


def test_another_regions_order_is_not_found(sandbox: SandboxServer, na: SandboxCaller) -> None:
    jp_plan = sandbox.seller.day_plans(JP, day_start(5).date())[0]
    assert get(sandbox, f"/orders/v0/orders/{jp_plan.amazon_order_id}/orderItems", na).status_code == 404
    fe = caller(sandbox, FE_TOKEN)
    answer = get(sandbox, f"/orders/v0/orders/{jp_plan.amazon_order_id}/orderItems", fe)
    assert answer.status_code == 200
    validate_response(MODEL, "getOrderItems", 200, answer.json(), strict=True)
    for item in answer.json()["payload"]["OrderItems"]:
        assert item["ItemPrice"]["CurrencyCode"] == "JPY" and "." not in item["ItemPrice"]["Amount"]


def test_pending_orders_carry_no_prices_address_or_gift_flag(sandbox_factory) -> None:
    sb = sandbox_factory()
    token = caller(sb)
    plan = _plan_with_items(sb, 2)
    sb.seller.clock = lambda: plan.purchase_date + timedelta(seconds=1)
    order = get(sb, f"/orders/v0/orders/{plan.amazon_order_id}", token).json()
    validate_response(MODEL, "getOrder", 200, order, strict=True)
    assert order["payload"]["OrderStatus"] == "Pending"
    assert not {"OrderTotal", "ShippingAddress", "BuyerInfo"} & set(order["payload"])
    items = get(sb, f"/orders/v0/orders/{plan.amazon_order_id}/orderItems", token).json()
    validate_response(MODEL, "getOrderItems", 200, items, strict=True)
    for item in items["payload"]["OrderItems"]:
        assert not {"ItemPrice", "ItemTax", "PromotionDiscount", "IsGift", "PromotionIds"} & set(item)
    # One second before its purchase the order does not exist yet.
    sb.seller.clock = lambda: plan.purchase_date - timedelta(seconds=1)
    assert get(sb, f"/orders/v0/orders/{plan.amazon_order_id}", token).status_code == 404


def test_orders_older_than_two_years_are_not_returned(sandbox: SandboxServer, na: SandboxCaller) -> None:
    old_plan = sandbox.seller.day_plans(US, day_start(800).date())[0]
    assert get(sandbox, f"/orders/v0/orders/{old_plan.amazon_order_id}", na).status_code == 404
    old_window = get(sandbox, "/orders/v0/orders", na, MarketplaceIds=US,
                     CreatedAfter=day_start(900).isoformat(), CreatedBefore=day_start(800).isoformat())
    assert old_window.status_code == 200 and old_window.json()["payload"]["Orders"] == []
    recent = get(sandbox, f"/orders/v0/orders/{sandbox.seller.day_plans(US, day_start(700).date())[0].amazon_order_id}",
                 na)
    assert recent.status_code == 200
