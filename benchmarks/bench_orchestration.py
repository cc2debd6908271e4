"""Benchmark 5, orchestration overhead: Dagster's share of a 90-day backfill of ``us/orders``.

The ``us_orders`` multi-asset (orders + order_items, Orders v2026-01-01, from
``sp_assets.defs.orders.assets.build_orders_assets``) is backfilled over 90 past days against a
sandbox process at ``--speed 1000``, with real resources (SP-API resource in sandbox mode, DuckDB
warehouse on a temp file) and a persistent (SQLite) temporary Dagster instance, two ways:

* ``chunks``: one in-process ``dg.materialize`` per 7-day chunk with the partition-range tags, as
  ``BackfillPolicy.multi_run(max_partitions_per_run=7)`` launches them (13 runs);
* ``per_partition``: one run per daily partition (90 runs).

The API and DuckDB time is measured inside the runs by timing the functions the asset calls (the
fetch function, ``frame_from_records`` and ``Warehouse.replace_partition``, wrapped at module level;
the library is not changed). Dagster's share = (total wall time - API - frame building - DuckDB) /
total wall time: run creation, event log writes, resource set-up, step start-up and teardown.
Target <= 15%.

A backfill is quota-bound: while Dagster starts and ends runs, the searchOrders bucket refills, so
the next run's calls wait less. The time "in the API" therefore shrinks by about what Dagster spends,
and the share above counts time that did not make the backfill longer. So the result also gives
what Dagster ADDED: (total - max(token-bucket minimum of the calls made, API + frames + DuckDB)) /
total, and the wall time / token-bucket minimum. It also gives the share projected at Amazon's real
rates (speed 1: the API time becomes the bucket minimum of the same calls), and times, in a fresh
process, what each run process of a deployed instance pays first: importing the code location.

Side by side, in the same run (``layouts``): the shipped layout (in-process executor, every asset's
checks in its step, the consolidated event log of ``dagster.yaml``) against the layout before issue 17
(Dagster's default multiprocess executor, every check its own step, Dagster's default storage;
``orchestration_layouts.py`` keeps it for this comparison), each launched as a run worker launches a
run (``dg.execute_job`` of a reconstructable job on an instance configured by the project's
``dagster.yaml``): per-partition runs of ``us_orders`` with its checks, and one-day runs of the whole
``us_rolling_job`` (every rolling asset and check), alternating old and new. There the work of a run
is the union of the wall-clock intervals its processes spent in SP-API calls and report polling,
frame building and DuckDB (logged by every step process); orchestration = wall - work. Asset code
outside those calls (run metadata, parsing a report, building a request) counts as orchestration, so
the share is an upper bound; the run worker's own start (importing the code location) is not in the
runs and is added per run in a second figure.

Usage: .venv/bin/python benchmarks/bench_orchestration.py [--days 90] [--orders-per-day 300] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchlib import (
    ROOT,
    Bucket,
    bucket_minimum,
    emit,
    figure,
    log,
    machine_info,
    ratio,
    sandbox_process,
    server_stats,
    stats_delta,
)

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
SHARE_TARGET = 0.15
CHUNK_DAYS = 7

def console_config(level: str) -> dict[str, Any]:
    """Run config of the console logger: every event is still written to the event log either way."""
    return {"loggers": {"console": {"config": {"log_level": level}}}}


class Timers:
    """Seconds spent in each instrumented function, summed over every call in this process."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, key: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started
                self.calls[key] = self.calls.get(key, 0) + 1

        return timed_call

    def snapshot(self) -> dict[str, float]:
        return dict(self.seconds)


def instrument(timers: Timers) -> None:
    """Time the fetch, the frame building and the DuckDB write of the orders assets (measurement only)."""
    from sp_assets.defs.orders import assets as orders_assets
    from sp_assets.lib.warehouse import Warehouse

    for name in ("fetch_orders_with_items_2026", "fetch_order_rows", "fetch_item_rows"):
        setattr(orders_assets, name, timers.wrap("api_s", getattr(orders_assets, name)))
    orders_assets.frame_from_records = timers.wrap("frames_s", orders_assets.frame_from_records)
    Warehouse.replace_partition = timers.wrap("duckdb_s", Warehouse.replace_partition)


