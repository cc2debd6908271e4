"""Benchmark 4.1, the shared warehouse: DuckLake (PostgreSQL catalog) against the local DuckDB file.

Issue 19: ``SP_ASSETS_DUCKDB=ducklake:<PostgreSQL URL>`` lets several machines write one warehouse. What
it costs is measured here, on the same writes as the test (``sp_assets_tests/lib/warehouse/
lake_processes.py``): ``--days`` day partitions of ``ROWS_PER_DAY`` orders, each replaced ``--rounds``
times through ``Warehouse.replace_partition``,

* one process writing all of them, on a file and on the lake (the cost of each write);
* two processes writing half of the days each, started together (what the writers' lock costs when
  they contend: on the file the sp_assets file lock, on the lake the PostgreSQL advisory lock).

PostgreSQL runs with fsync on (what users deploy), on this machine: a catalog on another machine adds its
network round trips. Figures: lake seconds / file seconds for the same writes, median of ``--samples``;
reported with no target (the issue asks for correctness with two writers, tested in
``test_lake.py``; this says what it costs).

Usage: .venv/bin/python benchmarks/bench_shared_warehouse.py [--days 10] [--rounds 2] [--samples 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchlib import emit, figure, log, machine_info, show, spread

from sp_assets.lib.warehouse import Warehouse
from sp_assets.local_postgres import PG_USER, create_database, postgres_server, why_no_postgres
from sp_assets_tests.lib.warehouse.lake_processes import ROWS_PER_DAY, write_days
from sp_assets_tests.lib.warehouse.support import DAY, REPO_ROOT


def one_process(location: str, data: str, days: int, rounds: int) -> float:
    warehouse = Warehouse(location, lake_data_path=data)
    started = time.perf_counter()
    write_days(warehouse, [DAY + timedelta(days=n) for n in range(days)], rounds)
    return time.perf_counter() - started


def two_processes(location: str, data: str, days: int, rounds: int) -> float:
    """Wall time of two writer processes released together, from the release to the last "done"."""
    halves = [[DAY + timedelta(days=n) for n in range(days) if n % 2 == side] for side in (0, 1)]
    writers = [subprocess.Popen(
        [sys.executable, "-m", "sp_assets_tests.lib.warehouse.lake_processes", "writer", location, data,
         ",".join(d.isoformat() for d in half), str(rounds)],
        cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for half in halves]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        out, _ = writer.communicate(timeout=1800)
        if writer.returncode != 0 or not out.startswith("done"):
            raise RuntimeError(f"a writer failed: {out!r}")
    return time.perf_counter() - started


def measure(kind: str, settings: dict[str, str] | None, folder: Path, sample: int, args: argparse.Namespace
            ) -> dict[str, float]:
    """Both modes once on a new file (``settings`` None) or a new lake on the server of ``settings``."""
    results = {}
    for mode, run in (("one_process", one_process), ("two_processes", two_processes)):
        location, data = str(folder / f"{mode}_{sample}.duckdb"), ""
        if settings is not None:
            name = f"bench_lake_{mode}_{sample}"
            create_database(settings, name)
            location = f"ducklake:postgresql://{PG_USER}@127.0.0.1:{settings['DAGSTER_PG_PORT']}/{name}"
            data = str(folder / f"{name}_files")
        results[mode] = round(run(location, data, args.days, args.rounds), 3)
    log(f"{kind}: sample {sample + 1}: {results}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one sample")
    args = parser.parse_args()
    samples = 1 if args.quick else args.samples
    machine = machine_info()
    reason = why_no_postgres()
    if reason:
        emit({"benchmark": "shared_warehouse", "machine": machine, "summary": [
            figure("DuckLake / file, the same writes", None, "reported", None, f"skipped: {reason}")]})
        return
    folder = Path(tempfile.mkdtemp(prefix="sp_assets_bench_lake_"))
    runs: list[dict[str, Any]] = []
    try:
        with postgres_server(fsync=True) as settings:
            for sample in range(samples):
                runs.append({"file": measure("file", None, folder, sample, args),
                             "lake": measure("lake", settings, folder, sample, args),
                             "load_average": round(os.getloadavg()[0], 2)})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    writes = args.days * args.rounds
    summary = []
    for mode, label in (("one_process", "one process"), ("two_processes", "two processes at once")):
        ratios = spread([r["lake"][mode] / r["file"][mode] for r in runs])
        lake_s = spread([r["lake"][mode] for r in runs])
        file_s = spread([r["file"][mode] for r in runs])
        summary.append(figure(
            f"DuckLake / file, {writes} partition replacements of {ROWS_PER_DAY} rows, {label}", ratios["median"],
            "reported (no target)", None,
            f"ratio min/median/max {show(ratios)}; lake s {show(lake_s)}; file s {show(file_s)}; "
            f"load {[r['load_average'] for r in runs]}"))
    emit({"benchmark": "shared_warehouse", "machine": machine, "days": args.days, "rounds": args.rounds,
          "rows_per_day": ROWS_PER_DAY, "runs": runs, "summary": summary})


if __name__ == "__main__":
    main()
