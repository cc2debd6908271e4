"""Benchmark 1, quota efficiency: how close an orders sync comes to Amazon's token-bucket limit.

Orders and their items for a 7-day window at 2,000 orders a day (~14,000 orders), fetched with the
assets' own fetch functions (``sp_assets/lib/orders.py``) from a sandbox process at
``--speed 1000`` that enforces Amazon's buckets. Two plans:

* **Orders v0**: getOrders pages (rate 0.0167/s, burst 20), THEN one getOrderItems per order
  (0.5/s, burst 30; ``ITEM_THREADS`` threads). The phases run one after another, so the plan's
  minimum is the SUM of the two operations' minimums.
* **Orders v2026-01-01**: searchOrders pages (0.0056/s, burst 20) carry the items: one operation.

Figure: wall time / token-bucket minimum of the calls the sandbox actually served (``bucket_minimum``
in ``benchlib``). Target <= 1.15, and 429 answers <= 1% of the requests. A diagnostic run against a
sandbox at ``--capacity-speed`` (buckets effectively unlimited) measures what this machine can push
through the getOrderItems plan at all, so a miss can be blamed on pacing or on CPU.

Usage: .venv/bin/python benchmarks/bench_quota.py [--days 7] [--orders-per-day 2000] [--speed 1000] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from typing import Any

from benchlib import (
    US,
    Bucket,
    bucket_minimum,
    client_for,
    emit,
    figure,
    log,
    machine_info,
    past_window,
    ratio,
    sandbox_process,
    sequential_minimum,
    server_stats,
    stats_delta,
)

from sp_assets.lib import orders as orders_domain
from sp_assets.sandbox.routes.orders import GET_ORDER_ITEMS, GET_ORDERS
from sp_assets.sandbox.routes.orders_2026 import SEARCH_ORDERS

TIMEZONE = "America/Los_Angeles"
RATIO_TARGET = 1.15
THROTTLED_TARGET = 0.01
WARM_TOKEN = False


def bucket_of(operation: Any) -> Bucket:
    return Bucket(operation.name, operation.rate, operation.burst)


def phase(name: str, bucket: Bucket, stats: dict[str, int], seconds: float, speed: float) -> dict[str, Any]:
    """One operation's calls (served = took a token on the server), 429s, wall time and bucket minimum."""
    served = stats.get(f"{bucket.operation}.served", 0)
    throttled = stats.get(f"{bucket.operation}.429", 0)
    minimum = bucket_minimum(served, bucket, speed)
    return {
        "operation": name,
        "calls": served,
        "http_429": throttled,
        "wall_s": round(seconds, 3),
        "bucket_minimum_s": round(minimum, 3),
        "ratio": ratio(seconds, minimum),
        "rate_per_s": round(bucket.rate * speed, 3),
        "burst": bucket.burst,
        "achieved_calls_per_s": round(served / seconds, 1) if seconds else None,
    }


def run_v0(base_url: str, speed: float, start: datetime, end: datetime) -> dict[str, Any]:
    client = client_for(base_url, speed)
    if WARM_TOKEN:
        client.token_provider.get()
    before = server_stats(base_url)
    started = time.perf_counter()
    orders = orders_domain.fetch_order_rows(client, US, TIMEZONE, start, end)
    orders_done = time.perf_counter()
    items = orders_domain.fetch_item_rows(client, orders)
    finished = time.perf_counter()
    delta = stats_delta(before, server_stats(base_url))
    client.close()
    phases = [phase("getOrders", bucket_of(GET_ORDERS), delta, orders_done - started, speed),
              phase("getOrderItems", bucket_of(GET_ORDER_ITEMS), delta, finished - orders_done, speed)]
    return summarize("v0", phases, finished - started, len(orders), len(items), delta)


def run_2026(base_url: str, speed: float, start: datetime, end: datetime) -> dict[str, Any]:
    client = client_for(base_url, speed)
    if WARM_TOKEN:
        client.token_provider.get()
    before = server_stats(base_url)
    started = time.perf_counter()
    orders, items = orders_domain.fetch_orders_with_items_2026(client, US, TIMEZONE, start, end)
    finished = time.perf_counter()
    delta = stats_delta(before, server_stats(base_url))
    client.close()
    phases = [phase("searchOrders", bucket_of(SEARCH_ORDERS), delta, finished - started, speed)]
    return summarize("2026-01-01", phases, finished - started, len(orders), len(items), delta)


