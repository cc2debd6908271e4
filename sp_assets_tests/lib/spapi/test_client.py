"""The SP-API client against the sandbox over real HTTP: orders, quota, retries, typed errors, stats.

Each test that drains a bucket or needs faults starts its own sandbox (``sandbox_factory``); the
session ``sandbox`` is only used for calls whose quota state does not matter.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from sp_assets.lib.orders import get_order_2026, get_order_items, get_orders, search_orders
from sp_assets.lib.spapi import (
    AccessDeniedError,
    InvalidInputError,
    NotFoundError,
    RetryPolicy,
    ServerError,
    TransportError,
)

from .support import CA, DE, US, client_for, past_day

FAST_RETRY = RetryPolicy(max_attempts=3, max_throttled_attempts=10, base_delay=0.5)


def order_ids(orders: list[dict]) -> list[str]:
    return [o["AmazonOrderId"] for o in orders]


# ------------------------------------------------------------------------------------------------
# orders: records, pagination, the time rule


def test_a_day_of_orders_matches_the_seller(sandbox) -> None:
    start, end = past_day()
    with client_for(sandbox) as client:
        orders = list(get_orders(client, [US], created_after=start, created_before=end, max_results_per_page=25))
    truth = sandbox.seller.orders_created_between(US, start, end)
    assert len(truth) > 25  # several pages
    assert sorted(order_ids(orders)) == sorted(o.amazon_order_id for o in truth)
    assert len(set(order_ids(orders))) == len(orders)
    assert client.stats.family("orders").calls == -(-len(truth) // 25)


def test_order_items_are_all_pages(sandbox) -> None:
    start, end = past_day()
    truth = sandbox.seller.orders_created_between(US, start, end)
    big = max(truth, key=lambda o: len(o.items))
    assert len(big.items) > 3  # the sandbox pages items by 3
    with client_for(sandbox) as client:
        items = get_order_items(client, big.amazon_order_id)
    assert [i["OrderItemId"] for i in items] == [i.order_item_id for i in big.items]


def test_last_updated_window_and_statuses(sandbox) -> None:
    start, end = past_day(3)
    with client_for(sandbox) as client:
        orders = list(get_orders(client, [US], last_updated_after=start, last_updated_before=end,
                                 order_statuses=["Shipped", "Canceled"]))
    assert orders and {o["OrderStatus"] for o in orders} <= {"Shipped", "Canceled"}
    for order in orders:
        assert start <= datetime.fromisoformat(order["LastUpdateDate"].replace("Z", "+00:00")) < end + timedelta(seconds=1)


def test_before_is_clamped_and_empty_window_is_skipped(sandbox) -> None:
    now = datetime.now(UTC)
    with client_for(sandbox) as client:
        # "before" = now would be a 400 at Amazon; the client clamps it to now - 15 min.
        recent = list(get_orders(client, [US], created_after=now - timedelta(hours=6), created_before=now))
        assert client.stats.family("orders").failed_calls == 0
        truth = sandbox.seller.orders_created_between(US, now - timedelta(hours=6), now - timedelta(minutes=15))
        # The window's upper edge moves with the clock: allow the orders of the few seconds in between.
        assert set(o.amazon_order_id for o in truth) <= set(order_ids(recent))
        calls = client.stats.family("orders").calls
        skipped = list(get_orders(client, [US], created_after=now - timedelta(minutes=10)))
        assert skipped == [] and client.stats.family("orders").calls == calls  # no call at all


# ------------------------------------------------------------------------------------------------
# typed errors, not retried


def test_400_is_typed_and_not_retried(sandbox_factory) -> None:
    sb = sandbox_factory()
    start, end = past_day()
    with client_for(sb) as client, pytest.raises(InvalidInputError) as caught:
        list(get_orders(client, ["NOTAMARKETPLACE"], created_after=start, created_before=end))
    error = caught.value
    assert error.status == 400 and error.code == "InvalidInput" and error.request_id
    assert "NOTAMARKETPLACE" in error.details and error.request_id in str(error)
    assert sb.stats.get("getOrders.requests") == 1


def test_403_wrong_region_is_typed_and_not_retried(sandbox_factory) -> None:
    sb = sandbox_factory()
    start, end = past_day()
    with client_for(sb, "NA") as client, pytest.raises(AccessDeniedError) as caught:
        list(get_orders(client, [DE], created_after=start, created_before=end))
    assert caught.value.status == 403 and caught.value.code == "Unauthorized"
    assert sb.stats.get("getOrders.requests") == 1


def test_404_is_typed(sandbox) -> None:
    with client_for(sandbox) as client, pytest.raises(NotFoundError) as caught:
        get_order_items(client, "111-1111111-1111111")
    assert caught.value.status == 404 and caught.value.request_id


# ------------------------------------------------------------------------------------------------
# retries


def test_5xx_retried_up_to_the_bound_then_server_error(sandbox_factory) -> None:
    sb = sandbox_factory(faults="5xx=1.0")
    with client_for(sb, retry=FAST_RETRY) as client, pytest.raises(ServerError) as caught:
        get_order_items(client, "111-1111111-1111111")
    assert caught.value.status in (500, 503) and caught.value.attempts == 3
    assert sb.stats.get("getOrderItems.requests") == 3
    stats = client.stats.family("orders")
    assert stats.server_errors == 3 and stats.retries == 2 and stats.failed_calls == 1


def test_dropped_connections_retried_then_transport_error(sandbox_factory) -> None:
    sb = sandbox_factory(faults="drop=1.0")
    with client_for(sb, retry=FAST_RETRY) as client, pytest.raises(TransportError):
        get_order_items(client, "111-1111111-1111111")
    assert sb.stats.get("getOrderItems.requests") == 3
    assert client.stats.family("orders").connection_errors == 3


def test_connection_refused_is_transport_error(sandbox) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = client_for(sandbox, retry=RetryPolicy(max_attempts=2, base_delay=0.0))
    client.endpoint = type(client.endpoint)(f"http://127.0.0.1:{port}", sandbox.token_url)
    with pytest.raises(TransportError, match="2 attempts"):
        client.request("getOrderItems", "GET", "/orders/v0/orders/111-1111111-1111111/orderItems")


def test_expired_token_403_refreshes_and_retries(sandbox_factory) -> None:
    sb = sandbox_factory(faults="expire=0.5")
    start, end = past_day()
    truth = sb.seller.orders_created_between(US, start, end)
    with client_for(sb) as client:
        ids = [o.amazon_order_id for o in truth[:12]]
        items = {oid: get_order_items(client, oid) for oid in ids}
    assert sb.stats.get("getOrderItems.fault_expire") > 0
    assert client.stats.family("orders").token_refreshes_on_403 >= sb.stats.get("getOrderItems.fault_expire")
    assert client.stats.family("orders").failed_calls == 0
    assert all([i["OrderItemId"] for i in items[o.amazon_order_id]] == [i.order_item_id for i in o.items]
               for o in truth[:12])


# ------------------------------------------------------------------------------------------------
# quota: wait instead of 429, shared buckets, speed


def test_calls_wait_for_quota_instead_of_hitting_429(sandbox_factory) -> None:
    # getOrders: burst 20, 0.0167/s; at speed 300 that is ~5 calls/s, so 30 calls must wait ~2 s.
    sb = sandbox_factory(speed=300.0, orders_per_day=40)
    start, end = past_day()
    with client_for(sb) as client:
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(
                lambda _: list(get_orders(client, [US], created_after=start, created_before=end)), range(30)))
    assert all(sorted(order_ids(r)) == sorted(order_ids(results[0])) for r in results)
    stats = client.stats.family("orders")
    assert stats.quota_wait_seconds > 1.0
    assert sb.stats.get("getOrders.429") <= 1  # latency jitter may cost one; never a storm
    assert sb.stats.get("getOrders.served") == 30


def test_buckets_shared_by_credential_not_by_instance(sandbox) -> None:
    us = client_for(sandbox)
    ca = client_for(sandbox)
    eu = client_for(sandbox, "EU")
    assert us.bucket("getOrders") is ca.bucket("getOrders")
    assert us.bucket("getOrders") is not eu.bucket("getOrders")
    assert us.bucket("getOrders") is not us.bucket("getOrderItems")
    assert us.token_provider is ca.token_provider
    assert us.stats is not ca.stats


def test_speed_scales_rates_and_header_updates_them(sandbox_factory) -> None:
    sb = sandbox_factory(speed=50.0)
    client = client_for(sb)
    assert client.bucket("getOrderItems").rate == pytest.approx(0.5 * 50)
    start, end = past_day()
    list(get_orders(client, [CA], created_after=start, created_before=end))
    assert client.bucket("getOrders").rate == pytest.approx(0.0167 * 50, rel=1e-3)  # from the header


# ------------------------------------------------------------------------------------------------
# 429 in pagination: only the page is retried


def test_429_inside_pagination_retries_only_that_page(sandbox_factory) -> None:
    sb = sandbox_factory(faults="429=0.4", orders_per_day=200)
    start, end = past_day()
    truth = sb.seller.orders_created_between(US, start, end)
    with client_for(sb) as client:
        orders = list(get_orders(client, [US], created_after=start, created_before=end, max_results_per_page=10))
    pages = -(-len(truth) // 10)
    throttled = sb.stats.get("getOrders.429")
    assert pages >= 10 and throttled >= 3
    assert sorted(order_ids(orders)) == sorted(o.amazon_order_id for o in truth)
    # Every page was served exactly once: a restart of the iteration would serve page 1 again.
    assert sb.stats.get("getOrders.served") == pages
    assert sb.stats.get("getOrders.requests") == pages + throttled
    assert client.stats.family("orders").throttled == throttled


# ------------------------------------------------------------------------------------------------
# faults on: exactly the records of a fault-free run


def _day_with_items(sb, workers: int = 3) -> tuple[list[dict], dict[str, list[dict]]]:
    start, end = past_day()
    with client_for(sb, retry=RetryPolicy(max_attempts=10, max_throttled_attempts=12)) as client:
        orders = list(get_orders(client, [US], created_after=start, created_before=end, max_results_per_page=20))
        with ThreadPoolExecutor(workers) as pool:
            items = dict(zip(order_ids(orders),
                             pool.map(lambda oid: get_order_items(client, oid), order_ids(orders)), strict=True))
    return orders, items


def test_faulty_run_returns_exactly_the_records_of_a_clean_run(sandbox_factory) -> None:
    clean = sandbox_factory(orders_per_day=80)
    faulty = sandbox_factory(orders_per_day=80, faults="5xx=0.1,drop=0.1,429=0.1,expire=0.2")
    clean_orders, clean_items = _day_with_items(clean)
    faulty_orders, faulty_items = _day_with_items(faulty)
    assert faulty_orders == clean_orders
    assert faulty_items == clean_items
    stats = faulty.stats.snapshot()
    for fault in ("fault_500", "fault_drop", "fault_expire"):
        assert sum(v for k, v in stats.items() if k.endswith(fault)) > 0, fault
    assert sum(v for k, v in stats.items() if k.endswith(".429")) > 0


# ------------------------------------------------------------------------------------------------
# Orders v2026-01-01


def test_search_orders_2026_pages_with_pagination_token(sandbox_factory) -> None:
    sb = sandbox_factory()
    start, end = past_day()
    truth = sb.seller.orders_created_between(US, start, end)
    with client_for(sb) as client:
        orders = list(search_orders(client, [US], created_after=start, created_before=end, max_results_per_page=25))
        one = get_order_2026(client, truth[0].amazon_order_id)
    assert sorted(o["orderId"] for o in orders) == sorted(o.amazon_order_id for o in truth)
    assert sb.stats.get("searchOrders.served") == -(-len(truth) // 25)
    assert one is not None and one["orderId"] == truth[0].amazon_order_id and one["orderItems"]
