"""Benchmark: ``Warehouse.merge`` of 1,000,000 changed rows into a 5,000,000-row table vs a plain INSERT.

Target (from the issue): merge time <= 3x the time of a plain INSERT of the same rows, measured in the
same run. Both are timed through the public API (``Warehouse.append`` is the plain INSERT), so both
include the lock, connect, transaction, ledger row, commit and close. The changed frame is 800,000
existing keys with a newer version, 100,000 existing keys with an OLDER version (must be skipped) and
100,000 new keys. ``--compare-sql`` also times the raw alternatives the merge design was chosen over
(DuckDB ``MERGE INTO`` and ``INSERT ... ON CONFLICT`` on a primary-key table) on identical copies;
those raw timings exclude the API overhead (frame checks, lock, connect, ledger, close) and give no
per-action counts, so compare them with ``merge.write_s``, not with ``merge_s``.

Usage: .venv/bin/python benchmarks/bench_merge.py [--rows 5000000] [--changed 1000000] [--compare-sql]
Progress goes to stderr; one JSON document goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from sp_assets.lib.tablespec import BIGINT, BOOLEAN, MONEY, TIMESTAMPTZ, VARCHAR, Column, TableSpec
from sp_assets.lib.warehouse import Warehouse

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


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(warehouse: Warehouse, schemas: list[str], rows: int, changed: int) -> pl.DataFrame:
    """Create identical ``<schema>.orders`` tables of ``rows`` rows and return the changed frame."""
    empty = pl.DataFrame(schema=SPEC.polars_schema())
    for schema in schemas:
        warehouse.append(schema, SPEC, empty)  # the warehouse creates the table and the view
    with warehouse.connect() as connection:
        first = schemas[0]
        connection.execute(f"INSERT INTO {first}.orders {rows_sql(0, rows, 0)}")
        for schema in schemas[1:]:
            connection.execute(f"INSERT INTO {schema}.orders SELECT * FROM {first}.orders")
        connection.execute("CHECKPOINT")
        newer = int(changed * 0.8)
        older = int(changed * 0.1)
        fresh = changed - newer - older
        frame = connection.sql(
            f"{rows_sql(0, newer, 100)} UNION ALL {rows_sql(newer, newer + older, -100)} "
            f"UNION ALL {rows_sql(rows, rows + fresh, 0)}"
        ).pl()
    return frame


def timed(label: str, action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    log(f"{label}: {elapsed:.3f} s")
    return elapsed, result


def raw_alternatives(warehouse: Warehouse, frame: pl.DataFrame) -> dict[str, float]:
    """Time MERGE INTO (no key) and INSERT ... ON CONFLICT (primary-key table) on copies."""
    set_list = ", ".join(f"{name} = s.{name}" for name in SPEC.column_names[1:])
    values = ", ".join(f"s.{name}" for name in SPEC.column_names)
    excluded = ", ".join(f"{name} = excluded.{name}" for name in SPEC.column_names[1:])
    timings: dict[str, float] = {}
    with warehouse.connect() as connection:
        connection.execute("CREATE SCHEMA IF NOT EXISTS alt_merge; CREATE SCHEMA IF NOT EXISTS alt_pk")
        connection.execute("CREATE TABLE alt_merge.orders AS SELECT * FROM bench_insert.orders LIMIT 0")
        connection.execute("INSERT INTO alt_merge.orders SELECT * FROM bench_merge_src.orders")
        ddl = ", ".join(f"{name} {SPEC.column(name).type}" for name in SPEC.column_names)
        connection.execute(f"CREATE TABLE alt_pk.orders ({ddl}, PRIMARY KEY (amazon_order_id))")
        connection.execute("INSERT INTO alt_pk.orders SELECT * FROM bench_merge_src.orders")
        connection.execute("CHECKPOINT")
        connection.register("staged", frame)

        def merge_into() -> None:
            connection.execute("BEGIN TRANSACTION")
            connection.execute(
                f"""MERGE INTO alt_merge.orders t USING staged s ON t.amazon_order_id = s.amazon_order_id
                WHEN MATCHED AND (t.last_update_date IS NULL OR s.last_update_date > t.last_update_date)
                THEN UPDATE SET {set_list}
                WHEN NOT MATCHED THEN INSERT VALUES ({values})"""
            ).fetchall()
            connection.execute("COMMIT")

        def on_conflict() -> None:
            connection.execute("BEGIN TRANSACTION")
            connection.execute(
                f"""INSERT INTO alt_pk.orders SELECT {COLUMNS} FROM staged ON CONFLICT (amazon_order_id)
                DO UPDATE SET {excluded} WHERE excluded.last_update_date > alt_pk.orders.last_update_date
                OR alt_pk.orders.last_update_date IS NULL"""
            ).fetchall()
            connection.execute("COMMIT")

        timings["raw_merge_into_s"], _ = timed("raw MERGE INTO (no key)", merge_into)
        timings["raw_insert_on_conflict_pk_s"], _ = timed(
            "raw INSERT ... ON CONFLICT (primary key)", on_conflict
        )
        connection.execute("DROP SCHEMA alt_merge CASCADE; DROP SCHEMA alt_pk CASCADE")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--changed", type=int, default=1_000_000)
    parser.add_argument("--compare-sql", action="store_true", help="also time raw MERGE INTO / ON CONFLICT")
    parser.add_argument("--db", type=Path, help="DuckDB file to use (default: a temporary directory)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_merge_") as scratch:
        db = args.db or Path(scratch) / "bench.duckdb"
        warehouse = Warehouse(db)
        schemas = ["bench_merge", "bench_insert"] + (["bench_merge_src"] if args.compare_sql else [])
        build_s, frame = timed(
            f"build {args.rows:,}-row tables and the {args.changed:,}-row frame",
            lambda: build(warehouse, schemas, args.rows, args.changed),
        )
        insert_s, insert_result = timed(
            "append (plain INSERT)", lambda: warehouse.append("bench_insert", SPEC, frame)
        )
        merge_s, merge_result = timed("merge", lambda: warehouse.merge("bench_merge", SPEC, frame))
        check = warehouse.query(
            "SELECT count(*) AS n, count(DISTINCT amazon_order_id) AS keys FROM bench_merge.orders"
        ).row(0, named=True)
        alternatives = raw_alternatives(warehouse, frame) if args.compare_sql else {}
        report = {
            "table_rows": args.rows,
            "changed_rows": args.changed,
            "build_s": round(build_s, 3),
            "insert_s": round(insert_s, 3),
            "merge_s": round(merge_s, 3),
            "ratio": round(merge_s / insert_s, 2),
            "target_ratio": 3.0,
            "within_target": merge_s <= 3.0 * insert_s,
            "merge": merge_result.as_metadata(),
            "insert_rows": insert_result.rows,
            "insert_write_s": round(insert_result.write_s, 3),
            "rows_after_merge": check["n"],
            "distinct_keys_after_merge": check["keys"],
            **{key: round(value, 3) for key, value in alternatives.items()},
        }
        if alternatives:
            report.update(
                {f"{key[:-2]}_ratio": round(value / insert_s, 2) for key, value in alternatives.items()}
            )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
