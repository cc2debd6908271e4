"""``make demo``: the main job on the sandbox, headless, then a summary of what landed in DuckDB.

It asks for the SP-API sandbox (``SP_ASSETS_SANDBOX=1``, whatever credentials are set: the demo's
data is always synthetic, marked ``sandbox`` in the load ledger), starts it, uses the project's
Dagster home (so the runs show in the UI later), materializes the last 7 days of every asset of
every configured marketplace through Dagster, then the marts over the same days, then prints rows
and date range per table, revenue per marketplace per day from the union views, and net proceeds per
marketplace per day in the reporting currency from ``marts.marketplace_daily``.

Per marketplace it runs the location's own jobs, the ones the daily schedule runs (history assets
as one run over the 7-day range, point-in-time assets (unpartitioned: today's snapshot), unpartitioned
assets), so the UI
shows the same job names as scheduled runs. An asset none of them selects still runs, through
Dagster's implicit asset job, so "every asset" holds whatever domain is added later.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import dagster as dg

from sp_assets.defs.common import group_name, today_local
from sp_assets.defs.config import MarketplaceConfig, ProjectConfig, load_config
from sp_assets.defs.marts.assets import GROUP as MARTS_GROUP
from sp_assets.defs.paths import duckdb_path
from sp_assets.lib.naming import qualified_name
from sp_assets.lib.warehouse import Warehouse
from sp_assets.local_env import prepare_dagster_home, start_shared_sandbox

DEMO_DAYS = int(os.environ.get("SP_ASSETS_DEMO_DAYS", "7"))
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
# Dagster's console logger prints every event at DEBUG; the demo prints its own one line per run.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# The column whose range the summary shows, best first.
DATE_COLUMNS = ("partition_date", "snapshot_date", "purchase_date", "date")


@dataclass
class Outcome:
    """What the demo ran: one entry per run, and the failures to show at the end."""

    runs: list[tuple[str, bool, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(success for _name, success, _seconds in self.runs)


def failure_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """``<step>: <first line of the error>`` per failed step (a ``dg.Failure`` shows its description)."""
    lines = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        text = (data.user_failure_data.description if data.user_failure_data is not None else None) or (
            data.error.message if data.error is not None else "failed")
        lines.append(f"{event.step_key}: {text.strip().splitlines()[0] if text.strip() else 'failed'}")
    return lines


def execute(job: dg.JobDefinition, instance: dg.DagsterInstance, label: str, tags: dict[str, str],
            outcome: Outcome, asset_selection: Iterable[dg.AssetKey] | None = None) -> None:
    """One run in this process, recorded in the instance like a launched run."""
    started = time.monotonic()
    result = job.execute_in_process(instance=instance, tags=tags, run_config=QUIET, raise_on_error=False,
                                    asset_selection=list(asset_selection) if asset_selection else None)
    seconds = time.monotonic() - started
    outcome.runs.append((label, result.success, seconds))
    print(f"  {label:<36} {'ok' if result.success else 'FAILED':<6} {seconds:6.1f}s", flush=True)
    for line in failure_lines(result):
        outcome.failures.append(f"{label}: {line}")
        print(f"    {line}", flush=True)


def range_tags(first: date, last: date) -> dict[str, str]:
    return {RANGE_START: first.isoformat(), RANGE_END: last.isoformat()}


def classify(graph: dg.AssetGraph, keys: Iterable[dg.AssetKey]) -> dict[str, set[dg.AssetKey]]:
    """``history`` (partitioned) and ``unpartitioned`` keys (point-in-time snapshots among them: a run of
    them takes today's snapshot)."""
    kinds: dict[str, set[dg.AssetKey]] = {"history": set(), "unpartitioned": set()}
    for key in keys:
        kinds["unpartitioned" if graph.get(key).partitions_def is None else "history"].add(key)
    return kinds


def materialize_marketplace(definitions: dg.Definitions, instance: dg.DagsterInstance, entry: MarketplaceConfig,
                            outcome: Outcome) -> None:
    graph = definitions.resolve_asset_graph()
    today = today_local(entry)
    first = max(entry.start_date, today - timedelta(days=DEMO_DAYS - 1))
    print(f"{entry.code}: {first} .. {today} ({entry.timezone})", flush=True)
    tags_by_job = {f"{entry.code}_rolling_job": range_tags(first, today),
                   f"{entry.code}_snapshot_job": {},
                   f"{entry.code}_unpartitioned_job": {}}
    covered: set[dg.AssetKey] = set()
    for name, tags in tags_by_job.items():
        try:
            job = definitions.resolve_job_def(name)
        except dg.DagsterError:  # a job whose selection is empty in this configuration
            continue
        if job.asset_layer.selected_asset_keys:
            covered |= set(job.asset_layer.selected_asset_keys)
            execute(job, instance, name, tags, outcome)
    group = {key for key in graph.materializable_asset_keys if graph.get(key).group_name == group_name(entry)}
    tags_by_kind = {"history": range_tags(first, today), "unpartitioned": {}}
    for kind, keys in classify(graph, group - covered).items():
        if keys:
            implicit = definitions.resolve_implicit_job_def_def_for_assets(list(keys))
            if implicit is None:
                raise RuntimeError(f"{entry.code}: no job can materialize the {kind} assets {sorted(keys)}")
            label = f"{entry.code} other {kind} assets"
            execute(implicit, instance, label, tags_by_kind[kind], outcome, keys)


def materialize_marts(definitions: dg.Definitions, instance: dg.DagsterInstance, config: ProjectConfig,
                      outcome: Outcome) -> None:
    """The marts over the demo's days (the UTC keys spanning every marketplace's local range), after the
    raw assets: the whole-table ones (and the rates) in one run, the daily ones in one range run."""
    graph = definitions.resolve_asset_graph()
    marts = {key for key in graph.materializable_asset_keys if graph.get(key).group_name == MARTS_GROUP}
    if not marts:
        return
    last = max(today_local(entry) for entry in config.marketplaces)
    first = max(min(entry.start_date for entry in config.marketplaces),
                min(today_local(entry) for entry in config.marketplaces) - timedelta(days=DEMO_DAYS - 1))
    print(f"marts: {first} .. {last}", flush=True)
    kinds = classify(graph, marts)
    for label, keys, tags in (("marts tables", kinds["unpartitioned"], {}),
                              ("marts daily", kinds["history"] | kinds["today"], range_tags(first, last))):
        if keys:
            job = definitions.resolve_implicit_job_def_def_for_assets(list(keys))
            if job is None:
                raise RuntimeError(f"no job can materialize the marts {sorted(keys)}")
            execute(job, instance, label, tags, outcome, keys)


def data_range(warehouse: Warehouse, schema: str, table: str, columns: list[str],
               candidates: tuple[str, ...] = DATE_COLUMNS) -> tuple[str, str, str] | None:
    """(first, last, column) of the table's own date column, if it has one."""
    column = next((name for name in candidates if name in columns), None)
    if column is None:
        return None
    first, last = warehouse.query(f"select min({column})::date, max({column})::date from {qualified_name(schema, table)}").row(0)
    return (str(first), str(last), column) if first is not None else None


def partition_range(instance: dg.DagsterInstance, graph: dg.AssetGraph, schema: str, table: str
                    ) -> tuple[str, str, str] | None:
    """(first, last, "partitions") materialized for the table's asset: the window a merge table covers."""
    key = dg.AssetKey([schema, table])
    if not graph.has(key) or graph.get(key).partitions_def is None:
        return None
    done = sorted(instance.get_materialized_partitions(key))
    return (done[0], done[-1], "partitions loaded") if done else None


def print_tables(warehouse: Warehouse, instance: dg.DagsterInstance, graph: dg.AssetGraph) -> list[tuple[str, int]]:
    """Rows and date range per table; returns (table, rows) for each.

    The range is the table's date column (partition, snapshot or purchase date) when it has one, else
    the partitions Dagster materialized for it (merge tables keyed by id), else when it was fetched.
    """
    tables = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_schema not in ('main', '_sp_assets') order by 1, 2"
    ).rows()
    print(f"\nDuckDB: {duckdb_path()}\n")
    print(f"{'table':<40} {'rows':>8}  date range")
    counts = []
    for schema, table in tables:
        columns = warehouse.query(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table]).to_series().to_list()
        rows = warehouse.query(f"select count(*) from {qualified_name(schema, table)}").item()
        span = (data_range(warehouse, schema, table, columns) or partition_range(instance, graph, schema, table)
                or data_range(warehouse, schema, table, columns, ("fetched_at",)))
        text = f"{span[0]} .. {span[1]}  ({span[2]})" if span and rows else ""
        print(f"{schema + '.' + table:<40} {rows:>8}  {text}")
        counts.append((f"{schema}.{table}", rows))
    return counts


