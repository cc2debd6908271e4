"""Benchmark 6, report-sourced order items: ``order_items_source: report`` against DuckDB's own read_csv.

The path under test is what the ``order_items`` asset does with a downloaded all-orders document once it
is UTF-8 (issue 20 item 1): ``delimited.file_relation`` reads the header, ``order_items_from_report_sql``
builds the one SELECT (file-order numbering of repeated SKUs, local partition day, typed and checked
values) and ``Warehouse.replace_partition_from_sql`` inserts its rows into ``<mp>.order_items`` with the
write's ledger row and union view, in one transaction. Nothing of the document passes through Python.

1. **prepare** (not timed): the sandbox's own generator (``report_documents.write_all_orders``, the
   code the sandbox serves the report with) writes an all-orders TSV of at least ``--rows`` rows in
   UTF-8, cached in ``benchmarks/results/cache/`` (a 500k-row document costs the generator a minute or
   more of one core; a loaded machine only makes that slower, and nothing here has a deadline).
2. **items** (timed, in a child process for an honest peak RSS): the path above into a fresh DuckDB file.
3. **baseline** (timed, in another child): DuckDB's ``CREATE TABLE AS SELECT * FROM read_csv(...)`` of
   the same file into a fresh DuckDB file (all text, TAB, no quote character, header), as bench_ingest.
   Steps 2 and 3 alternate ``--repeat`` times (default 3).

Figures: items rows/s / read_csv rows/s, from the medians of each side (target >= 0.5; min, median
and max of the per-pair ratios beside it); the highest peak RSS of the items child (target <= 400 MB).
The machine's load average is recorded before and after: the machine is shared, so only ratios of
runs made side by side mean anything.

Usage: .venv/bin/python benchmarks/bench_items.py [--rows 500000] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import (
    RESULTS_DIR,
    US,
    emit,
    log,
    machine_info,
    peak_rss_mb,
    ratio,
    ratio_and_rss_figures,
    run_measured_child,
    spread,
)

ROWS_PER_ORDER = 1.6  # the synthetic seller's mean items per order
RATIO_TARGET = 0.5
RSS_TARGET_MB = 400.0
CHILD_TIMEOUT_S = 1800.0
EVERY_DAY = (date(2000, 1, 1), date(2100, 1, 1))  # the replaced window: every day of the document


# ------------------------------------------------------------------------------------------ prepare
def document(rows: int, orders_per_day: int, seed: int, cache: Path) -> tuple[Path, int]:
    """A cached UTF-8 all-orders TSV of at least ``rows`` rows (whole UTC days), and its row count."""
    from sp_assets.lib.reports import catalog
    from sp_assets.sandbox import report_documents as docs
    from sp_assets.sandbox.seller import SyntheticSeller

    days = max(1, -(-int(rows * 1.05) // int(orders_per_day * ROWS_PER_ORDER)))
    # A fixed month-anchored window: orders that no longer change, and the same document all month.
    end = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)
    start = end - timedelta(days=days)
    path = cache / f"all-orders-{rows}-opd{orders_per_day}-seed{seed}-{start:%Y%m%d}.tsv"
    count_file = path.with_suffix(".rows")
    if path.exists() and count_file.exists():
        log(f"reusing {path.name}")
        return path, int(count_file.read_text())
    log(f"writing {days} days at {orders_per_day} orders/day to {path.name}")
    started = time.monotonic()
    seller = SyntheticSeller(seed=seed, orders_per_day=orders_per_day)
    spec = docs.DocumentSpec(catalog.ALL_ORDERS_BY_ORDER_DATE, (US,), start, end - timedelta(seconds=1), {},
                             datetime.now(UTC))
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        written = docs.write_all_orders(docs.orders_by_order_date(seller, spec), out, True)
    partial.replace(path)
    count_file.write_text(str(written))
    log(f"wrote {written:,} rows ({path.stat().st_size / 2**20:,.0f} MiB) in {time.monotonic() - started:.0f} s")
    return path, written


# ------------------------------------------------------------------------------------------ children
def child_items(args: argparse.Namespace) -> None:
    """The asset's path: header, SELECT, replace_partition_from_sql into a fresh file; JSON to stdout."""
    from sp_assets.lib.marketplaces import by_id
    from sp_assets.lib.orders import ORDER_ITEMS, ReportFileSql, order_items_from_report_sql
    from sp_assets.lib.warehouse import Warehouse
    from sp_assets.lib.warehouse.delimited import file_relation

    rss_after_imports = peak_rss_mb()
    started = time.perf_counter()
    columns, relation = file_relation(args.tsv, quote=None)
    select = order_items_from_report_sql([ReportFileSql(Path(args.tsv).name, tuple(columns), relation)],
                                         by_id(US).timezone)
    result = Warehouse(args.db, source="sandbox").replace_partition_from_sql("us", ORDER_ITEMS, select, *EVERY_DAY)
    total = time.perf_counter() - started
    print(json.dumps({"rows": result.rows, "total_s": round(total, 3), "write_s": round(result.write_s, 3),
                      "peak_rss_mb": peak_rss_mb(), "rss_after_imports_mb": rss_after_imports}))


