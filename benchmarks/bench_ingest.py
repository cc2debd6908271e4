"""Benchmark 3, ingest: an all-orders report from the sandbox into DuckDB, against DuckDB's own read_csv.

For each size (a >= 1,000,000-row report; then a report of >= 1 GiB uncompressed, unless ``--quick``):

1. **prepare** (not timed): the sandbox process writes the gzip TSV document. The report is requested
   and polled until DONE, and its id goes into a ``ReportLedger``. Sandbox state and ledger live in
   ``benchmarks/results/cache/`` so a later run reuses the document instead of generating it again
   (writing 1 GiB of synthetic orders costs the sandbox 3-4 minutes of one core, much more on a
   loaded machine). There is no fixed deadline: the wait follows the sandbox's own progress (the
   bytes of the document it is writing) and gives up only when nothing was written for
   ``STALL_S`` seconds, so a slow machine is waited for and a stuck sandbox is not.
2. **end to end** (timed, in a child process): ``sp_assets.lib.reports.lifecycle.run_report`` resumes the
   report from the ledger (getReport, getReportDocument), downloads the document, gunzips and decodes it
   to a UTF-8 TSV (``transcode_to_utf8``), then loads it exactly as the report assets do:
   ``load_flat_day`` (``sp_assets/defs/reports/assets.py``) with the configured ``all_orders_report``
   entry of ``marketplaces.yaml`` and the catalog row, so ``Warehouse.load_delimited_file`` gets the
   asset's arguments (quote character, typed columns and formats, partition constants, replaced
   partition, strict), into a fresh DuckDB file. The child reports its own peak RSS (``VmHWM``).
3. **baseline** (timed, in another child): DuckDB's own ``CREATE TABLE AS SELECT * FROM read_csv(...)``
   of the same decompressed TSV into a fresh DuckDB file, same run, file already in the page cache.
   Steps 2 and 3 alternate ``--repeat`` times (default 3); the figure is the ratio of the two sides'
   median times, with min/median/max of each side and of the per-pair ratios, the load average of
   each pair and the sandbox's CPU share during the end-to-end runs (it serves the download).
4. **variants** (diagnostic, off by default since the library now bounds a load's memory itself:
   ``--memory-limit 256MB`` turns them on): step 2 again with the library patched from outside, in
   the child only: (a) ``SET memory_limit`` on the warehouse's connections; (b) ``buffer_size`` equal
   to ``max_line_size`` plus ``memory_limit`` and ``preserve_insertion_order = false``. They found the
   fix the library now applies (``warehouse._bounded_memory``, ``_read_csv_sql``); with it built in,
   (b) adds ``buffer_size`` twice and fails. A variant that fails is recorded with its error.

Figures: rows/s end to end / rows/s of the baseline (target >= 0.5); peak RSS of the end-to-end
process (target <= 400 MB with a document >= 1 GB).

Usage: .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--no-gb] [--repeat 3] [--quick] [--no-cache]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import (
    RESULTS_DIR,
    ROOT,
    US,
    CpuShare,
    client_for,
    emit,
    load_average,
    log,
    machine_info,
    peak_rss_mb,
    ratio,
    ratio_and_rss_figures,
    run_measured_child,
    sandbox_process,
    show,
    spread,
)

ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
ROWS_PER_ORDER = 1.6  # the synthetic seller's mean items per order (1-4 items, weights 60/25/10/5)
BYTES_PER_ROW = 246  # measured: a US all-orders row is ~246 bytes of UTF-8
GIB = 2**30
RATIO_TARGET = 0.5
RSS_TARGET_MB = 400.0
# The sandbox wrote no byte of the document for this long: stuck, not slow (a loaded machine still
# writes a few hundred KB of gzip a second; a 1 GiB document takes 3-4 minutes of one core).
STALL_S = 180.0
PROGRESS_EVERY_S = 30.0
CHILD_TIMEOUT_S = 900.0
TABLE = "all_orders_report"  # the configured table of the all-orders report (marketplaces.yaml)


# ------------------------------------------------------------------------------------------ windows
def window_for(rows: int, orders_per_day: int, offset_days: int) -> tuple[datetime, datetime]:
    """Enough whole UTC days for ``rows`` rows (5% margin), ending ``offset_days`` before an anchor.

    The anchor is the first day of the current month minus 10 days, so the window (and so the cached
    document) stays the same for a month.
    """
    days = math.ceil(rows * 1.05 / (orders_per_day * ROWS_PER_ORDER))
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = today.replace(day=1) - timedelta(days=10 + offset_days)
    return end - timedelta(days=days), end - timedelta(seconds=1)


def request_for(window: tuple[datetime, datetime]) -> Any:
    from sp_assets.lib.reports.request import ReportRequest

    return ReportRequest(ALL_ORDERS, [US], window[0], window[1])


# ------------------------------------------------------------------------------------------ prepare
def written_bytes(state_dir: Path) -> int:
    """The sandbox's progress on a document: the bytes of the gzip files it is writing (``*.partial``)."""
    total = 0
    for path in state_dir.rglob("*.partial"):
        try:
            total += path.stat().st_size
        except OSError:  # finished (renamed) between the listing and the stat
            pass
    return total