def print_revenue(warehouse: Warehouse) -> None:
    """The demo's analytics question, answered from the union view ``amazon.orders``."""
    if not warehouse.query("select count(*) from information_schema.tables where table_schema = 'amazon' "
                           "and table_name = 'orders'").item():
        print("\nNo amazon.orders view: no orders were materialized.")
        return
    print("\nRevenue per marketplace per day (amazon.orders; canceled orders excluded; pending orders have "
          "no price yet):\n")
    revenue = warehouse.query(
        "select marketplace, partition_date, max(order_total_currency) as currency, "
        "count(*) filter (where order_total_amount is not null) as priced, "
        "count(*) filter (where order_total_amount is null) as pending, "
        "coalesce(sum(order_total_amount), 0) as revenue "
        "from amazon.orders where order_status <> 'Canceled' group by all order by marketplace, partition_date"
    )
    print(f"{'marketplace':<12} {'day':<11} {'orders':>7} {'pending':>8} {'revenue':>14}  currency")
    for marketplace, day, currency, priced, pending, amount in revenue.rows():
        print(f"{marketplace:<12} {day!s:<11} {priced:>7} {pending:>8} {amount:>14,.2f}  {currency or ''}")


def print_net_proceeds(warehouse: Warehouse) -> None:
    """Net proceeds (what Amazon pays out) per marketplace per day, in both currencies, from the marts."""
    if not warehouse.table_exists("marts", "marketplace_daily"):
        print("\nNo marts.marketplace_daily: the marts were not built.")
        return
    rows = warehouse.query("select marketplace, day, units, net_proceeds, currency, net_proceeds_rc, "
                           "reporting_currency from marts.marketplace_daily order by marketplace, day").rows()
    print("\nNet proceeds per marketplace per day (marts.marketplace_daily: every financial event posted that "
          "day; empty until the finances assets load events):\n")
    print(f"{'marketplace':<12} {'day':<11} {'units':>6} {'net proceeds':>14} {'cur':<4} {'reporting':>14}")
    for marketplace, day, units, net, currency, net_rc, reporting in rows:
        converted = "no rate" if net_rc is None else f"{net_rc:,.2f}"
        print(f"{marketplace:<12} {day!s:<11} {units:>6} {net:>14,.2f} {currency or '':<4} {converted:>14} "
              f"{reporting}")


