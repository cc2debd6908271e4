"""Benchmark 4: ``Warehouse.merge`` of 4,000,000 changed rows into a 20,000,000-row table vs a plain INSERT.

Targets (issue 20, P4): merge time <= 3x the time of a plain INSERT of the same rows (medians of runs
made side by side), and the merge's peak RSS <= 1 GB at this size.

1. **prepare** (not timed, no timeout): a template DuckDB file holding ``bench.orders`` with ``--rows``
   synthetic orders (made through ``Warehouse.append``, so the table, view and ledger are the
   warehouse's own), and the changed rows as a Parquet file: 80% existing keys with a newer version,
   10% existing keys with an OLDER version (must be skipped) and 10% new keys (``--changed``, default
   a fifth of ``--rows``).
2. **merge** and **insert** alternate ``--repeat`` times (default 3), each in a fresh child process on a
   fresh copy of the template: the child reads the changed rows into a polars frame (not timed), then
   times ``Warehouse.merge`` (or ``Warehouse.append``, the plain INSERT) through the public API (frame
   checks, lock, connect, transaction, ledger row, commit, close). The child reports its own peak RSS
   (``VmHWM``; not ``ru_maxrss``, which a child can inherit from its parent) and its RSS once the
   frame is loaded, so the frame's own share (the caller's data) is visible.
3. The first merged copy is checked: one row per key, and the expected updated/inserted/stale counts.

Child processes are bounded by a timeout scaled to the machine: a multiple of the time the preparation
took on it, so a loaded machine gets a longer allowance instead of a failure. The load average is
recorded before and after: the machine is shared, so only ratios of runs made side by side mean much.

``--compare-sql`` also times, in this process on copies, the raw alternatives the merge design was
chosen over (DuckDB ``MERGE INTO`` and ``INSERT ... ON CONFLICT`` on a primary-key table); those raw
timings exclude the API overhead, so compare them with the merge's ``write_s``.

Usage: .venv/bin/python benchmarks/bench_merge.py [--rows 20000000] [--changed N] [--repeat 3] [--quick]
Progress goes to stderr; one JSON document goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sp_assets.lib.tablespec import BIGINT, BOOLEAN, MONEY, TIMESTAMPTZ, VARCHAR, Column, TableSpec

SCHEMA = "bench"
SPEC = TableSpec(
    name="orders",
    columns=(
        Column("amazon_order_id", VARCHAR, nullable=False),
        Column("last_update_date", TIMESTAMPTZ),
        Column("purchase_date", TIMESTAMPTZ),
        Column("order_status", VARCHAR),
        Column("order_total_amount", MONEY),
        Column("order_total_currency", VARCHAR),
        Column("number_of_items_shipped", BIGINT),
        Column("is_prime", BOOLEAN),
        Column("sales_channel", VARCHAR),
        Column("ship_city", VARCHAR),
    ),
    primary_key=("amazon_order_id",),
    version_column="last_update_date",
)
COLUMNS = ", ".join(SPEC.column_names)
RATIO_TARGET = 3.0
RSS_TARGET_MB = 1024.0
# A child may take this many times the preparation (which writes the whole table) plus a floor.
CHILD_TIMEOUT_FACTOR = 10.0
CHILD_TIMEOUT_FLOOR_S = 300.0


def rows_sql(low: int, high: int, version_shift_s: int) -> str:
    """Synthetic orders ``low..high-1``; ``version_shift_s`` moves last_update_date (newer or older)."""
    return f"""SELECT 'ORD-' || lpad(i::VARCHAR, 10, '0') AS amazon_order_id,
        TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i + {version_shift_s}) AS last_update_date,
        TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i) AS purchase_date,
        CASE WHEN i % 3 = 0 THEN 'Shipped' ELSE 'Unshipped' END AS order_status,
        ((i % 100000) / 100)::DECIMAL(18,2) AS order_total_amount, 'USD' AS order_total_currency,
        (i % 5)::BIGINT AS number_of_items_shipped, i % 2 = 0 AS is_prime, 'Amazon.com' AS sales_channel,
        'City ' || (i % 1000) AS ship_city
        FROM range({low}, {high}) r(i)"""


def split(changed: int) -> dict[str, int]:
    """How the changed rows divide: newer versions of stored keys, older ones, new keys."""
    newer, older = int(changed * 0.8), int(changed * 0.1)
    return {"updated": newer, "stale": older, "inserted": changed - newer - older}


# ------------------------------------------------------------------------------------------ prepare
def prepare(template: Path, frame_file: Path, rows: int, changed: int) -> None:
    """The template warehouse (``bench.orders`` of ``rows`` rows) and the changed rows as Parquet."""
    import polars as pl

    from sp_assets.lib.warehouse import Warehouse

    warehouse = Warehouse(template)
    warehouse.append(SCHEMA, SPEC, pl.DataFrame(schema=SPEC.polars_schema()))  # table, view, ledger
    parts = split(changed)
    newer, older = parts["updated"], parts["stale"]
    with warehouse.connect() as connection:
        connection.execute(f"INSERT INTO {SCHEMA}.orders {rows_sql(0, rows, 0)}")
        connection.execute("CHECKPOINT")
        connection.execute(
            f"COPY ({rows_sql(0, newer, 100)} UNION ALL {rows_sql(newer, newer + older, -100)} "
            f"UNION ALL {rows_sql(rows, rows + parts['inserted'], 0)}) TO '{frame_file}' (FORMAT parquet)"
        )
    Path(f"{template}.lock").unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------ children
def peak_rss_mb() -> float:
    """This process's own peak RSS: ``VmHWM`` of /proc/self/status (``ru_maxrss`` can carry the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(args: argparse.Namespace) -> None:
    """Read the changed rows, then time one merge (or plain INSERT) through the API; JSON to stdout."""
    import polars as pl

    from sp_assets.lib.warehouse import Warehouse

    frame = pl.read_parquet(args.frame)
    rss_with_frame = peak_rss_mb()
    warehouse = Warehouse(args.db)
    write = warehouse.merge if args.child == "merge" else warehouse.append
    started = time.perf_counter()
    result = write(SCHEMA, SPEC, frame)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": round(seconds, 3), "write_s": round(result.write_s, 3),
                      "peak_rss_mb": peak_rss_mb(), "rss_with_frame_mb": rss_with_frame,
                      "frame_rows": frame.height, "inserted": result.inserted, "updated": result.updated,
                      "stale": result.stale, "unchanged": result.unchanged}))