def prepare_report(base_url: str, speed: float, ledger_path: Path, window: tuple[datetime, datetime],
                   state_dir: Path) -> str:
    """Make sure the ledger points at a DONE report for ``window``: reuse it, or request and wait.

    The wait has no fixed deadline (issue 20: a fixed 1200 s failed ``make bench`` on a loaded
    machine): it lasts while the sandbox makes progress, i.e. while the document it writes under
    ``state_dir`` grows, and fails after ``STALL_S`` seconds without a byte written.
    """
    from sp_assets.lib.reports.api import create_report, get_report
    from sp_assets.lib.reports.ledger import ReportLedger

    client = client_for(base_url, speed)
    ledger = ReportLedger(ledger_path)
    request = request_for(window)
    entry = ledger.entry(client.credential_id, request)
    if entry is not None and entry.consumed_at is None:
        try:
            if get_report(client, entry.report_id).get("processingStatus") == "DONE":
                log(f"reusing cached report {entry.report_id}")
                return entry.report_id
        except Exception as error:  # the cache is stale (sandbox state removed): request a new one
            log(f"cached report {entry.report_id} unusable ({type(error).__name__}); requesting a new one")
    report_id = create_report(client, ALL_ORDERS, [US], data_start_time=window[0], data_end_time=window[1])
    ledger.record_requested(client.credential_id, request, report_id)
    started = last_progress = last_log = time.monotonic()
    written = written_bytes(state_dir)
    status = ""
    while True:
        status = str(get_report(client, report_id).get("processingStatus"))
        if status in ("DONE", "CANCELLED", "FATAL"):
            break
        now, size = time.monotonic(), written_bytes(state_dir)
        if size != written:
            written, last_progress = size, now
        if now - last_progress > STALL_S:
            raise RuntimeError(f"report {report_id} is {status} after {now - started:.0f} s and the sandbox wrote "
                               f"nothing for {now - last_progress:.0f} s (STALL_S {STALL_S:g}): it is stuck")
        if now - last_log >= PROGRESS_EVERY_S:
            last_log = now
            log(f"sandbox writing report {report_id}: {written / 2**20:.1f} MB of gzip in {now - started:.0f} s "
                f"({written / 2**20 / (now - started):.2f} MB/s), load {load_average()[0]}")
        time.sleep(1.0)
    if status != "DONE":
        raise RuntimeError(f"report {report_id} ended {status} after {time.monotonic() - started:.0f} s")
    log(f"sandbox wrote report {report_id} in {time.monotonic() - started:.1f} s")
    client.close()
    return report_id