def summarize(api: str, phases: list[dict[str, Any]], wall: float, orders: int, items: int,
              delta: dict[str, int]) -> dict[str, Any]:
    minimum = sequential_minimum([p["bucket_minimum_s"] for p in phases])
    calls = sum(p["calls"] for p in phases)
    throttled = sum(p["http_429"] for p in phases)
    requests_sent = calls + throttled
    result = {
        "orders_api": api,
        "orders": orders,
        "items": items,
        "calls": calls,
        "http_429": throttled,
        "http_429_share": round(throttled / requests_sent, 4) if requests_sent else 0.0,
        "wall_s": round(wall, 3),
        "bucket_minimum_s": round(minimum, 3),
        "ratio": ratio(wall, minimum),
        "phases": phases,
        "server_counters": {k: v for k, v in delta.items() if not k.startswith("lwa")},
    }
    log(f"{api}: {orders} orders, {items} items, {calls} calls, {throttled} x 429, wall {wall:.2f} s, "
        f"bucket minimum {minimum:.2f} s, ratio {result['ratio']}")
    return result


def capacity_probe(speed: float, orders_per_day: int, start: datetime, end: datetime,
                   max_orders: int) -> dict[str, Any]:
    """getOrderItems calls/s this machine sustains when the buckets do not limit (very high speed)."""
    with sandbox_process(speed=speed, orders_per_day=orders_per_day) as sandbox:
        client = client_for(sandbox.base_url, speed)
        orders = orders_domain.fetch_order_rows(client, US, TIMEZONE, start, end)[:max_orders]
        started = time.perf_counter()
        orders_domain.fetch_item_rows(client, orders)
        seconds = time.perf_counter() - started
        client.close()
    rate = len(orders) / seconds if seconds else 0.0
    log(f"capacity: {len(orders)} getOrderItems calls in {seconds:.2f} s = {rate:.0f} calls/s "
        f"with {orders_domain.ITEM_THREADS} threads")
    return {"speed": speed, "calls": len(orders), "wall_s": round(seconds, 3), "calls_per_s": round(rate, 1),
            "item_threads": orders_domain.ITEM_THREADS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--orders-per-day", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=1000.0)
    parser.add_argument("--capacity-speed", type=float, default=1_000_000.0,
                        help="sandbox speed of the capacity probe (0 skips it)")
    parser.add_argument("--item-threads", type=int, default=None,
                        help="override sp_assets.lib.orders.ITEM_THREADS (experiments only)")
    parser.add_argument("--warm-token", action="store_true",
                        help="diagnostic: get the LWA access token before the clock starts")
    parser.add_argument("--quick", action="store_true", help="500 orders a day (a smoke run, ~1 minute)")
    args = parser.parse_args()
    if args.quick:
        args.orders_per_day = min(args.orders_per_day, 500)
    if args.warm_token:
        global WARM_TOKEN
        WARM_TOKEN = True
    if args.item_threads:
        orders_domain.ITEM_THREADS = args.item_threads
    start, end = past_window(args.days)
    log(f"window {start:%Y-%m-%d}..{end:%Y-%m-%d} ({args.days} days), {args.orders_per_day} orders/day, "
        f"speed {args.speed:g}")
    machine = machine_info()
    runs = []
    for runner in (run_v0, run_2026):
        with sandbox_process(speed=args.speed, orders_per_day=args.orders_per_day) as sandbox:
            runs.append(runner(sandbox.base_url, args.speed, start, end))
    capacity = None
    if args.capacity_speed:
        capacity = capacity_probe(args.capacity_speed, args.orders_per_day, start, end, max_orders=3000)
        items_phase = runs[0]["phases"][1]
        capacity_minimum = items_phase["calls"] / capacity["calls_per_s"] if capacity["calls_per_s"] else 0.0
        capacity["getOrderItems_capacity_minimum_s"] = round(capacity_minimum, 3)
        capacity["v0_ratio_vs_max_of_bucket_and_capacity"] = ratio(
            runs[0]["wall_s"], runs[0]["phases"][0]["bucket_minimum_s"]
            + max(items_phase["bucket_minimum_s"], capacity_minimum))
    figures = []
    for run in runs:
        ok = run["ratio"] is not None and run["ratio"] <= RATIO_TARGET and run["http_429_share"] <= THROTTLED_TARGET
        figures.append(figure(
            f"quota efficiency, Orders {run['orders_api']} (wall / token-bucket minimum)", run["ratio"],
            f"<= {RATIO_TARGET}, 429s <= 1%", ok,
            f"{run['calls']} calls, {run['http_429']} x 429 ({run['http_429_share']:.2%}), "
            f"{run['wall_s']:.1f} s vs {run['bucket_minimum_s']:.1f} s"))
    emit({
        "benchmark": "quota",
        "machine": machine,
        "parameters": {"days": args.days, "orders_per_day": args.orders_per_day, "speed": args.speed,
                       "window_start": start.isoformat(), "window_end": end.isoformat(),
                       "item_threads": orders_domain.ITEM_THREADS, "quick": args.quick},
        "runs": runs,
        "capacity": capacity,
        "summary": figures,
    })


if __name__ == "__main__":
    sys.exit(main())