def sandbox_environment(base_url: str, speed: float, data_dir: Path) -> None:
    """What ``sp_assets_tests/defs/conftest.py`` sets: sandbox mode against one sandbox process."""
    os.environ.update({"SP_API_ENDPOINT": base_url, "SP_SANDBOX_SPEED": f"{speed:g}", "SP_ASSETS_SANDBOX": "1",
                       "SP_ASSETS_DATA_DIR": str(data_dir), "SP_ASSETS_DUCKDB": str(data_dir / "bench.duckdb")})
    for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN"):
        os.environ.pop(name, None)


def backfill(mode: str, days: list[date], args: argparse.Namespace, scratch: Path, timers: Timers
             ) -> dict[str, Any]:
    import dagster as dg

    from sp_assets.defs.config import parse_config
    from sp_assets.defs.orders.assets import build_orders_assets
    from sp_assets.defs.resources import WarehouseResource, resource_key, sp_api_resource
    from sp_assets.sandbox.routes.orders_2026 import SEARCH_ORDERS

    data_dir = scratch / mode
    config = parse_config({"defaults": {"start_date": (days[0] - timedelta(days=5)).isoformat(),
                                        "orders_api": "2026-01-01"},
                           "marketplaces": {"us": {"timezone": "UTC"}}})
    entry = config.get("us")
    assets = build_orders_assets(entry)[:1]
    if mode == "chunks":
        runs = [days[i:i + CHUNK_DAYS] for i in range(0, len(days), CHUNK_DAYS)]
    else:
        runs = [[day] for day in days]
    with sandbox_process(speed=args.speed, orders_per_day=args.orders_per_day) as sandbox:
        sandbox_environment(sandbox.base_url, args.speed, data_dir)
        resources = {resource_key("us"): sp_api_resource(entry),
                     "warehouse": WarehouseResource(database=str(data_dir / "bench.duckdb"))}
        home = scratch / f"{mode}_dagster_home"
        home.mkdir()
        instance = dg.DagsterInstance.local_temp(tempdir=str(home))
        before_stats, before_timers = server_stats(sandbox.base_url), timers.snapshot()
        per_run: list[float] = []
        run_config = console_config(args.console_log_level)
        started = time.perf_counter()
        for chunk in runs:
            run_started = time.perf_counter()
            if len(chunk) == 1:
                result = dg.materialize(assets, partition_key=chunk[0].isoformat(), resources=resources,
                                        instance=instance, run_config=run_config)
            else:
                result = dg.materialize(assets, tags={RANGE_START: chunk[0].isoformat(),
                                                      RANGE_END: chunk[-1].isoformat()},
                                        resources=resources, instance=instance, run_config=run_config)
            if not result.success:
                raise RuntimeError(f"{mode}: the run for {chunk[0]}..{chunk[-1]} failed")
            per_run.append(time.perf_counter() - run_started)
        total = time.perf_counter() - started
        delta = stats_delta(before_stats, server_stats(sandbox.base_url))
        instance.dispose()
    spent = {key: value - before_timers.get(key, 0.0) for key, value in timers.snapshot().items()}
    api, frames, duckdb_s = spent.get("api_s", 0.0), spent.get("frames_s", 0.0), spent.get("duckdb_s", 0.0)
    dagster_s = total - api - frames - duckdb_s
    calls = delta.get("searchOrders.served", 0)
    bucket = Bucket(SEARCH_ORDERS.name, SEARCH_ORDERS.rate, SEARCH_ORDERS.burst)
    amazon_api = bucket_minimum(calls, bucket, 1.0)
    quota_floor = bucket_minimum(calls, bucket, args.speed)
    result = {
        "mode": mode,
        "runs": len(runs),
        "partitions": len(days),
        "total_s": round(total, 2),
        "api_s": round(api, 2),
        "frames_s": round(frames, 2),
        "duckdb_s": round(duckdb_s, 2),
        "dagster_s": round(dagster_s, 2),
        "dagster_share": ratio(dagster_s, total),
        "dagster_s_per_run": round(dagster_s / len(runs), 3),
        "run_wall_s": {"min": round(min(per_run), 3), "median": round(sorted(per_run)[len(per_run) // 2], 3),
                       "max": round(max(per_run), 3)},
        "searchOrders_calls": calls,
        "http_429": delta.get("searchOrders.429", 0),
        "api_bucket_minimum_speed_s": round(quota_floor, 2),
        "amazon_api_bucket_minimum_s": round(amazon_api, 1),
        "wall_over_bucket_minimum": ratio(total, quota_floor),
        # What Dagster added to the wall time: beyond both the quota floor and the asset's own work.
        "dagster_cost_share": ratio(max(0.0, total - max(quota_floor, api + frames + duckdb_s)), total),
        "dagster_share_at_amazon_rates": round(dagster_s / (dagster_s + frames + duckdb_s + max(api, amazon_api)), 6),
        "rows_written": _rows(data_dir / "bench.duckdb"),
    }
    log(f"{mode}: {len(runs)} runs in {total:.1f} s: API {api:.1f} s, frames {frames:.1f} s, DuckDB {duckdb_s:.1f} s, "
        f"Dagster {dagster_s:.1f} s ({result['dagster_share']:.1%}; {result['dagster_s_per_run']:.2f} s/run)")
    return result


def project_instance(home: Path, *, consolidated_event_log: bool) -> Any:
    """An instance configured by the project's ``dagster.yaml``, as a deployment runs (pools, whose slot
    claims are events too, included). ``consolidated_event_log`` adds Dagster's one-database SQLite event
    log, measured in BENCHMARKS.md 5.1 but not shipped (Dagster meant it for tests)."""
    import dagster as dg
    import yaml

    settings = yaml.safe_load((ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    if consolidated_event_log:
        settings["event_log_storage"] = {"module": "dagster._core.storage.event_log",
                                         "class": "ConsolidatedSqliteEventLogStorage",
                                         "config": {"base_dir": {"env": "DAGSTER_HOME"}}}
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)  # the storage's base_dir reads it
    return dg.DagsterInstance.from_config(str(home))


def _min_median_max(values: list[float]) -> list[float]:
    ordered = sorted(values)
    return [round(ordered[0], 2), round(ordered[len(ordered) // 2], 2), round(ordered[-1], 2)]


def layout_runs(job: str, layout: str, days: list[date], args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """One run per day of ``job`` (``orders`` or ``rolling``) in ``layout`` (``new`` or ``old``), fresh
    sandbox, warehouse and instance; each run's wall time and work (see the module docstring)."""
    import json

    import dagster as dg
    import orchestration_layouts as layouts
    from dagster._core.definitions.reconstruct import ReconstructableJob

    data_dir = scratch / f"{job}_{layout}_{time.monotonic_ns()}"
    data_dir.mkdir(parents=True)
    work_log = data_dir / "work.log"
    os.environ[layouts.CONFIG_JSON] = json.dumps({
        "defaults": {"start_date": (days[0] - timedelta(days=5)).isoformat(), "orders_api": "2026-01-01"},
        "marketplaces": {"us": {"timezone": "UTC"}}})
    os.environ[layouts.WORK_LOG] = str(work_log)
    layouts.instrument()
    runs = []
    with sandbox_process(speed=args.speed, orders_per_day=args.orders_per_day) as sandbox:
        sandbox_environment(sandbox.base_url, args.speed, data_dir)
        instance = project_instance(data_dir / "home", consolidated_event_log=False)  # as shipped
        # Step processes load the job from this file (benchmarks/ is not an importable package).
        reconstructable = ReconstructableJob.for_file(layouts.__file__, layouts.JOBS[(job, layout)].__name__)
        for day in days:
            work_log.write_text("")
            started = time.time()
            result = dg.execute_job(reconstructable, instance, run_config=console_config(args.console_log_level),
                                    tags={"dagster/partition": day.isoformat()})
            wall = time.time() - started
            if not result.success:
                raise RuntimeError(f"{job} {layout}: the run for {day} failed")
            intervals = layouts.read_work_log(str(work_log))
            work = layouts.union_seconds([i for found in intervals.values() for i in found])
            events = instance.all_logs(result.run_id)  # after the wall time: what the run wrote
            runs.append({"wall_s": wall, "work_s": work, "events": len(events),
                         "event_types": dict(Counter(e.dagster_event_type.value for e in events
                                                     if e.dagster_event_type is not None)),
                         **{f"{k}_s": layouts.union_seconds(v) for k, v in intervals.items()},
                         "steps": sum(1 for e in result.all_events if e.event_type_value == "STEP_SUCCESS")})
        instance.dispose()
    wall = sum(r["wall_s"] for r in runs)
    work = sum(r["work_s"] for r in runs)
    shares = sorted(1 - r["work_s"] / r["wall_s"] for r in runs)
    out = {"job": job, "layout": layout, "runs": len(runs), "steps_per_run": runs[0]["steps"],
           "events_per_run": runs[0]["events"], "event_types_first_run": runs[0]["event_types"],
           "total_s": round(wall, 2), "work_s": round(work, 2),
           **{k: round(sum(r.get(k, 0.0) for r in runs), 2) for k in ("api_s", "frames_s", "duckdb_s")},
           "orchestration_share": ratio(wall - work, wall),
           "share_min_median_max": [round(shares[0], 3), round(shares[len(shares) // 2], 3), round(shares[-1], 3)],
           "run_wall_s_min_median_max": _min_median_max([r["wall_s"] for r in runs])}
    log(f"{job} {layout}: {len(runs)} runs in {wall:.1f} s ({runs[0]['steps']} steps each), work {work:.1f} s, "
        f"orchestration {out['orchestration_share']:.1%}, {runs[0]['events']} events per run")
    return out


def compare_layouts(days: list[date], args: argparse.Namespace, scratch: Path) -> list[dict[str, Any]]:
    """Per-partition order runs and one-day rolling runs, new layout then old, alternating for the rolling job."""
    results = [layout_runs("orders", "new", days, args, scratch),
               layout_runs("orders", "old", days[:args.old_days], args, scratch)]
    rolling_day = [days[-1]]
    for _ in range(args.rolling_repeats):
        results += [layout_runs("rolling", "new", rolling_day, args, scratch),
                    layout_runs("rolling", "old", rolling_day, args, scratch)]
    return results


def layout_summary(results: list[dict[str, Any]], import_s: float) -> list[dict[str, Any]]:
    """Median share per job and layout; the detail also gives it with a fresh process per run, as a
    deployed run worker starts (``import_s`` to import the code location, not in the runs measured)."""
    rows = []
    targets = {"orders": 0.15, "rolling": 0.25}
    for job in ("orders", "rolling"):
        for layout in ("new", "old"):
            found = [r for r in results if r["job"] == job and r["layout"] == layout]
            shares = sorted(r["orchestration_share"] for r in found)
            walls = sorted(r["total_s"] for r in found)
            share = shares[len(shares) // 2]
            median = sorted(found, key=lambda r: r["orchestration_share"])[len(found) // 2]
            runs = median["runs"]
            with_start = ratio(median["total_s"] - median["work_s"] + runs * import_s,
                               median["total_s"] + runs * import_s)
            what = (f"{found[0]['runs']} per-partition runs of us_orders + checks" if job == "orders"
                    else f"one-day us_rolling_job (median of {len(found)})")
            rows.append(figure(
                f"orchestration, {layout} layout: {what}: orchestration share of wall time", share,
                f"<= {targets[job]:.0%}" if layout == "new" else "(old layout, for comparison)",
                share <= targets[job] if layout == "new" else None,
                f"{found[0]['steps_per_run']} steps and {found[0]['events_per_run']} events per run; wall {walls[0]:.1f}/{walls[len(walls) // 2]:.1f}/"
                f"{walls[-1]:.1f} s (min/median/max), share min/max {shares[0]:.1%}/{shares[-1]:.1%}; "
                f"per-run share min/median/max {median['share_min_median_max']}; with a {import_s:.1f} s "
                f"process start per run (a deployed run worker) {with_start:.1%}"))
    return rows


def _rows(db: Path) -> dict[str, int]:
    from sp_assets.lib.warehouse import Warehouse

    warehouse = Warehouse(db)
    return {table: warehouse.row_count("us", table) for table in ("orders", "order_items")}


def code_location_import_s() -> float:
    """Seconds a fresh Python process needs to import the code location (every run process pays it)."""
    script = "import time; t = time.perf_counter(); import sp_assets.definitions as d; d.defs(); " \
             "print(time.perf_counter() - t)"
    with tempfile.TemporaryDirectory(prefix="bench_dagster_home_") as home:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300,
                              env={**os.environ, "DAGSTER_HOME": home})
    if done.returncode != 0:
        log(f"code location import failed: {done.stderr[-500:]}")
        return float("nan")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--orders-per-day", type=int, default=300)
    parser.add_argument("--speed", type=float, default=1000.0)
    parser.add_argument("--modes", default="chunks,per_partition,layouts")
    parser.add_argument("--old-days", type=int, default=15,
                        help="per-partition runs of the old layout (each costs several subprocesses)")
    parser.add_argument("--rolling-repeats", type=int, default=3, help="one-day rolling runs per layout")
    parser.add_argument("--console-log-level", default="WARNING",
                        help="Dagster console log level (DEBUG prints every event, as a default run does)")
    parser.add_argument("--quick", action="store_true", help="21 days")
    args = parser.parse_args()
    if args.quick:
        args.days, args.old_days, args.rolling_repeats = min(args.days, 21), min(args.old_days, 5), 1
    warnings.filterwarnings("ignore")
    machine = machine_info()
    last = date.today() - timedelta(days=12)
    days = [last - timedelta(days=n) for n in range(args.days - 1, -1, -1)]
    log(f"backfill {days[0]}..{days[-1]} ({len(days)} days), {args.orders_per_day} orders/day, speed {args.speed:g}")
    timers = Timers()
    instrument(timers)
    results = []
    layout_results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench_orchestration_") as scratch:
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            if mode == "layouts":
                layout_results = compare_layouts(days, args, Path(scratch))
            else:
                results.append(backfill(mode, days, args, Path(scratch), timers))
    import_s = code_location_import_s()
    log(f"importing the code location in a fresh process: {import_s:.2f} s")
    summary = []
    for result in results:
        started_runs = result["dagster_s"] + result["runs"] * import_s
        result["dagster_share_with_process_per_run"] = ratio(started_runs, result["total_s"] + result["runs"] * import_s)
        share = result["dagster_share"]
        summary.append(figure(
            f"orchestration, {result['mode']} ({result['runs']} runs): Dagster share of a {len(days)}-day backfill",
            share, f"<= {SHARE_TARGET:.0%}", share is not None and share <= SHARE_TARGET,
            f"{result['dagster_s']:.1f} of {result['total_s']:.1f} s ({result['dagster_s_per_run']:.2f} s/run); "
            f"with a {import_s:.1f} s process start per run {result['dagster_share_with_process_per_run']:.1%}; "
            f"at Amazon's rates {result['dagster_share_at_amazon_rates']:.3%}"))
        summary.append(figure(
            f"orchestration, {result['mode']} ({result['runs']} runs): wall time added by Dagster beyond the "
            f"quota floor / total", result["dagster_cost_share"], f"<= {SHARE_TARGET:.0%}",
            result["dagster_cost_share"] is not None and result["dagster_cost_share"] <= SHARE_TARGET,
            f"backfill wall / token-bucket minimum of its {result['searchOrders_calls']} searchOrders calls = "
            f"{result['wall_over_bucket_minimum']} (1.0 = as fast as the quota allows)"))
    summary += layout_summary(layout_results, import_s) if layout_results else []
    emit({
        "benchmark": "orchestration",
        "machine": machine,
        "parameters": {"days": args.days, "orders_per_day": args.orders_per_day, "speed": args.speed,
                       "first_day": days[0].isoformat(), "last_day": days[-1].isoformat(), "quick": args.quick,
                       "orders_api": "2026-01-01", "executor": "in-process (dg.materialize)",
                       "instance": "chunks/per_partition: DagsterInstance.local_temp (SQLite storage); layouts: "
                                   "the project's dagster.yaml (new layout: with a consolidated event log, not shipped)",
                       "console_log_level": args.console_log_level},
        "modes": results,
        "layouts": layout_results,
        "code_location_import_s": round(import_s, 2),
        "summary": summary,
    })


if __name__ == "__main__":
    sys.exit(main())
