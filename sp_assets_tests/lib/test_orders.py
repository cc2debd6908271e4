"""Orders: the time rule of the calls, and v0 and v2026-01-01 mapping to the same rows.

The time rule: every "before" is clamped to now minus the safety margin, and a window that is empty
once clamped is not requested (unit tests, no HTTP).

Orders v0 and v2026-01-01 map to the same rows: the migration must not change what a table means.

The same past day is fetched from the sandbox over real HTTP twice, through v0 (getOrders +
getOrderItems) and through v2026 (searchOrders with its items inline), mapped with the functions of
``sp_assets.lib.orders``, and compared column by column. Only the differences documented in
that module's docstring may appear; everything else, amounts included, must be identical.
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from sp_assets.lib.marketplaces import Marketplace, by_code
from sp_assets.lib.orders import (
    ORDER_ITEMS,
    ORDERS,
    clamp_before,
    order_item_row_v0,
    order_item_rows_2026,
    order_row_2026,
    order_row_v0,
    orders_window,
)
from sp_assets.lib.tablespec import frame_from_records
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller

# The same values as sp_assets_tests/conftest.py (pytest does not support importing a conftest).
INCLUDED_DATA = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PROMOTION"
DAYS_AGO = 10  # long enough back that no order of the day changes any more

# Columns v2026 has no field for (module docstring): null from v2026, filled by v0's sandbox answers.
NULL_IN_2026 = ("ship_service_level", "order_type", "payment_method", "is_global_express_enabled",
                "is_sold_by_ab", "is_access_point_order")


class SellerSession(requests.Session):
    """A client for one seller: an access token the sandbox accepts (``SandboxCaller``) and retried 429s."""

    def __init__(self, sb: SandboxServer, refresh_token: str) -> None:
        super().__init__()
        self._caller = SandboxCaller(sb, refresh_token)

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:
        """One call; a 429 (the bucket refills at the scaled rate) is retried until a deadline."""
        # A kept-alive connection to the sandbox waits ~40 ms per answer (delayed ACK; see the report), a
        # new one ~1 ms: close after each answer.
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "Connection": "close"}
        deadline = _time.monotonic() + 10
        while True:
            answer = self._caller.request(str(method), str(url), **kwargs)
            if answer.status_code != 429 or _time.monotonic() > deadline:
                return answer
            _time.sleep(0.005)


def local_day_window(marketplace: Marketplace) -> tuple[datetime, datetime]:
    """A whole local day of the marketplace, DAYS_AGO back, as a UTC window."""
    zone = ZoneInfo(marketplace.timezone)
    day = datetime.now(zone).date() - timedelta(days=DAYS_AGO)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def fetch_v0(session: requests.Session, base: str, marketplace_id: str, start: datetime,
             end: datetime) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Every order of the window with its items, the v0 way: getOrders, then getOrderItems per order."""
    query = {"MarketplaceIds": marketplace_id, "CreatedAfter": start.isoformat(), "CreatedBefore": end.isoformat()}
    orders: list[dict[str, Any]] = []
    params: dict[str, Any] = query
    while True:
        answer = session.get(f"{base}/orders/v0/orders", params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        payload = answer.json()["payload"]
        orders.extend(payload["Orders"])
        if "NextToken" not in payload:
            break
        params = {**query, "NextToken": payload["NextToken"]}
    out = []
    for order in orders:
        items: list[dict[str, Any]] = []
        item_params: dict[str, Any] = {}
        while True:
            answer = session.get(f"{base}/orders/v0/orders/{order['AmazonOrderId']}/orderItems",
                                 params=item_params, timeout=30)
            assert answer.status_code == 200, answer.text
            payload = answer.json()["payload"]
            items.extend(payload["OrderItems"])
            if "NextToken" not in payload:
                break
            item_params = {"NextToken": payload["NextToken"]}
        out.append((order, items))
    return out


def fetch_2026(session: requests.Session, base: str, marketplace_id: str, start: datetime,
               end: datetime) -> list[dict[str, Any]]:
    """Every order of the window, the v2026 way: searchOrders, resending the filters with each token."""
    query = {"marketplaceIds": marketplace_id, "createdAfter": start.isoformat(), "createdBefore": end.isoformat(),
             "includedData": INCLUDED_DATA, "maxResultsPerPage": 50}
    orders: list[dict[str, Any]] = []
    params: dict[str, Any] = query
    while True:
        answer = session.get(f"{base}/orders/2026-01-01/orders", params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        orders.extend(body["orders"])
        if "pagination" not in body:
            return orders
        params = {**query, "paginationToken": body["pagination"]["nextToken"]}


@pytest.mark.parametrize("code", ["us", "jp"])
def test_v0_and_v2026_rows_of_a_day_differ_only_where_documented(sandbox: SandboxServer, code: str) -> None:
    marketplace = by_code(code)
    session = SellerSession(sandbox, f"Atzr|sandbox-{marketplace.region.lower()}-mapping-{code}")
    start, end = local_day_window(marketplace)
    tz = marketplace.timezone

    v0 = fetch_v0(session, sandbox.base_url, marketplace.marketplace_id, start, end)
    new = fetch_2026(session, sandbox.base_url, marketplace.marketplace_id, start, end)
    assert v0 and [o["AmazonOrderId"] for o, _ in v0] == [o["orderId"] for o in new]

    v0_orders = {o["AmazonOrderId"]: order_row_v0(o, tz, include_pii=True) for o, _ in v0}
    new_orders = {o["orderId"]: order_row_2026(o, tz, include_pii=True) for o in new}
    v0_items = {(row["amazon_order_id"], row["order_item_id"]): row for o, items in v0
                for row in (order_item_row_v0(v0_orders[o["AmazonOrderId"]], item) for item in items)}
    new_items = {(row["amazon_order_id"], row["order_item_id"]): row for o in new
                 for row in order_item_rows_2026(new_orders[o["orderId"]], o)}
    order_columns = [c.name for c in ORDERS.columns]
    item_columns = [c.name for c in ORDER_ITEMS.columns]
    assert all(list(row) == order_columns for row in [*v0_orders.values(), *new_orders.values()])
    assert all(list(row) == item_columns for row in [*v0_items.values(), *new_items.values()])
    assert v0_items.keys() == new_items.keys()

    for order_id, old in v0_orders.items():
        row = new_orders[order_id]
        assert (old.pop("source_api"), row.pop("source_api")) == ("v0", "2026-01-01")
        for column in NULL_IN_2026:
            assert old.pop(column) is not None and row.pop(column) is None, column
        email, name = row.pop("buyer_email"), row.pop("buyer_name")
        assert old.pop("buyer_name") is None and name, "v2026 gives the name by role; v0 only with an RDT"
        old_email = old.pop("buyer_email")
        assert email == (old_email if row["fulfillment_channel"] == "MFN" else None), "email: MFN orders only"
        assert row == old, order_id  # every other column is identical, amounts to the cent

    for key, old in v0_items.items():
        row = new_items[key]
        assert (old.pop("source_api"), row.pop("source_api")) == ("v0", "2026-01-01")
        assert row == old, key

    # The day exercises what could differ: both channels, promotions, shipping, partial shipments.
    rows = list(new_orders.values())
    items = list(new_items.values())
    assert {r["fulfillment_channel"] for r in rows} == {"AFN", "MFN"}
    assert {r["order_status"] for r in rows} >= {"Shipped"} and "Pending" not in {r["order_status"] for r in rows}
    assert any(i["promotion_ids"] for i in items) and any(i["promotion_discount_amount"] not in ("0", "0.00")
                                                            for i in items)
    assert any(i["shipping_price_amount"] not in ("0", "0.00") for i in items)
    assert any(r["order_total_amount"] for r in rows)
    if code == "jp":
        assert all("." not in i["item_price_amount"] and i["shipping_discount_amount"] == "0" for i in items)

    # Both sets convert to the same typed frames (the v2026-only columns aside).
    v0_frame = frame_from_records(ORDER_ITEMS, [v0_items[k] for k in sorted(v0_items)])
    new_frame = frame_from_records(ORDER_ITEMS, [new_items[k] for k in sorted(new_items)])
    assert v0_frame.drop("source_api").equals(new_frame.drop("source_api"))


def test_without_include_pii_no_buyer_data_from_either_version(sandbox: SandboxServer) -> None:
    marketplace = by_code("us")
    session = SellerSession(sandbox, "Atzr|sandbox-na-mapping-nopii")
    start, _ = local_day_window(marketplace)
    new = fetch_2026(session, sandbox.base_url, marketplace.marketplace_id, start, start + timedelta(hours=3))
    assert any("buyer" in o for o in new)
    for order in new:
        row = order_row_2026(order, marketplace.timezone)
        assert row["buyer_email"] is None and row["buyer_name"] is None


# ----------------------------------------------------------------------- mapping rules on records
def _record(**changes: Any) -> dict[str, Any]:
    """A minimal v2026 order (the model's required fields plus fulfillment)."""
    order: dict[str, Any] = {
        "orderId": "902-3159896-1390916",
        "createdTime": "2026-01-31T23:30:00Z",
        "lastUpdatedTime": "2026-02-01T08:00:00Z",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "A1VC38T7YXB528",
                         "marketplaceName": "Amazon.co.jp"},
        "fulfillment": {"fulfillmentStatus": "CANCELLED", "fulfilledBy": "AMAZON",
                        "fulfillmentServiceLevel": "SECOND_DAY"},
        "orderItems": [],
    }
    order.update(changes)
    return order


def test_order_without_fulfillment_block_is_refused_naming_included_data() -> None:
    with pytest.raises(ValueError, match="includedData=FULFILLMENT"):
        order_row_2026(_record(fulfillment=None), "Asia/Tokyo")
    with pytest.raises(ValueError, match="fulfillmentStatus"):
        order_row_2026(_record(fulfillment={"fulfillmentStatus": "LOST"}), "Asia/Tokyo")


def test_day_field_and_vocabulary() -> None:
    row = order_row_2026(_record(programs=["PRIME"]), "Asia/Tokyo")
    assert str(row["partition_date"]) == "2026-02-01"  # 23:30 UTC is the next day in Tokyo
    assert row["order_status"] == "Canceled" and row["fulfillment_channel"] == "AFN"
    assert row["shipment_service_level_category"] == "SecondDay" and row["is_prime"] is True
    assert order_row_2026(_record(), "UTC", day_field="LastUpdateDate")["partition_date"] == \
        order_row_2026(_record(), "UTC", day_field="lastUpdatedTime")["partition_date"]
    with pytest.raises(ValueError, match="day_field must be one of"):
        order_row_2026(_record(), "UTC", day_field="purchase_date")
    paid = _record(payment={"paymentExecutions": [{"paymentMethod": "CashOnDelivery"}]})
    assert order_row_2026(paid, "UTC")["payment_method"] == "COD"


def test_item_proceeds_without_details_and_with_positive_discount() -> None:
    """Amazon may send TAX/DISCOUNT without detail, or a discount as a positive number."""
    def money(amount: str) -> dict[str, str]:
        return {"amount": amount, "currencyCode": "JPY"}

    item = {"orderItemId": "1", "quantityOrdered": 2,
            "product": {"asin": "B000000001", "condition": {"conditionType": "USED"}},
            "proceeds": {"proceedsTotal": money("2090"),
                         "breakdowns": [{"type": "ITEM", "subtotal": money("2000")},
                                        {"type": "TAX", "subtotal": money("190")},
                                        {"type": "DISCOUNT", "subtotal": money("100")}]}}
    order = _record(orderItems=[item])
    [row] = order_item_rows_2026(order_row_2026(order, "UTC"), order)
    assert (row["item_price_amount"], row["item_tax_amount"], row["shipping_tax_amount"]) == ("2000", "190", "0")
    assert (row["promotion_discount_amount"], row["shipping_discount_amount"]) == ("100", "0")
    assert row["currency"] == "JPY" and row["condition_id"] == "Used" and row["is_gift"] is None
    bare = _record(orderItems=[{**item, "proceeds": None}])
    [unpriced] = order_item_rows_2026(order_row_2026(bare, "UTC"), bare)
    assert unpriced["item_price_amount"] is None and unpriced["promotion_discount_amount"] is None


# ------------------------------------------------------------------------------------------------
# the time rule of the calls

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_clamp_before() -> None:
    margin = timedelta(minutes=15)
    assert clamp_before(None, margin, NOW) == NOW - margin
    assert clamp_before(NOW, margin, NOW) == NOW - margin
    early = NOW - timedelta(hours=3)
    assert clamp_before(early, margin, NOW) == early
    with pytest.raises(ValueError, match="at least"):
        clamp_before(None, timedelta(minutes=1), NOW)


def test_orders_window_empty_after_clamping() -> None:
    margin = timedelta(minutes=15)
    assert orders_window(NOW - timedelta(minutes=10), NOW, margin, NOW) is None
    assert orders_window(NOW - timedelta(minutes=15), None, margin, NOW) is None
    assert orders_window(NOW - timedelta(hours=1), NOW, margin, NOW) == (NOW - timedelta(hours=1), NOW - margin)
    with pytest.raises(ValueError, match="timezone-aware"):
        orders_window(datetime(2024, 1, 1), None, margin, NOW)


def test_v0_items_fetched_while_pages_come_in_equal_the_two_pass_fetch(sandbox: SandboxServer) -> None:
    """The overlapped v0 fetch (item calls start as each page arrives) gives the same rows, in the same
    order, as reading every page first and the items after."""
    from sp_assets.lib.orders import fetch_item_rows, fetch_order_rows, fetch_orders_with_items_v0

    from .spapi.support import client_for

    us = by_code("us")
    start, end = local_day_window(us)
    with client_for(sandbox, us.region) as client:
        orders, items = fetch_orders_with_items_v0(client, us.marketplace_id, us.timezone, start, end)
        two_pass_orders = fetch_order_rows(client, us.marketplace_id, us.timezone, start, end)
        two_pass_items = fetch_item_rows(client, two_pass_orders)
    assert len(orders) > 100  # more than one getOrders page
    assert orders == two_pass_orders
    assert items == two_pass_items and len(items) > len(orders)