def run_child(mode: str, template: Path, frame_file: Path, db: Path, timeout_s: float) -> dict[str, Any]:
    shutil.copyfile(template, db)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--db", str(db),
               "--frame", str(frame_file)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} child failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_merged(db: Path, rows: int, changed: int, run: dict[str, Any]) -> dict[str, int]:
    """One row per key after the merge, and the counts the changed rows imply."""
    import duckdb

    expected = split(changed)
    got = {key: run[key] for key in expected}
    if got != expected:
        raise RuntimeError(f"merge counts {got} differ from the expected {expected}")
    with duckdb.connect(str(db), read_only=True) as connection:
        total, keys = connection.execute(
            f"SELECT count(*), count(DISTINCT amazon_order_id) FROM {SCHEMA}.orders").fetchone()
    if total != keys or total != rows + expected["inserted"]:
        raise RuntimeError(f"after the merge {total:,} rows hold {keys:,} keys; expected "
                           f"{rows + expected['inserted']:,} of each")
    return {"rows_after_merge": total, "distinct_keys_after_merge": keys}


# ------------------------------------------------------------------------------------------ raw SQL
def raw_alternatives(template: Path, frame_file: Path, scratch: Path) -> dict[str, float]:
    """Time MERGE INTO (no key) and INSERT ... ON CONFLICT (primary-key table) on copies, in-process."""
    import duckdb
    from benchlib import log

    set_list = ", ".join(f"{name} = s.{name}" for name in SPEC.column_names[1:])
    values = ", ".join(f"s.{name}" for name in SPEC.column_names)
    excluded = ", ".join(f"{name} = excluded.{name}" for name in SPEC.column_names[1:])
    db = scratch / "alternatives.duckdb"
    shutil.copyfile(template, db)
    timings: dict[str, float] = {}
    with duckdb.connect(str(db)) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        ddl = ", ".join(f"{name} {SPEC.column(name).type}" for name in SPEC.column_names)
        connection.execute(f"CREATE TABLE alt_pk ({ddl}, PRIMARY KEY (amazon_order_id))")
        connection.execute(f"INSERT INTO alt_pk SELECT {COLUMNS} FROM {SCHEMA}.orders")
        connection.execute(f"CREATE TEMP TABLE staged AS SELECT * FROM read_parquet('{frame_file}')")
        connection.execute("CHECKPOINT")

        def merge_into() -> None:
            connection.execute(
                f"""MERGE INTO {SCHEMA}.orders t USING staged s ON t.amazon_order_id = s.amazon_order_id
                WHEN MATCHED AND (t.last_update_date IS NULL OR s.last_update_date > t.last_update_date)
                THEN UPDATE SET {set_list}
                WHEN NOT MATCHED THEN INSERT VALUES ({values})"""
            ).fetchall()

        def on_conflict() -> None:
            connection.execute(
                f"""INSERT INTO alt_pk SELECT {COLUMNS} FROM staged ON CONFLICT (amazon_order_id)
                DO UPDATE SET {excluded} WHERE excluded.last_update_date > alt_pk.last_update_date
                OR alt_pk.last_update_date IS NULL"""
            ).fetchall()

        for name, action in (("raw_merge_into_s", merge_into), ("raw_insert_on_conflict_pk_s", on_conflict)):
            started = time.perf_counter()
            action()
            timings[name] = round(time.perf_counter() - started, 3)
            log(f"{name}: {timings[name]:.2f} s")
    db.unlink(missing_ok=True)
    return timings


