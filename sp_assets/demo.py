"""``make demo``: the main job on the sandbox, headless, then a summary of what landed in DuckDB.

It starts the SP-API sandbox, uses the project's Dagster home (so the runs show in the UI later),
materializes the last 7 days of every asset of every configured marketplace through Dagster (one
run per marketplace for history assets, one for today's snapshots, one for unpartitioned assets),
then prints rows and date range per table and revenue per marketplace per day from the union views.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from datetime import timedelta

import dagster as dg

from sp_assets.defs.common import today_local
from sp_assets.defs.config import load_config
from sp_assets.defs.paths import duckdb_path
from sp_assets.local_env import prepare_dagster_home, start_shared_sandbox

DEMO_DAYS = int(os.environ.get("SP_ASSETS_DEMO_DAYS", "7"))
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def run_job(definitions: dg.Definitions, instance: dg.DagsterInstance, name: str, tags: dict[str, str]) -> bool:
    """Run one job in this process, recorded in the instance; False when the job selects nothing."""
    try:
        job = definitions.resolve_job_def(name)
    except Exception:  # a job whose selection is empty in this configuration
        return False
    if not job.asset_layer.executable_asset_keys:
        return False
    started = time.monotonic()
    result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    status = "ok" if result.success else "FAILED"
    print(f"  {name:<28} {status:<6} {time.monotonic() - started:6.1f}s", flush=True)
    if not result.success:
        for event in result.all_events:
            if event.is_failure:
                print(f"    {event.message}", file=sys.stderr)
    return result.success


def materialize_everything(definitions: dg.Definitions, instance: dg.DagsterInstance) -> bool:
    ok = True
    for entry in load_config().marketplaces:
        today = today_local(entry)
        first = max(entry.start_date, today - timedelta(days=DEMO_DAYS - 1))
        print(f"{entry.code}: {first} .. {today} ({entry.timezone})", flush=True)
        ok &= run_job(definitions, instance, f"{entry.code}_rolling_job",
                      {RANGE_START: first.isoformat(), RANGE_END: today.isoformat()})
        ok &= run_job(definitions, instance, f"{entry.code}_snapshot_job",
                      {RANGE_START: today.isoformat(), RANGE_END: today.isoformat()})
        run_job(definitions, instance, f"{entry.code}_unpartitioned_job", {})
    return ok


def print_summary() -> None:
    from sp_assets.lib.warehouse import Warehouse

    warehouse = Warehouse(str(duckdb_path()))
    tables = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_schema not in ('main', '_sp_assets') order by 1, 2"
    ).rows()
    print(f"\nDuckDB: {duckdb_path()}\n")
    print(f"{'table':<40} {'rows':>9}  date range")
    for schema, table in tables:
        columns = set(warehouse.query(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table]).to_series().to_list())
        date_column = next((c for c in ("partition_date", "purchase_date", "snapshot_date", "date")
                            if c in columns), None)
        select = "count(*)" + (f", min({date_column})::date, max({date_column})::date" if date_column else "")
        row = warehouse.query(f"select {select} from {schema}.{table}").row(0)
        span = f"{row[1]} .. {row[2]}" if date_column and row[0] else ""
        print(f"{schema + '.' + table:<40} {row[0]:>9}  {span}")
    print("\nRevenue per marketplace per day (amazon.orders, not canceled; Pending orders have no total yet):\n")
    revenue = warehouse.query(
        "select marketplace, partition_date as day, order_total_currency as currency, count(*) as orders, "
        "sum(order_total_amount) as revenue from amazon.orders where order_status <> 'Canceled' "
        "group by all order by marketplace, day"
    )
    print(f"{'marketplace':<12} {'day':<11} {'currency':<9} {'orders':>7} {'revenue':>14}")
    for marketplace, day, currency, orders, amount in revenue.rows():
        print(f"{marketplace:<12} {day!s:<11} {currency or '':<9} {orders:>7} {amount or 0:>14}")


def main() -> int:
    warnings.filterwarnings("ignore")
    home = prepare_dagster_home()
    started = time.monotonic()
    sandbox = start_shared_sandbox()
    try:
        from sp_assets.definitions import defs

        definitions = defs()
        with dg.DagsterInstance.get() as instance:
            ok = materialize_everything(definitions, instance)
        print_summary()
    finally:
        if sandbox is not None:
            sandbox.stop()
    print(f"\nDone in {time.monotonic() - started:.0f}s. The runs are recorded in {home}.")
    print("Open the Dagster UI with `make dev`, then http://127.0.0.1:3000 (Runs, Assets, backfills).")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
