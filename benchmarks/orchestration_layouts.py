"""The jobs ``bench_orchestration.py`` compares, as reconstructable functions, and its work log.

Two layouts of the same assets:

* **new** (shipped): the project's executor (``marketplace_factory.EXECUTOR``, in process) and every
  asset's checks in its step;
* **old** (before issue 17, kept here only): Dagster's default multiprocess executor (every step,
  each check included, its own subprocess) and every check its own step (``checks_in_step=False``);

and **floor**: a do-nothing multi-asset of the per-partition orders step's shape (same asset and check
specs, partitions, pool, executor), whose run cost is Dagster's alone.

A multiprocess run starts its steps in child processes that import this file again (``dg.reconstructable``),
so the configuration comes from ``BENCH_CONFIG_JSON`` and the work each process does is appended, as
wall-clock intervals, to the file named by ``BENCH_WORK_LOG``: SP-API calls and report polling
(``api``), frame building (``frames``), DuckDB (``duckdb``). The union of those intervals is the work of
a run; the rest of its wall time is orchestration. Dagster's writes to its event log (SQLite, or
PostgreSQL on the production profile) are logged too (``eventlog``), as the part of the orchestration
that is the event log alone.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from sp_assets.defs.config import ProjectConfig, parse_config

WORK_LOG, CONFIG_JSON = "BENCH_WORK_LOG", "BENCH_CONFIG_JSON"
WORK = ("api", "frames", "duckdb")  # the work log's categories that are a run's work
EVENT_LOG = "eventlog"  # the category that is not: Dagster writing the run's events (orchestration)
# Every public Warehouse method a step calls (a method missing here would count its DuckDB time as
# orchestration: replace_partitions and merge_together were, until issue 17 round two).
WAREHOUSE_METHODS = ("check_writable", "replace_partition", "replace_partitions", "merge", "merge_together",
                     "replace_table", "append", "load_delimited_file", "query", "table_exists", "columns",
                     "row_count", "loads")
_instrumented = False


def _logged(category: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.time()
        try:
            return function(*args, **kwargs)
        finally:
            with open(os.environ[WORK_LOG], "a", encoding="utf-8") as log:
                log.write(f"{category} {started:.6f} {time.time():.6f}\n")

    return timed


def _logged_block(category: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``_logged`` for a context manager: the interval is the block, from entering to leaving it."""
    @functools.wraps(function)
    @contextlib.contextmanager
    def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
        started = time.time()
        try:
            with function(*args, **kwargs) as value:
                yield value
        finally:
            with open(os.environ[WORK_LOG], "a", encoding="utf-8") as log:
                log.write(f"{category} {started:.6f} {time.time():.6f}\n")

    return timed


def instrument() -> None:
    """Log the work of this process (measurement only: the wrapped functions are unchanged)."""
    global _instrumented
    if _instrumented or not os.environ.get(WORK_LOG):
        return
    _instrumented = True
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from sp_assets.defs import rest_support
    from sp_assets.defs.orders import assets as orders_assets
    from sp_assets.defs.reports import assets as report_assets
    from sp_assets.lib.reports import lifecycle
    from sp_assets.lib.spapi.http import SPAPIClient
    from sp_assets.lib.warehouse import Warehouse

    for name in ("request", "download_to", "iter_download"):
        setattr(SPAPIClient, name, _logged("api", getattr(SPAPIClient, name)))
    lifecycle._ReportRun._wait_for_terminal = _logged("api", lifecycle._ReportRun._wait_for_terminal)
    for name in WAREHOUSE_METHODS:
        setattr(Warehouse, name, _logged("duckdb", getattr(Warehouse, name)))
    # Dagster's own writes of the run's events to its default SQLite event log (one per event: run
    # and index shards, a connection each). Orchestration, not work: logged as ``eventlog`` so the
    # benchmark can say how much of the orchestration is the event log alone (issue 17).
    SqliteEventLogStorage.store_event = _logged(EVENT_LOG, SqliteEventLogStorage.store_event)
    # The same on the production profile (dagster.postgres.yaml): one pooled connection, a network round
    # trip per event instead of a file opened per event. Absent without the ``postgres`` extra.
    with contextlib.suppress(ImportError):
        from dagster_postgres.event_log.event_log import PostgresEventLogStorage

        PostgresEventLogStorage.store_event = _logged(EVENT_LOG, PostgresEventLogStorage.store_event)
    if hasattr(Warehouse, "session"):  # a step's checks on one connection (issue 20; absent before)
        Warehouse.session = _logged_block("duckdb", Warehouse.session)
    # Frame building of every domain: the REST tables, the orders, the sales-and-traffic JSON.
    for module, name in ((orders_assets, "frame_from_records"), (rest_support, "frame_from_records"),
                         (report_assets, "flatten_sales_and_traffic"), (report_assets, "records_frame")):
        setattr(module, name, _logged("frames", getattr(module, name)))