# ------------------------------------------------------------------------------------------ main
def measure(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    from benchlib import log, ratio, spread
    template, frame_file = scratch / "template.duckdb", scratch / "changed.parquet"
    started = time.monotonic()
    prepare(template, frame_file, args.rows, args.changed)
    prepare_s = time.monotonic() - started
    timeout_s = CHILD_TIMEOUT_FLOOR_S + CHILD_TIMEOUT_FACTOR * prepare_s
    log(f"prepared {args.rows:,} rows and {args.changed:,} changed rows in {prepare_s:.1f} s "
        f"(template {template.stat().st_size / 2**20:,.0f} MiB); child timeout {timeout_s:.0f} s")
    load_before = os.getloadavg()
    merges: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    check: dict[str, int] = {}
    db = scratch / "run.duckdb"
    for attempt in range(1, args.repeat + 1):
        merge = run_child("merge", template, frame_file, db, timeout_s)
        if not check:
            check = check_merged(db, args.rows, args.changed, merge)
        insert = run_child("append", template, frame_file, db, timeout_s)
        log(f"run {attempt}: merge {merge['seconds']:.2f} s ({merge['peak_rss_mb']:.0f} MB peak), INSERT "
            f"{insert['seconds']:.2f} s ({insert['peak_rss_mb']:.0f} MB peak), load {os.getloadavg()[0]:.1f}")
        merges.append(merge)
        inserts.append(insert)
    load_after = os.getloadavg()
    alternatives = raw_alternatives(template, frame_file, scratch) if args.compare_sql else {}
    merge_s = [run["seconds"] for run in merges]
    insert_s = [run["seconds"] for run in inserts]
    return {
        "table_rows": args.rows,
        "changed_rows": args.changed,
        "prepare_s": round(prepare_s, 1),
        "child_timeout_s": round(timeout_s),
        "merge_s": spread(merge_s),
        "insert_s": spread(insert_s),
        "merge_write_s": spread([run["write_s"] for run in merges]),
        "ratio": ratio(statistics.median(merge_s), statistics.median(insert_s)),
        "pair_ratios": spread([m / i for m, i in zip(merge_s, insert_s, strict=True)]),
        "merge_peak_rss_mb": spread([run["peak_rss_mb"] for run in merges]),
        "insert_peak_rss_mb": spread([run["peak_rss_mb"] for run in inserts]),
        "rss_with_frame_mb": merges[0]["rss_with_frame_mb"],
        "counts": {key: merges[0][key] for key in ("updated", "inserted", "stale", "unchanged")},
        **check,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "merge_runs": merges,
        "insert_runs": inserts,
        **alternatives,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="rows of the table merged into")
    parser.add_argument("--changed", type=int, help="changed rows (default: a fifth of --rows)")
    parser.add_argument("--repeat", type=int, default=3, help="merge/INSERT pairs (medians count)")
    parser.add_argument("--quick", action="store_true", help="1,000,000 rows, 200,000 changed, one pair")
    parser.add_argument("--compare-sql", action="store_true", help="also time raw MERGE INTO / ON CONFLICT")
    parser.add_argument("--child", choices=("merge", "append"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--frame", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat = min(args.rows, 1_000_000), 1
    if args.changed is None:
        args.changed = args.rows // 5
    if args.repeat < 1 or args.rows < 10 or not 10 <= args.changed:
        parser.error("--repeat must be >= 1, --rows and --changed >= 10")
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        return child(args)
    # Not at the top: benchlib imports the sandbox and the HTTP client, which would swell the children.
    from benchlib import emit, machine_info, ratio_and_rss_figures

    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="bench_merge_") as scratch:
        result = measure(args, Path(scratch))
    peak = result["merge_peak_rss_mb"]["max"]
    times, rss = result["merge_s"], result["merge_peak_rss_mb"]
    inserts, pairs = result["insert_s"], result["pair_ratios"]
    load = f"load {result['load_average_before'][0]:.1f} -> {result['load_average_after'][0]:.1f}"
    name = f"merge {result['changed_rows']:,} changed rows into {result['table_rows']:,}"
    summary = ratio_and_rss_figures(
        f"{name}: merge / plain INSERT time, medians of {args.repeat}", result["ratio"], RATIO_TARGET,
        f"merge min/median/max {times['min']:.2f}/{times['median']:.2f}/{times['max']:.2f} s, INSERT "
        f"{inserts['min']:.2f}/{inserts['median']:.2f}/{inserts['max']:.2f} s; per-pair ratio "
        f"{pairs['min']}/{pairs['median']}/{pairs['max']}; updated {result['counts']['updated']:,}, "
        f"inserted {result['counts']['inserted']:,}, stale {result['counts']['stale']:,}; {load}",
        f"{name}: peak RSS of the merge process (MB)", peak, RSS_TARGET_MB,
        f"min/median/max {rss['min']:.0f}/{rss['median']:.0f}/{rss['max']:.0f} MB; RSS once the frame "
        f"is read (imports included) {result['rss_with_frame_mb']:.0f} MB; plain INSERT "
        f"peak {result['insert_peak_rss_mb']['max']:.0f} MB; {load}",
        at_most=True)
    emit({"benchmark": "merge", "machine": machine,
          "parameters": {"rows": args.rows, "changed": args.changed, "repeat": args.repeat, "quick": args.quick,
                         "compare_sql": args.compare_sql},
          "result": result, "summary": summary})


if __name__ == "__main__":
    sys.exit(main())
