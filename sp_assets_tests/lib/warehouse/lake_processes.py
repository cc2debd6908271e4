"""The processes of the shared-warehouse test: a writer replacing its own days, and an analyst reading.

Run as ``python -m sp_assets_tests.lib.warehouse.lake_processes writer <location> <data path> <days> <rounds>``
or ``... reader <location>``. Both print ``ready`` and wait for a line on stdin before they start, so
the test starts them together without sleeping; the reader then reads until it gets a second line.

The writer replaces each of its days ``rounds`` times with ``ROWS_PER_DAY`` orders whose totals depend
on the round, through ``Warehouse.replace_partition``: the same call the assets make. The reader is an
analyst's DuckDB: it attaches the lake read-only, takes no sp_assets lock, and prints what it counts
(each query is its own transaction, so each sees the newest committed snapshot).
"""

from __future__ import annotations

import select
import sys
from datetime import date

import duckdb
import polars as pl

from sp_assets.lib.tablespec import frame_from_records
from sp_assets.lib.warehouse import Warehouse
from sp_assets.lib.warehouse.lake import Lake, extension_file
from sp_assets_tests.lib.warehouse.support import ORDERS

ROWS_PER_DAY = 2_000


def day_frame(day: date, round_number: int) -> pl.DataFrame:
    """The orders of ``day`` as written in ``round_number``: ids per day, totals per round."""
    return frame_from_records(ORDERS, [
        {"amazon_order_id": f"{day:%Y%m%d}-{n:05d}", "partition_date": day.isoformat(),
         "last_update_date": f"{day.isoformat()}T10:00:00Z", "order_status": "Shipped",
         "order_total": f"{n % 97 + round_number}.25", "items": n % 5 + 1}
        for n in range(ROWS_PER_DAY)])


def write_days(warehouse: Warehouse, days: list[date], rounds: int) -> int:
    """Every day replaced ``rounds`` times, round after round; returns the writes made."""
    writes = 0
    for round_number in range(rounds):
        for day in days:
            warehouse.replace_partition("us", ORDERS, day_frame(day, round_number), day, date.fromordinal(
                day.toordinal() + 1))
            writes += 1
    return writes


def analyst_connection(location: str) -> duckdb.DuckDBPyConnection:
    """What an analyst types in DuckDB: load the two extensions, attach the lake read-only."""
    lake = Lake.parse(location)
    connection = duckdb.connect(":memory:")
    for name in ("ducklake", "postgres_scanner"):
        connection.execute(f"LOAD '{extension_file(name)}'")
    connection.execute(f"ATTACH 'ducklake:postgres:{lake.url}' AS lake (READ_ONLY)")
    return connection


def _stdin_has_line() -> bool:
    return bool(select.select([sys.stdin], [], [], 0)[0])


def main(argv: list[str]) -> None:
    role, location = argv[0], argv[1]
    if role == "writer":
        data_path, days, rounds = argv[2], [date.fromisoformat(d) for d in argv[3].split(",")], int(argv[4])
        warehouse = Warehouse(location, lake_data_path=data_path, lock_timeout_s=300)
        print("ready", flush=True)
        sys.stdin.readline()
        print(f"done {write_days(warehouse, days, rounds)}", flush=True)
        return
    connection = analyst_connection(location)
    print("ready", flush=True)
    sys.stdin.readline()
    while not _stdin_has_line():
        tables = connection.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'lake' "
                                    "AND schema_name = 'us' AND table_name = 'orders'").fetchone()
        if tables and tables[0]:
            row = connection.execute("SELECT count(*), count(DISTINCT partition_date) FROM lake.us.orders").fetchone()
            print(f"read {row[0] if row else 0} {row[1] if row else 0}", flush=True)
    print("stopped", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