def read_work_log(path: str) -> dict[str, list[tuple[float, float]]]:
    intervals: dict[str, list[tuple[float, float]]] = {}
    with open(path, encoding="utf-8") as log:
        for line in log:
            category, start, end = line.split()
            intervals.setdefault(category, []).append((float(start), float(end)))
    return intervals


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one interval (parallel and nested calls counted once)."""
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


def config() -> ProjectConfig:
    return parse_config(json.loads(os.environ[CONFIG_JSON]))


def _orders_definitions(old: bool) -> dg.Definitions:
    from sp_assets.defs.marketplace_factory import EXECUTOR
    from sp_assets.defs.orders.assets import build_orders_assets, build_orders_checks
    from sp_assets.defs.resources import project_resources

    instrument()
    project = config()
    entry = project.get("us")
    orders = build_orders_assets(entry, checks_in_step=not old)[:1]
    keys = set(orders[0].keys)
    checks = [c for c in build_orders_checks(entry, checks_in_step=not old)
              if any(k.asset_key in keys for k in c.check_keys)]
    job = dg.define_asset_job("orders_job", selection=dg.AssetSelection.assets(*keys))
    return dg.Definitions(assets=orders, asset_checks=checks, jobs=[job], resources=project_resources(project),
                          executor=dg.multiprocess_executor if old else EXECUTOR)


def _floor_definitions() -> dg.Definitions:
    """Dagster's floor for the per-partition run: a multi-asset of the same shape as ``us_orders`` (its two
    asset specs, its five check specs in the step, its partitions and pool, the in-process executor)
    whose body does nothing but report them. No resources: what a run of it costs is Dagster's alone."""
    from sp_assets.defs.marketplace_factory import EXECUTOR
    from sp_assets.defs.orders.assets import build_orders_assets

    instrument()
    (orders,) = build_orders_assets(config().get("us"))[:1]
    specs = [dg.AssetSpec(spec.key, skippable=True, deps=spec.deps) for spec in orders.specs]

    @dg.multi_asset(name="floor_orders", specs=specs, check_specs=list(orders.check_specs),
                    partitions_def=orders.partitions_def, pool=orders.op.pool, can_subset=True)
    def floor_orders(context):  # noqa: ANN001 (a string annotation, from __future__, is one Dagster refuses)
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key, metadata={"dagster/row_count": 0})
        for check in orders.check_specs:
            yield dg.AssetCheckResult(asset_key=check.asset_key, check_name=check.name, passed=True)

    job = dg.define_asset_job("orders_job", selection=dg.AssetSelection.assets(*(spec.key for spec in specs)))
    return dg.Definitions(assets=[floor_orders], jobs=[job], executor=EXECUTOR)


def _rolling_definitions(old: bool) -> dg.Definitions:
    from sp_assets.defs import marketplace_factory
    from sp_assets.defs.resources import project_resources
    from sp_assets.defs.schedules import build_schedules

    instrument()
    project = config()
    if not old:
        return marketplace_factory.project_definitions(project)
    entry = project.get("us")
    # Every domain's builders take checks_in_step (the factory's type says only what it calls).
    domains: list[tuple[Any, Any]] = list(marketplace_factory.DOMAINS)
    assets = [a for build, _ in domains for a in build(entry, checks_in_step=False)]
    checks = [c for _, build in domains for c in build(entry, checks_in_step=False)]
    jobs, schedules = build_schedules(entry)
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=jobs, schedules=schedules,
                          resources=project_resources(project), executor=dg.multiprocess_executor)


def orders_job_new() -> dg.JobDefinition:
    return _orders_definitions(old=False).get_job_def("orders_job")


def orders_job_old() -> dg.JobDefinition:
    return _orders_definitions(old=True).get_job_def("orders_job")


def orders_job_floor() -> dg.JobDefinition:
    return _floor_definitions().get_job_def("orders_job")


def rolling_job_new() -> dg.JobDefinition:
    return _rolling_definitions(old=False).get_job_def("us_rolling_job")


def rolling_job_old() -> dg.JobDefinition:
    return _rolling_definitions(old=True).get_job_def("us_rolling_job")


JOBS = {("orders", "new"): orders_job_new, ("orders", "old"): orders_job_old, ("orders", "floor"): orders_job_floor,
        ("rolling", "new"): rolling_job_new, ("rolling", "old"): rolling_job_old}
