"""Benchmark 1.1, one account's quota shared by two processes: zero 429s, wall time near the bucket's minimum.

Issue 19: Dagster runs each run (and each step, with the multiprocess executor) in its own process, and
a deployment may run them on several machines; each process used to believe it had the whole of the
account's bucket, and together they exceeded Amazon's rate. With ``SP_ASSETS_QUOTA_STORE`` the buckets
live in a SQLite file (one machine) or a PostgreSQL table (several machines, the database's clock).

Two worker processes of one seller account (one refresh token, so one bucket on the sandbox), each
making ``--calls`` getInventorySummaries calls (2/s, burst 2, Amazon's plan) against a sandbox process
at speed 1, released together (``sp_assets_tests/lib/spapi/two_processes.py``, the runner the test uses).
Per store (SQLite file; PostgreSQL on a server this benchmark starts, skipped saying why where none can;
no store, the control), ``--samples`` runs, each with a fresh bucket (its own refresh token).

Figure: wall time / the bucket's minimum for both processes' calls ((2 x calls - burst) / rate), computed
in the same run; target <= 1.15 with 0 answers 429. The control shows what the store prevents.

Usage: .venv/bin/python benchmarks/bench_shared_quota.py [--calls 9] [--samples 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

from benchlib import emit, figure, log, machine_info, sandbox_process, server_stats, show, spread, stats_delta

from sp_assets.local_postgres import PG_USER, create_database, postgres_server, why_no_postgres
from sp_assets_tests.lib.spapi.two_processes import OPERATION, bucket_minimum, run_two

RATIO_TARGET = 1.15
QUOTA_DB = "sp_assets_quota"


def measure(kind: str, base_url: str, store: str | None, calls: int, samples: int) -> dict[str, Any]:
    """``samples`` two-process runs on ``store``; each sample's wall time, ratio and 429s."""
    floor = bucket_minimum(2 * calls)
    runs = []
    for sample in range(samples):
        before = server_stats(base_url)
        wall = run_two(base_url, store, f"Atzr|sandbox-na-bench-{kind}-{sample}-{os.getpid()}", calls)
        delta = stats_delta(before, server_stats(base_url))
        runs.append({"wall_s": round(wall, 3), "ratio": round(wall / floor, 3),
                     "served": delta.get(f"{OPERATION}.served", 0), "http_429": delta.get(f"{OPERATION}.429", 0),
                     "load_average": round(os.getloadavg()[0], 2)})
        log(f"{kind}: sample {sample + 1}/{samples}: {runs[-1]}")
    return {"store": kind, "bucket_minimum_s": floor, "runs": runs,
            "ratio": spread([r["ratio"] for r in runs]), "http_429": [r["http_429"] for r in runs]}


def store_figure(result: dict[str, Any]) -> dict[str, Any]:
    median = result["ratio"]["median"]
    throttled = sum(result["http_429"])
    ok = median <= RATIO_TARGET and throttled == 0
    return figure(f"two processes, {result['store']} store: wall / bucket minimum", median,
                  f"<= {RATIO_TARGET}, 0 x 429", ok,
                  f"min/median/max {show(result['ratio'])} over {len(result['runs'])} samples; "
                  f"429s per sample {result['http_429']}; minimum {result['bucket_minimum_s']:g} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=9, help="calls per process")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one sample per store")
    args = parser.parse_args()
    samples = 1 if args.quick else args.samples
    machine = machine_info()
    results: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    with sandbox_process(speed=1.0, orders_per_day=10) as sandbox:
        base = sandbox.base_url
        with_sqlite = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"sp_assets_bench_quota_{os.getpid()}.sqlite")
        try:
            results.append(measure("sqlite", base, with_sqlite, args.calls, samples))
        finally:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(with_sqlite + suffix):
                    os.remove(with_sqlite + suffix)
        summary.append(store_figure(results[-1]))
        reason = why_no_postgres()
        if reason:
            summary.append(figure("two processes, postgresql store", None, f"<= {RATIO_TARGET}", None,
                                  f"skipped: {reason}"))
        else:
            with postgres_server(fsync=True) as settings:  # what users deploy: every commit flushed
                create_database(settings, QUOTA_DB)
                url = f"postgresql://{PG_USER}@127.0.0.1:{settings['DAGSTER_PG_PORT']}/{QUOTA_DB}"
                results.append(measure("postgresql", base, url, args.calls, samples))
            summary.append(store_figure(results[-1]))
        control = measure("none", base, None, args.calls, samples)
        results.append(control)
        summary.append(figure("two processes, no store (the control): answers 429", statistics.median(
            control["http_429"]), "> 0 (what the store prevents)", min(control["http_429"]) > 0,
            f"wall / minimum {show(control['ratio'])}"))
    emit({"benchmark": "shared_quota", "machine": machine, "calls_per_process": args.calls, "results": results,
          "summary": summary})


if __name__ == "__main__":
    main()