# ------------------------------------------------------------------------------------------ children
def child_end_to_end(args: argparse.Namespace) -> None:
    """Resume the report, download + gunzip + decode, load; print timings and peak RSS as JSON."""
    from sp_assets.defs.config import load_config
    from sp_assets.defs.reports import runner
    from sp_assets.defs.reports.assets import load_flat_day
    from sp_assets.lib.reports import catalog
    from sp_assets.lib.reports import lifecycle as reports_module
    from sp_assets.lib.reports.ledger import ReportLedger
    from sp_assets.lib.reports.lifecycle import run_report
    from sp_assets.lib.warehouse import Warehouse

    if args.child_settings:
        configure_connections(Warehouse, args.child_settings)
    if args.child_buffer_size:
        bound_csv_buffer()
    rss_after_imports = peak_rss_mb()
    timings: dict[str, float] = {}
    instrument(reports_module, "transcode_to_utf8", timings, "gunzip_decode_s")
    window = (datetime.fromisoformat(args.window_start), datetime.fromisoformat(args.window_end))
    client = client_for(args.base_url, args.speed)
    instrument(client, "download_to", timings, "download_s")
    work = Path(args.work)
    # The asset's configuration of the report (marketplaces.yaml) and its catalog row: load_flat_day
    # builds load_delimited_file's arguments from them, as the report asset's step does.
    entry = load_config(ROOT / "marketplaces.yaml").get("us")
    config = next(c for c in entry.reports if c.report_type == ALL_ORDERS and c.table == TABLE)
    row = catalog.lookup(ALL_ORDERS)
    request = request_for(window)
    day = runner.DayRequest(window[0].date(), window[0], window[1], request)
    started = time.perf_counter()
    outcome = run_report(client, ReportLedger(args.ledger), request, work_dir=work)
    fetched = time.perf_counter()
    result = load_flat_day(Warehouse(args.db, source="sandbox"), entry, config, row, runner.DayResult(day, outcome))
    finished = time.perf_counter()
    client.close()
    print(json.dumps({
        "rows": result.rows,
        "report_rows": outcome.rows,
        "bytes_downloaded": outcome.bytes_downloaded,
        "tsv_bytes": outcome.path.stat().st_size,
        "tsv_path": str(outcome.path),
        "fetch_s": round(fetched - started, 3),
        "download_s": round(timings.get("download_s", 0.0), 3),
        "gunzip_decode_s": round(timings.get("gunzip_decode_s", 0.0), 3),
        "load_s": round(finished - fetched, 3),
        "load_write_s": round(result.write_s, 3),
        "total_s": round(finished - started, 3),
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": rss_after_imports,
        "settings": describe_variant(args.child_settings, args.child_buffer_size) or None,
    }))


def child_baseline(args: argparse.Namespace) -> None:
    """DuckDB's own read_csv of the decompressed TSV into a fresh DuckDB file (close included)."""
    import duckdb

    rss_after_imports = peak_rss_mb()
    started = time.perf_counter()
    connection = duckdb.connect(args.db)
    connection.execute(
        "CREATE TABLE all_orders_report AS SELECT * FROM read_csv(?, delim = '\t', quote = '', escape = '', "
        "header = true, all_varchar = true)", [args.tsv])
    rows = connection.execute("SELECT count(*) FROM all_orders_report").fetchone()[0]
    connection.close()
    print(json.dumps({"rows": rows, "total_s": round(time.perf_counter() - started, 3), "peak_rss_mb": peak_rss_mb(),
                      "rss_after_imports_mb": rss_after_imports}))


def instrument(owner: Any, name: str, timings: dict[str, float], key: str) -> None:
    """Wrap ``owner.name`` to add its run time to ``timings[key]`` (measurement only)."""
    original = getattr(owner, name)

    def timed_call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - started

    setattr(owner, name, timed_call)


def configure_connections(warehouse_class: Any, settings: str) -> None:
    """A proposed fix, applied from outside: every warehouse connection runs ``settings`` (SQL SETs)."""
    original = warehouse_class._open_duckdb

    def open_configured(self: Any) -> Any:
        connection = original(self)
        connection.execute(settings)
        return connection

    warehouse_class._open_duckdb = open_configured


