"""Benchmark 1, quota efficiency: how close an orders sync comes to the limit Amazon's token buckets set.

Orders and their items for a 7-day window at 2,000 orders a day (~14,000 orders), fetched with the
assets' own fetch functions (``sp_assets/lib/orders.py``) from a sandbox process at ``--speed 1000``
that enforces Amazon's buckets. Two plans, each run ``--repeat`` times (default 3) against a fresh
sandbox (full buckets):

* **Orders v0** (``fetch_orders_with_items_v0``, what the orders multi-asset runs): getOrders pages
  (rate 0.0167/s, burst 20) with one getOrderItems per order (0.5/s, burst 30; ``ITEM_THREADS``
  threads) started as soon as the order's page is in. The limit is the PHYSICAL one
  (``overlapped_minimum``): the two operations are separate buckets, so any client can overlap them;
  only an order's page must come before its items. It is the slower bucket's minimum here (the item
  bucket), not the sum of both, which is only the limit of a client that reads every page first
  (``--two-pass`` measures that plan too, against both limits).
* **Orders v2026-01-01**: searchOrders pages (0.0056/s, burst 20) carry the items: one operation.

Figure: wall time / limit, over the calls the sandbox actually served (its ``/_sandbox/stats``);
min/median/max over the repetitions. Target: median <= 1.15, and 429 answers <= 1% of the requests in
every repetition. Beside it: the sandbox process's CPU time as a share of the wall time (from
/proc/<pid>/stat; near 100% would mean the sandbox, not the client, sets the pace) and the load
average before and after each run. A diagnostic run against a sandbox at ``--capacity-speed``
(buckets effectively unlimited) measures what this machine can push through the getOrderItems plan
at all.

Usage: .venv/bin/python benchmarks/bench_quota.py [--days 7] [--orders-per-day 2000] [--speed 1000]
       [--repeat 3] [--two-pass] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from benchlib import (
    US,
    Bucket,
    CpuShare,
    bucket_minimum,
    client_for,
    emit,
    figure,
    load_average,
    log,
    machine_info,
    overlapped_minimum,
    past_window,
    ratio,
    sandbox_process,
    sequential_minimum,
    server_stats,
    show,
    spread,
    stats_delta,
)

from sp_assets.lib import orders as orders_domain
from sp_assets.lib.spapi import SPAPIClient
from sp_assets.sandbox.routes.orders import GET_ORDER_ITEMS, GET_ORDERS
from sp_assets.sandbox.routes.orders_2026 import SEARCH_ORDERS
from sp_assets.sandbox.server import SandboxProcess

TIMEZONE = "America/Los_Angeles"
RATIO_TARGET = 1.15
THROTTLED_TARGET = 0.01
WARM_TOKEN = False


def bucket_of(operation: Any) -> Bucket:
    return Bucket(operation.name, operation.rate, operation.burst)


def operation_stats(bucket: Bucket, stats: dict[str, int], speed: float) -> dict[str, Any]:
    """One operation's calls (served = took a token on the server), 429s and bucket minimum."""
    served = stats.get(f"{bucket.operation}.served", 0)
    return {"operation": bucket.operation, "calls": served, "http_429": stats.get(f"{bucket.operation}.429", 0),
            "bucket_minimum_s": round(bucket_minimum(served, bucket, speed), 3),
            "rate_per_s": round(bucket.rate * speed, 3), "burst": bucket.burst}


def measured(sandbox: SandboxProcess, speed: float, fetch: Callable[[SPAPIClient], tuple[int, int]]
             ) -> tuple[float, int, int, dict[str, int], dict[str, Any], list[float]]:
    """Run ``fetch`` once: wall, orders, items, the sandbox's counters, its CPU share, load before."""
    client = client_for(sandbox.base_url, speed)
    if WARM_TOKEN:
        client.token_provider.get()
    before = server_stats(sandbox.base_url)
    load_before = load_average()
    assert sandbox.process is not None
    cpu = CpuShare(sandbox.process.pid)
    started = time.perf_counter()
    orders, items = fetch(client)
    wall = time.perf_counter() - started
    sandbox_cpu = cpu.stop()
    delta = stats_delta(before, server_stats(sandbox.base_url))
    client.close()
    return wall, orders, items, delta, sandbox_cpu, load_before


def fetch_v0(client: SPAPIClient, start: datetime, end: datetime) -> tuple[int, int]:
    """Orders v0 as the asset runs it: item calls overlap the getOrders pages."""
    orders, items = orders_domain.fetch_orders_with_items_v0(client, US, TIMEZONE, start, end)
    return len(orders), len(items)


def fetch_v0_two_pass(client: SPAPIClient, start: datetime, end: datetime) -> tuple[int, int]:
    """Orders v0 the old way (every page, then the items): diagnostic, against both limits."""
    orders = orders_domain.fetch_order_rows(client, US, TIMEZONE, start, end)
    return len(orders), len(orders_domain.fetch_item_rows(client, orders))


