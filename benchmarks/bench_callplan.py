"""Benchmark 2, call plan: order items through the all-orders report vs one getOrderItems per order.

The same history as ``bench_quota`` (7 days at 2,000 orders a day, sandbox at ``--speed 1000``), read
four ways, counting the calls the sandbox served (its own counters) and the wall time:

* ``per_order_v0``: getOrders pages, then getOrderItems per order (the assets' v0 plan);
* ``search_orders_2026``: searchOrders pages carrying the items (the assets' default plan);
* ``report_per_window``: ONE GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL for the 7-day window
  (a backfill chunk of ``BackfillPolicy.multi_run(7)``) through ``sp_assets.lib.reports.lifecycle.run_report``:
  createReport, getReport polls, getReportDocument, plus one document download (not an SP-API call);
* ``report_per_day``: one such report per daily partition (what 7 daily runs would do);
* ``assets_v0_orders_report_items``: the shipped assets, ``us/orders`` (Orders v0) and ``us/order_items``
  with ``order_items_source: report`` (one report per partition day), materialized in one in-process
  Dagster run over the 7 days (partition-range tags), as a ``multi_run(7)`` backfill chunk.

Headline: calls of the per-order plan (orders AND items) / calls of a report plan that still reads the
orders with getOrders and takes the items from ONE report per window. Target >= 50x fewer calls.
Also given: each plan's token-bucket minimum at Amazon's real rates (speed 1), i.e. how long the calls
alone would take against Amazon. Report polling time is not quota-bound: at speed 1000 it is mostly
the sandbox writing the document; on Amazon a report takes minutes.

Measured at the library level (``run_report``); ``--quota-json`` reuses the per-order and searchOrders
runs of a ``bench_quota`` result of the same window instead of fetching them again.

Usage: .venv/bin/python benchmarks/bench_callplan.py [--days 7] [--orders-per-day 2000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import bench_quota
from benchlib import (
    US,
    Bucket,
    bucket_minimum,
    client_for,
    emit,
    figure,
    log,
    machine_info,
    overlapped_minimum,
    past_window,
    ratio,
    sandbox_process,
    server_stats,
    stats_delta,
)

from sp_assets.lib.reports.ledger import ReportLedger
from sp_assets.lib.reports.lifecycle import PollPolicy, run_report
from sp_assets.lib.reports.request import ReportRequest
from sp_assets.sandbox.routes import orders as orders_routes
from sp_assets.sandbox.routes import orders_2026 as orders_2026_routes
from sp_assets.sandbox.routes import reports as reports_routes

ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
CALLS_TARGET = 50.0
SP_API_OPERATIONS = {op.name: Bucket(op.name, op.rate, op.burst) for op in (
    orders_routes.GET_ORDERS, orders_routes.GET_ORDER_ITEMS, orders_2026_routes.SEARCH_ORDERS,
    reports_routes.CREATE, reports_routes.GET_REPORT, reports_routes.GET_DOCUMENT)}
DOWNLOAD = reports_routes.DOWNLOAD.name


def calls_by_operation(delta: dict[str, int]) -> dict[str, int]:
    """Served calls per SP-API operation (took a token) and document downloads, from server counters."""
    out = {name: delta.get(f"{name}.served", 0) for name in SP_API_OPERATIONS}
    out = {name: count for name, count in out.items() if count}
    downloads = delta.get(f"{DOWNLOAD}.served", 0)
    if downloads:
        out[DOWNLOAD] = downloads
    return out


def amazon_minimum(calls: dict[str, int]) -> float:
    """Token-bucket minimum at speed 1 (Amazon's real rates), operations one after another."""
    return sum(bucket_minimum(n, SP_API_OPERATIONS[name], 1.0) for name, n in calls.items()
               if name in SP_API_OPERATIONS)


def plan_result(name: str, calls: dict[str, int], wall: float, rows: int, extra: dict[str, Any] | None = None,
                minimum: float | None = None) -> dict[str, Any]:
    """``minimum``: the plan's Amazon minimum when its operations overlap (default: one after another)."""
    api_calls = sum(n for op, n in calls.items() if op in SP_API_OPERATIONS)
    minimum = amazon_minimum(calls) if minimum is None else minimum
    log(f"{name}: {api_calls} SP-API calls {calls}, wall {wall:.2f} s, Amazon bucket minimum {minimum / 3600:.2f} h")
    return {"plan": name, "sp_api_calls": api_calls, "calls_by_operation": calls, "wall_s": round(wall, 3),
            "item_rows": rows, "amazon_bucket_minimum_s": round(minimum, 1), **(extra or {})}


def per_order_plans(args: argparse.Namespace, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The REST plans, from a bench_quota result when given, else fetched here."""
    quota = json.loads(Path(args.quota_json).read_text()) if args.quota_json else None
    same = quota is not None and all(
        quota["parameters"].get(key) == value for key, value in (
            ("days", args.days), ("orders_per_day", args.orders_per_day), ("speed", args.speed),
            ("window_start", start.isoformat())))
    if quota is not None and not same:
        log(f"{args.quota_json} measured another window or size: fetching the REST plans here")
    runs: dict[str, dict[str, Any]] = {}
    if same:
        for run in quota["runs"]:  # bench_quota repeats each plan: the first repetition of each
            runs.setdefault(run["orders_api"], run)
        log(f"per-order and searchOrders plans taken from {args.quota_json}")
    else:
        for api in ("v0", "2026-01-01"):
            with sandbox_process(speed=args.speed, orders_per_day=args.orders_per_day) as sandbox:
                run = bench_quota.run_plan(api, sandbox, args.speed, start, end)
                runs[run["orders_api"]] = run
    plans = []
    for name, api in (("per_order_v0", "v0"), ("search_orders_2026", "2026-01-01")):
        run = runs[api]
        calls = {p["operation"]: p["calls"] for p in run["operations"]}
        minimum = None
        if api == "v0":  # the item calls overlap the pages (fetch_orders_with_items_v0): the physical limit
            minimum = overlapped_minimum(
                calls.get(orders_routes.GET_ORDERS.name, 0), SP_API_OPERATIONS[orders_routes.GET_ORDERS.name],
                calls.get(orders_routes.GET_ORDER_ITEMS.name, 0),
                SP_API_OPERATIONS[orders_routes.GET_ORDER_ITEMS.name], 1.0)
        plans.append(plan_result(name, calls, run["wall_s"], run["items"], {"orders": run["orders"]}, minimum))
    return plans


def report_plan(name: str, base_url: str, speed: float, windows: list[tuple[datetime, datetime]],
                work: Path) -> dict[str, Any]:
    """One all-orders report per window, one after another, through the library's lifecycle."""
    client = client_for(base_url, speed)
    ledger = ReportLedger(work / f"{name}.sqlite")
    before = server_stats(base_url)
    started = time.perf_counter()
    rows = polls = 0
    for window_start, window_end in windows:
        request = ReportRequest(ALL_ORDERS, [US], window_start, window_end - timedelta(seconds=1))
        outcome = run_report(client, ledger, request, poll=PollPolicy(), work_dir=work)
        rows += outcome.rows or 0
        outcome.cleanup()
        ledger.mark_consumed(client.credential_id, request, outcome.report_id)
    wall = time.perf_counter() - started
    delta = stats_delta(before, server_stats(base_url))
    client.close()
    calls = calls_by_operation(delta)
    polls = calls.get("getReport", 0)
    return plan_result(name, calls, wall, rows, {"reports": len(windows), "getReport_polls": polls})


def asset_report_plan(args: argparse.Namespace, start: datetime, end: datetime, scratch: Path) -> dict[str, Any]:
    """The shipped path: ``us/orders`` (Orders v0) + ``us/order_items`` with ``order_items_source: report``,
    materialized in-process for the whole window as one backfill-chunk run (partition-range tags)."""
    import warnings

    import dagster as dg
    from bench_orchestration import RANGE_END, RANGE_START, console_config, sandbox_environment

    from sp_assets.defs.config import parse_config
    from sp_assets.defs.orders.assets import build_orders_assets
    from sp_assets.defs.resources import WarehouseResource, resource_key, sp_api_resource

    warnings.filterwarnings("ignore")
    first, last = start.date(), (end - timedelta(days=1)).date()
    config = parse_config({"defaults": {"start_date": (first - timedelta(days=5)).isoformat(), "orders_api": "v0",
                                        "order_items_source": "report"},
                           "marketplaces": {"us": {"timezone": "UTC"}}})
    entry = config.get("us")
    orders_asset, _upserts, items_asset = build_orders_assets(entry)
    data_dir = scratch / "asset_plan"
    with sandbox_process(speed=args.speed, orders_per_day=args.orders_per_day) as sandbox:
        sandbox_environment(sandbox.base_url, args.speed, data_dir)
        resources = {resource_key("us"): sp_api_resource(entry),
                     "warehouse": WarehouseResource(database=str(data_dir / "bench.duckdb"))}
        home = scratch / "asset_plan_dagster_home"
        home.mkdir()
        instance = dg.DagsterInstance.local_temp(tempdir=str(home))
        before = server_stats(sandbox.base_url)
        started = time.perf_counter()
        result = dg.materialize([orders_asset, items_asset], tags={RANGE_START: first.isoformat(),
                                                                   RANGE_END: last.isoformat()},
                                resources=resources, instance=instance, run_config=console_config("WARNING"))
        wall = time.perf_counter() - started
        delta = stats_delta(before, server_stats(sandbox.base_url))
        instance.dispose()
    if not result.success:
        raise RuntimeError("the orders + order_items (report) run failed")
    from sp_assets.lib.warehouse import Warehouse

    rows = Warehouse(data_dir / "bench.duckdb").row_count("us", "order_items")
    return plan_result("assets_v0_orders_report_items", calls_by_operation(delta), wall, rows,
                       {"reports": (last - first).days + 1, "note": "one Dagster run, one report per partition day"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--orders-per-day", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=1000.0)
    parser.add_argument("--quota-json", help="reuse the REST runs of a bench_quota JSON result (same window)")
    parser.add_argument("--no-assets", action="store_true", help="skip the Dagster run of the shipped assets")
    parser.add_argument("--quick", action="store_true", help="500 orders a day")
    args = parser.parse_args()
    if args.quick:
        args.orders_per_day = min(args.orders_per_day, 500)
    start, end = past_window(args.days)
    log(f"window {start:%Y-%m-%d}..{end:%Y-%m-%d}, {args.orders_per_day} orders/day, speed {args.speed:g}")
    machine = machine_info()
    plans = per_order_plans(args, start, end)
    days = [(start + timedelta(days=d), start + timedelta(days=d + 1)) for d in range(args.days)]
    with tempfile.TemporaryDirectory(prefix="bench_callplan_") as scratch:
        for name, windows in (("report_per_window", [(start, end)]), ("report_per_day", days)):
            with sandbox_process(speed=args.speed, orders_per_day=args.orders_per_day) as sandbox:
                plans.append(report_plan(name, sandbox.base_url, args.speed, windows, Path(scratch)))
        if not args.no_assets:
            plans.append(asset_report_plan(args, start, end, Path(scratch)))
    by_name = {plan["plan"]: plan for plan in plans}
    per_order, search = by_name["per_order_v0"], by_name["search_orders_2026"]
    get_orders_calls = per_order["calls_by_operation"].get("getOrders", 0)
    combined = {name: get_orders_calls + by_name[name]["sp_api_calls"] for name in ("report_per_window",
                                                                                   "report_per_day")}
    headline = ratio(per_order["sp_api_calls"], combined["report_per_window"])
    comparisons = {
        "per_order_calls / (getOrders + report_per_window calls)": headline,
        "per_order_calls / (getOrders + report_per_day calls)": ratio(per_order["sp_api_calls"],
                                                                      combined["report_per_day"]),
        "getOrderItems calls / report_per_window calls (items alone)": ratio(
            per_order["calls_by_operation"].get("getOrderItems", 0), by_name["report_per_window"]["sp_api_calls"]),
        "per_order_calls / searchOrders calls": ratio(per_order["sp_api_calls"], search["sp_api_calls"]),
        "per_order wall / report_per_window wall (speed 1000)": ratio(per_order["wall_s"],
                                                                       by_name["report_per_window"]["wall_s"]),
    }
    assets = by_name.get("assets_v0_orders_report_items")
    if assets is not None:
        comparisons["per_order_calls / assets (orders v0 + order_items_source: report) calls"] = ratio(
            per_order["sp_api_calls"], assets["sp_api_calls"])
    for label, value in comparisons.items():
        log(f"{label}: {value}")
    summary = []
    if assets is not None:
        value = comparisons["per_order_calls / assets (orders v0 + order_items_source: report) calls"]
        summary.append(figure(
            "call plan: per-order calls / the shipped assets with order_items_source: report (7-day run)", value,
            f">= {CALLS_TARGET:g}x", value is not None and value >= CALLS_TARGET,
            f"{per_order['sp_api_calls']} vs {assets['sp_api_calls']} calls {assets['calls_by_operation']}; "
            f"wall {per_order['wall_s']:.1f} s vs {assets['wall_s']:.1f} s at speed {args.speed:g}"))
    summary += [
        figure("call plan: per-order calls / (getOrders + 1 report per 7-day window)", headline,
               f">= {CALLS_TARGET:g}x", headline is not None and headline >= CALLS_TARGET,
               f"{per_order['sp_api_calls']} vs {combined['report_per_window']} calls; one report per day: "
               f"{comparisons['per_order_calls / (getOrders + report_per_day calls)']}x"),
    ]
    emit({
        "benchmark": "callplan",
        "machine": machine,
        "parameters": {"days": args.days, "orders_per_day": args.orders_per_day, "speed": args.speed,
                       "window_start": start.isoformat(), "window_end": end.isoformat(), "quick": args.quick,
                       "reused_quota_json": bool(args.quota_json)},
        "plans": plans,
        "comparisons": comparisons,
        "summary": summary,
    })


if __name__ == "__main__":
    sys.exit(main())
