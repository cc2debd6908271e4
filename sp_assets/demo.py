"""``make demo``: the main job on the sandbox, headless, then a summary of what landed in DuckDB.

It asks for the SP-API sandbox (``SP_ASSETS_SANDBOX=1``, whatever credentials are set: the demo's
data is always synthetic, marked ``sandbox`` in the load ledger), starts it, uses the project's
Dagster home, materializes the last 7 days of every asset of every configured marketplace through
Dagster, then the marts over the same days, then prints rows and date range per table, revenue per
marketplace per day from the union views, and net proceeds per marketplace per day in the reporting
currency from ``marts.marketplace_daily``.

The runs are launched on the code location of ``workspace.yaml`` (the one ``make dev`` serves, see
``sp_assets/launcher.py``), not executed in this process: so they carry the location's origin and the
UI shows them where a newcomer looks first (Overview timeline, Jobs pages, Runs), like scheduled runs.
While a run goes, the demo reads its events from the instance and prints the assets, partitions and
rows done so far.

Per marketplace it runs the location's own jobs, the ones the daily schedule runs (history assets
as one run over the 7-day range, point-in-time assets for today, then the unpartitioned assets), one
after the other; the marketplaces go side by side (up to the instance's ``max_concurrent_runs``), so
the demo takes the time of its slowest marketplace. An asset none of the jobs selects still runs,
through Dagster's implicit asset job, so "every asset" holds whatever domain is added later.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import dagster as dg

from sp_assets.defs.common import group_name, today_local
from sp_assets.defs.config import MarketplaceConfig, ProjectConfig, load_config
from sp_assets.defs.marts.assets import GROUP as MARTS_GROUP
from sp_assets.defs.paths import lake_data_path, warehouse_location
from sp_assets.launcher import (
    FINISHED,
    LaunchError,
    RunProgress,
    WorkspaceLocation,
    quiet_code_server,
    status_of,
)
from sp_assets.lib.naming import qualified_name
from sp_assets.lib.warehouse import Warehouse
from sp_assets.local_env import prepare_dagster_home, start_shared_sandbox

DEMO_DAYS = int(os.environ.get("SP_ASSETS_DEMO_DAYS", "7"))
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
# Dagster's console logger prints every event at DEBUG; the demo prints its own lines per run.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
DEMO_TAG = "sp_assets/demo"  # marks the demo's runs (filter the Runs page by it)
# The column whose range the summary shows, best first.
DATE_COLUMNS = ("partition_date", "snapshot_date", "purchase_date", "date")
POLL_SECONDS = 0.5  # how often the instance is asked for run statuses and new events
PROGRESS_SECONDS = 5.0  # a running run prints at most one progress line this often when it moved,
QUIET_SECONDS = 30.0  # and one this often when it did not (a report Amazon is still building)
RUN_TIMEOUT_SECONDS = float(os.environ.get("SP_ASSETS_DEMO_RUN_TIMEOUT", "3600"))
STOP_GRACE_SECONDS = 60.0  # after Ctrl-C, how long terminated runs may take to end


@dataclass
class Outcome:
    """What the demo ran: one entry per run, and the failures to show at the end."""

    runs: list[tuple[str, bool, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(success for _name, success, _seconds in self.runs)


@dataclass(frozen=True)
class Launch:
    """One run the demo launches: a job of the code location, its tags, optionally an asset subset."""

    label: str
    job_name: str
    tags: dict[str, str]
    total_assets: int
    asset_selection: frozenset[dg.AssetKey] | None = None


def range_tags(first: date, last: date) -> dict[str, str]:
    return {RANGE_START: first.isoformat(), RANGE_END: last.isoformat()}


def classify(graph: dg.AssetGraph, keys: Iterable[dg.AssetKey]) -> dict[str, set[dg.AssetKey]]:
    """``history`` (partitioned) and ``unpartitioned`` keys (point-in-time snapshots among them: a run of
    them takes today's snapshot)."""
    kinds: dict[str, set[dg.AssetKey]] = {"history": set(), "unpartitioned": set()}
    for key in keys:
        kinds["unpartitioned" if graph.get(key).partitions_def is None else "history"].add(key)
    return kinds


def plan_marketplace(definitions: dg.Definitions, entry: MarketplaceConfig) -> list[Launch]:
    """The runs of one marketplace, in the order they must go: the rolling (history) job, the snapshot
    job, the unpartitioned job (after the others: it reads what they wrote), then any asset no job selects."""
    graph = definitions.resolve_asset_graph()
    today = today_local(entry)
    first = max(entry.start_date, today - timedelta(days=DEMO_DAYS - 1))
    print(f"{entry.code}: {first} .. {today} ({entry.timezone})", flush=True)
    tags_by_job = {f"{entry.code}_rolling_job": range_tags(first, today),
                   f"{entry.code}_snapshot_job": {},
                   f"{entry.code}_unpartitioned_job": {}}
    launches: list[Launch] = []
    covered: set[dg.AssetKey] = set()
    for name, tags in tags_by_job.items():
        try:
            job = definitions.resolve_job_def(name)
        except dg.DagsterError:  # a job whose selection is empty in this configuration
            continue
        selected = set(job.asset_layer.selected_asset_keys)
        if selected:
            covered |= selected
            launches.append(Launch(name, name, tags, len(selected)))
    group = {key for key in graph.materializable_asset_keys if graph.get(key).group_name == group_name(entry)}
    tags_by_kind = {"history": range_tags(first, today), "unpartitioned": {}}
    for kind, keys in classify(graph, group - covered).items():
        if keys:
            implicit = definitions.resolve_implicit_job_def_def_for_assets(list(keys))
            if implicit is None:
                raise RuntimeError(f"{entry.code}: no job can materialize the {kind} assets {sorted(keys)}")
            launches.append(Launch(f"{entry.code} other {kind} assets", implicit.name, tags_by_kind[kind],
                                   len(keys), frozenset(keys)))
    return launches


@dataclass
class Running:
    """A launched run the demo waits for."""

    launch: Launch
    run_id: str
    chain: deque[Launch]
    started: float
    progress: RunProgress
    printed: float
    moved: bool = False  # progress since the last line printed


def line(launch: Launch, state: str, seconds: float, progress: RunProgress) -> str:
    return f"  {launch.label:<36} {state:<7} {seconds:6.1f}s  {progress.summary(launch.total_assets)}"


def launch_next(location: WorkspaceLocation, chain: deque[Launch], outcome: Outcome) -> Running | None:
    """Launch the chain's next run; a run that cannot be launched counts as failed and the next is tried."""
    while chain:
        launch = chain.popleft()
        started = time.monotonic()
        try:
            run_id = location.launch(launch.job_name, tags={**launch.tags, DEMO_TAG: "1"}, run_config=QUIET,
                                     asset_selection=launch.asset_selection)
        except (LaunchError, dg.DagsterError) as error:
            outcome.runs.append((launch.label, False, 0.0))
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            outcome.failures.append(f"{launch.label}: could not be launched: {message}")
            print(f"  {launch.label:<36} FAILED  could not be launched: {message}", flush=True)
            continue
        outcome.run_ids.append(run_id)
        return Running(launch, run_id, chain, started, RunProgress(run_id), started)
    return None


def finish(running: Running, status: dg.DagsterRunStatus, instance: dg.DagsterInstance, outcome: Outcome,
           note: str = "") -> None:
    running.progress.update(instance)  # the events logged between the last poll and the end
    seconds = time.monotonic() - running.started
    success = status == dg.DagsterRunStatus.SUCCESS
    outcome.runs.append((running.launch.label, success, seconds))
    print(line(running.launch, "ok" if success else "FAILED", seconds, running.progress), flush=True)
    failures = running.progress.failures or ([] if success else [note or f"the run ended {status.value}"])
    for text in failures:
        outcome.failures.append(f"{running.launch.label}: {text}")
        print(f"    {text}", flush=True)


def run_chains(location: WorkspaceLocation, instance: dg.DagsterInstance, chains: Sequence[Sequence[Launch]],
               outcome: Outcome, parallel: int, stop: threading.Event | None = None) -> None:
    """Launch each chain's runs one after the other, up to ``parallel`` chains at a time; wait for every run
    by polling its status in the instance (with a deadline per run), printing progress from its events.

    Setting ``stop`` (Ctrl-C) launches nothing more and terminates the runs that go, then waits (bounded)
    for them to end, so the code server stops with no run worker left behind.
    """
    stop = stop or threading.Event()
    waiting = deque(deque(chain) for chain in chains if chain)
    active: list[Running] = []
    try:
        while waiting or active:
            if stop.is_set():
                terminate_all(location, instance, active, outcome)
                return
            while waiting and len(active) < parallel:
                started = launch_next(location, waiting.popleft(), outcome)
                if started is not None:
                    active.append(started)
            for running in list(active):
                status = status_of(instance, running.run_id)
                now = time.monotonic()
                if status in FINISHED:
                    finish(running, status, instance, outcome)
                elif now - running.started > RUN_TIMEOUT_SECONDS:
                    location.terminate(running.run_id)
                    finish(running, dg.DagsterRunStatus.CANCELED, instance, outcome,
                           f"did not finish within {RUN_TIMEOUT_SECONDS:.0f}s (SP_ASSETS_DEMO_RUN_TIMEOUT); "
                           f"terminated, see run {running.run_id} in the UI")
                else:
                    running.moved = running.progress.update(instance) or running.moved
                    if now - running.printed >= (PROGRESS_SECONDS if running.moved else QUIET_SECONDS):
                        running.printed, running.moved = now, False
                        print(line(running.launch, "...", now - running.started, running.progress), flush=True)
                    continue
                active.remove(running)
                following = launch_next(location, running.chain, outcome)
                if following is not None:
                    active.append(following)
            if active:
                stop.wait(POLL_SECONDS)
    except KeyboardInterrupt:
        for running in active:
            location.terminate(running.run_id)
        raise


def terminate_all(location: WorkspaceLocation, instance: dg.DagsterInstance, active: list[Running],
                  outcome: Outcome) -> None:
    """Terminate the runs that go and wait up to ``STOP_GRACE_SECONDS`` for each to end."""
    for running in active:
        location.terminate(running.run_id)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for running in active:
        status = status_of(instance, running.run_id)
        while status not in FINISHED and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            status = status_of(instance, running.run_id)
        finish(running, status if status in FINISHED else dg.DagsterRunStatus.CANCELED, instance, outcome,
               "interrupted (Ctrl-C)")


class StopRequest:
    """The first Ctrl-C (or SIGTERM) sets ``event``: the demo terminates its runs and stops cleanly.
    A second one raises KeyboardInterrupt at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        print(f"\n{signal.Signals(signum).name}: terminating the demo's runs; a step ends its current SP-API "
              f"call first, up to {STOP_GRACE_SECONDS:.0f}s (again to quit at once) ...", flush=True)
        self.event.set()


def max_parallel_runs(instance: dg.DagsterInstance) -> int:
    """The instance's ``max_concurrent_runs`` (dagster.yaml), the bound the run queue would apply."""
    limit = instance.get_concurrency_config().run_queue_config
    value = getattr(limit, "max_concurrent_runs", None) if limit is not None else None
    return value if isinstance(value, int) and value > 0 else 1


def plan_marts(definitions: dg.Definitions, config: ProjectConfig) -> list[Launch]:
    """The marts over the demo's days (the keys spanning every marketplace's local range), after the raw
    assets: the whole-table ones (and the rates) in one run, the daily ones in one range run."""
    graph = definitions.resolve_asset_graph()
    marts = {key for key in graph.materializable_asset_keys if graph.get(key).group_name == MARTS_GROUP}
    if not marts:
        return []
    last = max(today_local(entry) for entry in config.marketplaces)
    first = max(min(entry.start_date for entry in config.marketplaces),
                min(today_local(entry) for entry in config.marketplaces) - timedelta(days=DEMO_DAYS - 1))
    print(f"marts: {first} .. {last}", flush=True)
    kinds = classify(graph, marts)
    launches = []
    for label, keys, tags in (("marts tables", kinds["unpartitioned"], {}),
                              ("marts daily", kinds["history"], range_tags(first, last))):
        if keys:
            job = definitions.resolve_implicit_job_def_def_for_assets(list(keys))
            if job is None:
                raise RuntimeError(f"no job can materialize the marts {sorted(keys)}")
            launches.append(Launch(label, job.name, tags, len(keys), frozenset(keys)))
    return launches


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
    print(f"\nDuckDB: {warehouse.where}\n")
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
    """What the seller kept per marketplace per day, from the marts: revenue, Amazon's fees, refunds and net
    proceeds (every financial event posted that day) in the marketplace's currency, and net proceeds in the
    reporting currency."""
    if not warehouse.table_exists("marts", "marketplace_daily"):
        print("\nNo marts.marketplace_daily: the marts were not built.")
        return
    rows = warehouse.query(
        "select marketplace, day, units, gross_sales, referral_fees + fba_fees + other_fees, refunds, net_proceeds, "
        "currency, net_proceeds_rc, reporting_currency from marts.marketplace_daily order by marketplace, day").rows()
    print("\nWhat the seller kept per marketplace per day (marts.marketplace_daily, from the financial events "
          "posted that day):\n")
    print(f"{'marketplace':<12} {'day':<11} {'units':>6} {'revenue':>12} {'amazon fees':>12} {'refunds':>10} "
          f"{'net proceeds':>13} {'cur':<4} {'net (reporting)':>16}")
    for marketplace, day, units, revenue, fees, refunds, net, currency, net_rc, reporting in rows:
        converted = "no rate" if net_rc is None else f"{net_rc:,.2f} {reporting}"
        print(f"{marketplace:<12} {day!s:<11} {units:>6} {revenue:>12,.2f} {fees:>12,.2f} {refunds:>10,.2f} "
              f"{net:>13,.2f} {currency or '':<4} {converted:>16}")


def print_summary(instance: dg.DagsterInstance, graph: dg.AssetGraph) -> list[tuple[str, int]]:
    warehouse = Warehouse(warehouse_location(), lake_data_path=lake_data_path())
    counts = print_tables(warehouse, instance, graph)
    print_revenue(warehouse)
    print_net_proceeds(warehouse)
    return counts


def main() -> int:
    warnings.filterwarnings("ignore")
    stop = StopRequest()
    quiet_code_server()
    home = prepare_dagster_home()
    started = time.monotonic()
    sandbox = start_shared_sandbox()
    outcome = Outcome()
    try:
        from sp_assets.definitions import defs

        definitions = defs()
        config = load_config()
        chains = [plan_marketplace(definitions, entry) for entry in config.marketplaces]
        with dg.DagsterInstance.get() as instance:
            with WorkspaceLocation(instance) as location:
                parallel = max_parallel_runs(instance)
                print(f"\nLaunching {sum(map(len, chains))} runs on the code location {location.name!r} "
                      f"({min(parallel, len(chains))} marketplaces at a time); progress every "
                      f"{PROGRESS_SECONDS:.0f}s:", flush=True)
                run_chains(location, instance, chains, outcome, parallel, stop.event)
                # The marts read every marketplace's raw tables: after all of them, on the same location.
                marts = plan_marts(definitions, config)
                if marts and not stop.event.is_set():
                    run_chains(location, instance, [marts], outcome, 1, stop.event)
            if stop.event.is_set():
                print(f"Interrupted: {len(outcome.runs)} runs ended, the others were not launched.", file=sys.stderr)
                return 130
            counts = print_summary(instance, definitions.resolve_asset_graph())
    except LaunchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if sandbox is not None:
            sandbox.stop()
    empty = [table for table, rows in counts if rows == 0]
    print(f"\nDone in {time.monotonic() - started:.0f}s: {len(outcome.runs)} runs, "
          f"{sum(1 for _n, ok, _s in outcome.runs if not ok)} failed. The runs are recorded in {home}.")
    if empty:
        print(f"Empty tables: {', '.join(empty)}")
    for text in outcome.failures:
        print(f"FAILED {text}", file=sys.stderr)
    print("See them in the Dagster UI: `make dev`, then open http://127.0.0.1:3000 (Overview, Jobs, Runs, "
          "Assets, Backfills).")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