def bound_csv_buffer() -> None:
    """Proposed fix, applied from outside: read_csv's ``buffer_size`` = the ``max_line_size`` it sets."""
    from sp_assets.lib.warehouse import delimited as warehouse_module

    max_line = getattr(warehouse_module, "MAX_LINE_BYTES", None)
    if max_line is None:
        return
    original = warehouse_module._read_csv_sql

    def read_csv_sql(*args: Any, **kwargs: Any) -> str:
        sql = original(*args, **kwargs)
        return f"{sql[:-1]}, buffer_size = {int(max_line)})"

    warehouse_module._read_csv_sql = read_csv_sql


def describe_variant(settings: str, buffer_size: bool) -> str:
    return "; ".join(part for part in (settings, "read_csv buffer_size = max_line_size" if buffer_size else "")
                     if part)


def run_child(mode: str, options: list[str]) -> dict[str, Any]:
    return run_measured_child([sys.executable, str(Path(__file__).resolve()), mode, *options], CHILD_TIMEOUT_S, mode)


# ------------------------------------------------------------------------------------------ one size
def measure_size(label: str, base_url: str, sandbox_pid: int, args: argparse.Namespace, ledger: Path,
                 window: tuple[datetime, datetime], scratch: Path) -> dict[str, Any]:
    """End to end and baseline, alternating ``args.repeat`` times; the medians of each side count.

    The machine is shared: alternating puts both sides under the same load, and min/median/max of
    each side (and of the per-pair ratios) shows how much the load moved them. Peak RSS is the
    highest seen; the load average is recorded before and after each pair.
    """
    common = ["--base-url", base_url, "--speed", f"{args.speed:g}", "--ledger", str(ledger),
              "--window-start", window[0].isoformat(), "--window-end", window[1].isoformat()]
    work = scratch / label.replace(" ", "_").replace(">=", "ge")
    work.mkdir()

    def end_to_end(name: str, settings: str, buffer_size: bool = False) -> dict[str, Any]:
        cpu = CpuShare(sandbox_pid)
        result = run_child("--child-e2e", [*common, "--db", str(work / f"{name}.duckdb"), "--work", str(work / name),
                                           "--child-settings", settings, *(["--child-buffer-size"] * buffer_size)])
        result["sandbox_cpu"] = cpu.stop()
        (work / f"{name}.duckdb").unlink(missing_ok=True)
        log(f"{label}: {name}{' (' + settings + ')' if settings else ''}: {result['rows']:,} rows, {result['tsv_bytes'] / 2**20:,.0f} MiB TSV, "
            f"{result['total_s']:.2f} s (download {result['download_s']:.2f}, gunzip+decode "
            f"{result['gunzip_decode_s']:.2f}, load {result['load_s']:.2f}), peak RSS {result['peak_rss_mb']:.0f} MB, "
            f"sandbox CPU {result['sandbox_cpu']['share']}")
        return result

    e2e_runs, base_runs, loads = [], [], []
    for attempt in range(1, args.repeat + 1):
        load_before = load_average()
        e2e = end_to_end(f"e2e_{attempt}", "")
        base = run_child("--child-baseline", ["--tsv", e2e["tsv_path"], "--db", str(work / "baseline.duckdb")])
        (work / "baseline.duckdb").unlink(missing_ok=True)
        Path(e2e["tsv_path"]).unlink(missing_ok=True)
        loads.append({"before": load_before, "after": load_average()})
        log(f"{label}: baseline_{attempt}: DuckDB read_csv {base['total_s']:.2f} s, peak RSS {base['peak_rss_mb']:.0f} MB, "
            f"load {load_before[0]} -> {loads[-1]['after'][0]}")
        e2e_runs.append(e2e)
        base_runs.append(base)
    variants = []
    if args.memory_limit:
        limit = f"SET memory_limit = '{args.memory_limit}'"
        for name, settings, buffer_size in (
                (f"memory_limit {args.memory_limit}", limit, False),
                ("proposed fix", f"{limit}; SET preserve_insertion_order = false", True)):
            try:
                variant = end_to_end("variant", settings, buffer_size)
                variant["variant"] = name
            except RuntimeError as error:
                lines = [line for line in str(error).splitlines() if "Error" in line] or [str(error)]
                reason = lines[-1].strip()
                if "Out of Memory Error" in reason:
                    reason = "DuckDB " + reason[reason.index("Out of Memory Error"):]
                reason = reason[:200]
                log(f"{label}: variant ({describe_variant(settings, buffer_size)}) failed: {reason}")
                variant = {"variant": name, "settings": describe_variant(settings, buffer_size), "error": reason}
            shutil.rmtree(work / "variant", ignore_errors=True)
            (work / "variant.duckdb").unlink(missing_ok=True)
            variants.append(variant)
    shutil.rmtree(work, ignore_errors=True)
    e2e_s = [r["total_s"] for r in e2e_runs]
    base_s = [r["total_s"] for r in base_runs]
    rows = e2e_runs[0]["rows"]
    if any(r["rows"] != rows for r in e2e_runs) or any(r["rows"] != rows for r in base_runs):
        raise RuntimeError(f"{label}: the runs loaded different row counts: {[r['rows'] for r in e2e_runs]} "
                           f"end to end, {[r['rows'] for r in base_runs]} read_csv")
    median_e2e = sorted(e2e_runs, key=lambda r: r["total_s"])[len(e2e_runs) // 2]
    shares = [r["sandbox_cpu"]["share"] for r in e2e_runs if r["sandbox_cpu"]["share"] is not None]
    return {
        "size": label,
        "window": [window[0].isoformat(), window[1].isoformat()],
        "rows": rows,
        "document_gzip_mb": round(median_e2e["bytes_downloaded"] / 2**20, 1),
        "document_uncompressed_mb": round(median_e2e["tsv_bytes"] / 2**20, 1),
        "end_to_end_median_run": median_e2e,
        "end_to_end_s": spread(e2e_s),
        "baseline_s": spread(base_s),
        "gunzip_decode_s": spread([r["gunzip_decode_s"] for r in e2e_runs]),
        "load_s": spread([r["load_s"] for r in e2e_runs]),
        "pair_ratios": spread([b / e for e, b in zip(e2e_s, base_s, strict=True)]),
        "end_to_end_peak_rss_mb": max(r["peak_rss_mb"] for r in e2e_runs),
        "end_to_end_peak_rss_spread_mb": spread([r["peak_rss_mb"] for r in e2e_runs], 1),
        "end_to_end_rss_after_imports_mb": e2e_runs[0]["rss_after_imports_mb"],
        "baseline_peak_rss_mb": max(r["peak_rss_mb"] for r in base_runs),
        "end_to_end_rows_per_s": round(rows / statistics.median(e2e_s)),
        "baseline_rows_per_s": round(rows / statistics.median(base_s)),
        "ratio": ratio(statistics.median(base_s), statistics.median(e2e_s)),
        "sandbox_cpu_share": spread(shares) if shares else None,
        "load_average": loads,
        "load_average_1min": spread([x for load in loads for x in (load["before"][0], load["after"][0])], 2),
        "end_to_end_runs": e2e_runs,
        "baseline_runs": base_runs,
        "variants": variants,
    }


# ------------------------------------------------------------------------------------------ main
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the first report (at least)")
    parser.add_argument("--gb", type=float, default=1.0, help="GiB (uncompressed) of the second report")
    parser.add_argument("--no-gb", action="store_true", help="skip the >= 1 GiB report")
    parser.add_argument("--orders-per-day", type=int, default=32000)
    parser.add_argument("--speed", type=float, default=1000.0)
    parser.add_argument("--memory-limit", default="",
                        help="DuckDB memory_limit of the diagnostic variants ('' skips them)")
    parser.add_argument("--repeat", type=int, default=3, help="end-to-end/baseline pairs per size (medians count)")
    parser.add_argument("--no-cache", action="store_true", help="fresh sandbox state and ledger in a temp dir")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, no 1 GiB report (still --repeat pairs)")
    # Child modes (internal).
    parser.add_argument("--child-e2e", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-settings", default="", help=argparse.SUPPRESS)
    parser.add_argument("--child-buffer-size", action="store_true", help=argparse.SUPPRESS)
    for name in ("--base-url", "--ledger", "--window-start", "--window-end", "--db", "--work", "--tsv"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.child_e2e:
        return child_end_to_end(args)
    if args.child_baseline:
        return child_baseline(args)
    if args.quick:
        args.rows, args.no_gb = min(args.rows, 100_000), True
    machine = machine_info()
    sizes = [("1M rows" if args.rows == 1_000_000 else f"{args.rows:,} rows",
              window_for(args.rows, args.orders_per_day, 0))]
    if not args.no_gb:
        gb_rows = int(args.gb * GIB / BYTES_PER_ROW)
        sizes.append((f">= {args.gb:g} GiB", window_for(gb_rows, args.orders_per_day, 0)))
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as scratch_dir:
        scratch = Path(scratch_dir)
        cache = scratch / "cache" if args.no_cache else RESULTS_DIR / "cache" / f"ingest-opd{args.orders_per_day}"
        cache.mkdir(parents=True, exist_ok=True)
        ledger = cache / "ledger.sqlite"
        results = []
        with sandbox_process(speed=args.speed, orders_per_day=args.orders_per_day,
                             state_dir=cache / "sandbox") as sandbox:
            assert sandbox.process is not None
            for label, window in sizes:
                days = (window[1] - window[0]).days + 1
                log(f"{label}: window {window[0]:%Y-%m-%d}..{window[1]:%Y-%m-%d} ({days} days at "
                    f"{args.orders_per_day} orders/day); preparing the document")
                started = time.monotonic()
                prepare_report(sandbox.base_url, args.speed, ledger, window, cache / "sandbox")
                prepare_s = time.monotonic() - started
                result = measure_size(label, sandbox.base_url, sandbox.process.pid, args, ledger, window, scratch)
                result["prepare_s"] = round(prepare_s, 1)
                results.append(result)
    summary = []
    for result in results:
        cpu = result["sandbox_cpu_share"]
        context = (f"{args.repeat} pairs; load (1 min) {show(result['load_average_1min'])}; sandbox CPU during the "
                   f"end-to-end runs " + (f"{show({k: round(v * 100, 1) for k, v in cpu.items()})}%" if cpu else "n/a"))
        big = result["document_uncompressed_mb"] * 2**20 >= 1e9
        summary += ratio_and_rss_figures(
            f"ingest {result['size']}: end-to-end rows/s / DuckDB read_csv rows/s (medians of {args.repeat})",
            result["ratio"], RATIO_TARGET,
            f"{result['rows']:,} rows, {result['document_uncompressed_mb']:,.0f} MiB: end to end min/median/max "
            f"{show(result['end_to_end_s'])} s (decode {show(result['gunzip_decode_s'])}, load "
            f"{show(result['load_s'])}) vs read_csv {show(result['baseline_s'])} s; per-pair ratio "
            f"{show(result['pair_ratios'])}; {context}",
            f"ingest {result['size']}: peak RSS of the run process (MB), highest of {args.repeat}",
            result["end_to_end_peak_rss_mb"], RSS_TARGET_MB,
            f"min/median/max {show(result['end_to_end_peak_rss_spread_mb'])} MB, after imports "
            f"{result['end_to_end_rss_after_imports_mb']:.0f} MB; baseline read_csv {result['baseline_peak_rss_mb']:.0f} MB"
            + "".join(f"; {v['variant']}: " + (
                f"FAILED ({v['error']})" if "error" in v else
                f"{v['peak_rss_mb']:.0f} MB, {v['total_s']:.1f} s (ratio "
                f"{ratio(result['baseline_s']['median'], v['total_s'])})")
                for v in result["variants"]),
            rss_note="" if big else " (target is for >= 1 GB)")
    emit({
        "benchmark": "ingest",
        "machine": machine,
        "parameters": {"rows": args.rows, "gb": None if args.no_gb else args.gb, "orders_per_day": args.orders_per_day,
                       "speed": args.speed, "memory_limit_variant": args.memory_limit, "quick": args.quick, "repeat": args.repeat,
                       "cache": not args.no_cache, "pid": os.getpid()},
        "sizes": results,
        "summary": summary,
    })


if __name__ == "__main__":
    sys.exit(main())