def fetch_2026(client: SPAPIClient, start: datetime, end: datetime) -> tuple[int, int]:
    """Orders v2026-01-01: searchOrders pages carry the items."""
    orders, items = orders_domain.fetch_orders_with_items_2026(client, US, TIMEZONE, start, end)
    return len(orders), len(items)


# The plans, by the ``orders_api`` name their results carry; ``summarize`` picks the limits by that name.
PLANS: dict[str, Callable[[SPAPIClient, datetime, datetime], tuple[int, int]]] = {
    "v0": fetch_v0, "2026-01-01": fetch_2026, "v0 two-pass": fetch_v0_two_pass}


def run_plan(api: str, sandbox: SandboxProcess, speed: float, start: datetime, end: datetime) -> dict[str, Any]:
    """One run of the plan ``api`` (a key of ``PLANS``) against ``sandbox``, summarized."""
    wall, orders, items, delta, cpu, load = measured(sandbox, speed, lambda client: PLANS[api](client, start, end))
    return summarize(api, wall, orders, items, delta, cpu, load, speed)


def summarize(api: str, wall: float, orders: int, items: int, delta: dict[str, int], sandbox_cpu: dict[str, Any],
              load_before: list[float], speed: float) -> dict[str, Any]:
    if api.startswith("v0"):
        pages, per_order = bucket_of(GET_ORDERS), bucket_of(GET_ORDER_ITEMS)
        operations = [operation_stats(pages, delta, speed), operation_stats(per_order, delta, speed)]
        physical = overlapped_minimum(operations[0]["calls"], pages, operations[1]["calls"], per_order, speed)
        two_pass = sequential_minimum([o["bucket_minimum_s"] for o in operations])
        limits = {"physical_s": round(physical, 3), "slower_bucket_s": max(o["bucket_minimum_s"] for o in operations),
                  "two_pass_sum_s": round(two_pass, 3)}
    else:
        operations = [operation_stats(bucket_of(SEARCH_ORDERS), delta, speed)]
        physical = operations[0]["bucket_minimum_s"]
        limits = {"physical_s": physical}
    calls = sum(o["calls"] for o in operations)
    throttled = sum(o["http_429"] for o in operations)
    requests_sent = calls + throttled
    result = {
        "orders_api": api,
        "orders": orders,
        "items": items,
        "calls": calls,
        "http_429": throttled,
        "requests": requests_sent,
        "http_429_share": round(throttled / requests_sent, 4) if requests_sent else 0.0,
        "wall_s": round(wall, 3),
        "limit_s": round(physical, 3),
        "limits": limits,
        "ratio": ratio(wall, physical),
        "ratio_two_pass_sum": ratio(wall, limits["two_pass_sum_s"]) if "two_pass_sum_s" in limits else None,
        "operations": operations,
        "sandbox_cpu": sandbox_cpu,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "server_counters": {k: v for k, v in delta.items() if not k.startswith("lwa")},
    }
    log(f"{api}: {orders} orders, {items} items, {calls} calls, {throttled} x 429, wall {wall:.2f} s, "
        f"limit {physical:.2f} s, ratio {result['ratio']}, sandbox CPU {sandbox_cpu['share']}, client CPU "
        f"{sandbox_cpu['client_share']}, machine idle {sandbox_cpu['machine_idle_share']}, "
        f"load {load_before[0]} -> {result['load_average_after'][0]}")
    return result


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One plan's repetitions: min/median/max of the ratio, the wall and the sandbox's CPU share."""
    shares = [r["sandbox_cpu"]["share"] for r in runs if r["sandbox_cpu"]["share"] is not None]
    idle = [r["sandbox_cpu"]["machine_idle_share"] for r in runs if r["sandbox_cpu"]["machine_idle_share"] is not None]
    return {
        "client_cpu_share": spread([r["sandbox_cpu"]["client_share"] for r in runs]),
        "machine_idle_share": spread(idle) if idle else None,
        "orders_api": runs[0]["orders_api"],
        "repetitions": len(runs),
        "ratio": spread([r["ratio"] for r in runs]),
        "wall_s": spread([r["wall_s"] for r in runs], 2),
        "limit_s": round(statistics.median(r["limit_s"] for r in runs), 3),
        "limits": runs[len(runs) // 2]["limits"],
        "ratio_two_pass_sum": (spread([r["ratio_two_pass_sum"] for r in runs])
                               if runs[0]["ratio_two_pass_sum"] is not None else None),
        "calls": runs[0]["calls"],
        "http_429": [r["http_429"] for r in runs],
        "requests": [r["requests"] for r in runs],
        "http_429_share_max": max(r["http_429_share"] for r in runs),
        "sandbox_cpu_share": spread(shares) if shares else None,
        "load_average_1min": spread([x for r in runs for x in (r["load_average_before"][0],
                                                                r["load_average_after"][0])], 2),
    }


def capacity_probe(speed: float, orders_per_day: int, start: datetime, end: datetime,
                   max_orders: int) -> dict[str, Any]:
    """getOrderItems calls/s this machine sustains when the buckets do not limit (very high speed)."""
    with sandbox_process(speed=speed, orders_per_day=orders_per_day) as sandbox:
        client = client_for(sandbox.base_url, speed)
        orders = orders_domain.fetch_order_rows(client, US, TIMEZONE, start, end)[:max_orders]
        assert sandbox.process is not None
        cpu = CpuShare(sandbox.process.pid)
        started = time.perf_counter()
        orders_domain.fetch_item_rows(client, orders)
        seconds = time.perf_counter() - started
        sandbox_cpu = cpu.stop()
        client.close()
    rate = len(orders) / seconds if seconds else 0.0
    log(f"capacity: {len(orders)} getOrderItems calls in {seconds:.2f} s = {rate:.0f} calls/s "
        f"with {orders_domain.ITEM_THREADS} threads, sandbox CPU {sandbox_cpu['share']}")
    return {"speed": speed, "calls": len(orders), "wall_s": round(seconds, 3), "calls_per_s": round(rate, 1),
            "item_threads": orders_domain.ITEM_THREADS, "sandbox_cpu": sandbox_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--orders-per-day", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=1000.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each plan (min/median/max reported)")
    parser.add_argument("--two-pass", action="store_true",
                        help="also run the old v0 plan (every page, then the items): diagnostic")
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
        f"speed {args.speed:g}, {args.repeat} repetitions")
    machine = machine_info()
    plans = ["v0", "2026-01-01"] + (["v0 two-pass"] if args.two_pass else [])
    runs: dict[str, list[dict[str, Any]]] = {}
    for repetition in range(1, args.repeat + 1):
        for api in plans:
            with sandbox_process(speed=args.speed, orders_per_day=args.orders_per_day) as sandbox:
                result = run_plan(api, sandbox, args.speed, start, end)
            result["repetition"] = repetition
            runs.setdefault(result["orders_api"], []).append(result)
    plans_summary = {api: aggregate(plan_runs) for api, plan_runs in runs.items()}
    capacity = None
    if args.capacity_speed:
        capacity = capacity_probe(args.capacity_speed, args.orders_per_day, start, end, max_orders=3000)
    figures = []
    for plan in plans_summary.values():
        two_pass = plan["orders_api"] == "v0 two-pass"
        ok = (plan["ratio"]["median"] <= RATIO_TARGET and plan["http_429_share_max"] <= THROTTLED_TARGET
              if not two_pass else None)
        cpu = plan["sandbox_cpu_share"]
        limit = ("physical limit: the slower bucket, item calls overlapping the pages" if plan["orders_api"] == "v0"
                 else "physical limit" if not two_pass else "physical limit; vs its own two-pass sum "
                 + show(plan["ratio_two_pass_sum"]))
        figures.append(figure(
            f"quota efficiency, Orders {plan['orders_api']}: wall / {limit}, median of {plan['repetitions']}",
            plan["ratio"]["median"], f"<= {RATIO_TARGET}, 429s <= 1%" if not two_pass else "(diagnostic)", ok,
            f"ratio min/median/max {show(plan['ratio'])}; {plan['calls']} calls, 429s {plan['http_429']} of "
            f"{plan['requests']} (worst {plan['http_429_share_max']:.2%}); wall {show(plan['wall_s'])} s vs "
            f"limit {plan['limit_s']:.2f} s; sandbox CPU "
            + (f"{show({k: round(v * 100, 1) for k, v in cpu.items()})}% of wall" if cpu else "n/a")
            + f", client CPU {show({k: round(v * 100) for k, v in plan['client_cpu_share'].items()})}%"
            + (f", machine idle {show({k: round(v * 100) for k, v in plan['machine_idle_share'].items()})}%"
               if plan["machine_idle_share"] else "")
            + f"; load (1 min) {show(plan['load_average_1min'])}"))
    emit({
        "benchmark": "quota",
        "machine": machine,
        "parameters": {"days": args.days, "orders_per_day": args.orders_per_day, "speed": args.speed,
                       "repeat": args.repeat, "window_start": start.isoformat(), "window_end": end.isoformat(),
                       "item_threads": orders_domain.ITEM_THREADS, "quick": args.quick},
        "plans": plans_summary,
        "runs": [run for plan_runs in runs.values() for run in plan_runs],
        "capacity": capacity,
        "summary": figures,
    })


if __name__ == "__main__":
    sys.exit(main())