def child_baseline(args: argparse.Namespace) -> None:
    """DuckDB's own read_csv of the same file into a fresh DuckDB file (close included)."""
    import duckdb

    rss_after_imports = peak_rss_mb()
    started = time.perf_counter()
    connection = duckdb.connect(args.db)
    connection.execute(
        "CREATE TABLE all_orders AS SELECT * FROM read_csv(?, delim = '\t', quote = '', escape = '', "
        "header = true, all_varchar = true)", [args.tsv])
    rows = connection.execute("SELECT count(*) FROM all_orders").fetchone()[0]
    connection.close()
    print(json.dumps({"rows": rows, "total_s": round(time.perf_counter() - started, 3), "peak_rss_mb": peak_rss_mb(),
                      "rss_after_imports_mb": rss_after_imports}))


def run_child(mode: str, tsv: Path, db: Path) -> dict[str, Any]:
    db.unlink(missing_ok=True)
    try:
        return run_measured_child([sys.executable, str(Path(__file__).resolve()), mode, "--tsv", str(tsv),
                                   "--db", str(db)], CHILD_TIMEOUT_S, mode)
    finally:
        db.unlink(missing_ok=True)
        Path(f"{db}.lock").unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------ main
def measure(tsv: Path, rows: int, repeat: int, scratch: Path) -> dict[str, Any]:
    items_runs, base_runs = [], []
    for attempt in range(1, repeat + 1):
        items = run_child("--child-items", tsv, scratch / "items.duckdb")
        if items["rows"] != rows:
            raise RuntimeError(f"the items path wrote {items['rows']:,} rows of a {rows:,}-row document")
        base = run_child("--child-baseline", tsv, scratch / "baseline.duckdb")
        log(f"run {attempt}: items {items['total_s']:.2f} s ({items['peak_rss_mb']:.0f} MB), read_csv "
            f"{base['total_s']:.2f} s ({base['peak_rss_mb']:.0f} MB), load {os.getloadavg()[0]:.1f}")
        items_runs.append(items)
        base_runs.append(base)
    items_s = [r["total_s"] for r in items_runs]
    base_s = [r["total_s"] for r in base_runs]
    pair_ratios = [b / i for i, b in zip(items_s, base_s, strict=True)]
    return {
        "rows": rows,
        "tsv_mb": round(tsv.stat().st_size / 2**20, 1),
        "items_s": spread(items_s),
        "baseline_s": spread(base_s),
        "items_rows_per_s": round(rows / statistics.median(items_s)),
        "baseline_rows_per_s": round(rows / statistics.median(base_s)),
        "ratio": ratio(statistics.median(base_s), statistics.median(items_s)),
        "pair_ratios": spread(pair_ratios),
        "items_peak_rss_mb": max(r["peak_rss_mb"] for r in items_runs),
        "items_rss_after_imports_mb": items_runs[0]["rss_after_imports_mb"],
        "baseline_peak_rss_mb": max(r["peak_rss_mb"] for r in base_runs),
        "items_runs": items_runs,
        "baseline_runs": base_runs,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000, help="rows of the document (at least)")
    parser.add_argument("--orders-per-day", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="items/baseline pairs (medians count)")
    parser.add_argument("--quick", action="store_true", help="50,000 rows, one pair")
    parser.add_argument("--child-items", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tsv", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.child_items:
        return child_items(args)
    if args.child_baseline:
        return child_baseline(args)
    if args.quick:
        args.rows, args.repeat = min(args.rows, 50_000), 1
    machine = machine_info()
    cache = RESULTS_DIR / "cache" / "items"
    cache.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tsv, rows = document(args.rows, args.orders_per_day, args.seed, cache)
    prepare_s = time.monotonic() - started
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench_items_") as scratch:
        result = measure(tsv, rows, args.repeat, Path(scratch))
    load_after = os.getloadavg()
    result.update({"prepare_s": round(prepare_s, 1), "load_average_before": [round(x, 2) for x in load_before],
                   "load_average_after": [round(x, 2) for x in load_after]})
    peak = result["items_peak_rss_mb"]
    summary = ratio_and_rss_figures(
        f"report-sourced order items, {rows:,} rows: rows/s / DuckDB read_csv rows/s", result["ratio"], RATIO_TARGET,
        f"median {result['items_s']['median']:.2f} s vs {result['baseline_s']['median']:.2f} s "
        f"({result['items_rows_per_s']:,} vs {result['baseline_rows_per_s']:,} rows/s); per-pair ratio "
        f"min/median/max {result['pair_ratios']['min']}/{result['pair_ratios']['median']}/"
        f"{result['pair_ratios']['max']}; load {load_before[0]:.1f} -> {load_after[0]:.1f}",
        f"report-sourced order items, {rows:,} rows: peak RSS of the run process (MB)", peak, RSS_TARGET_MB,
        f"after imports {result['items_rss_after_imports_mb']:.0f} MB; baseline read_csv "
        f"{result['baseline_peak_rss_mb']:.0f} MB")
    emit({"benchmark": "items", "machine": machine,
          "parameters": {"rows": args.rows, "orders_per_day": args.orders_per_day, "seed": args.seed,
                         "repeat": args.repeat, "quick": args.quick},
          "result": result, "summary": summary})


if __name__ == "__main__":
    sys.exit(main())