def print_summary(instance: dg.DagsterInstance, graph: dg.AssetGraph) -> list[tuple[str, int]]:
    warehouse = Warehouse(str(duckdb_path()))
    counts = print_tables(warehouse, instance, graph)
    print_revenue(warehouse)
    print_net_proceeds(warehouse)
    return counts


def main() -> int:
    warnings.filterwarnings("ignore")
    home = prepare_dagster_home()
    started = time.monotonic()
    sandbox = start_shared_sandbox()
    outcome = Outcome()
    try:
        from sp_assets.definitions import defs

        definitions = defs()
        config = load_config()
        with dg.DagsterInstance.get() as instance:
            for entry in config.marketplaces:
                materialize_marketplace(definitions, instance, entry, outcome)
            materialize_marts(definitions, instance, config, outcome)
            counts = print_summary(instance, definitions.resolve_asset_graph())
    finally:
        if sandbox is not None:
            sandbox.stop()
    empty = [table for table, rows in counts if rows == 0]
    print(f"\nDone in {time.monotonic() - started:.0f}s: {len(outcome.runs)} runs, "
          f"{sum(1 for _n, ok, _s in outcome.runs if not ok)} failed. The runs are recorded in {home}.")
    if empty:
        print(f"Empty tables: {', '.join(empty)}")
    for line in outcome.failures:
        print(f"FAILED {line}", file=sys.stderr)
    print("See them in the Dagster UI: `make dev`, then open http://127.0.0.1:3000 (Runs, Assets, Backfills).")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
