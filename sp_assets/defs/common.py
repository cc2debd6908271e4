"""The per-marketplace wiring every domain's assets share: how an asset is declared and what it reaches.

* **Declared:** keys ``[marketplace_code, name]`` (``["us", "orders"]``), one group per marketplace
  (``amazon_us``), pools ``sp_api__<account>__<api family>`` (Amazon keeps one token bucket per seller
  account and operation, so one pool per account and family lets different accounts and families run
  side by side while parallel runs of one never fight over its quota), the refresh tag the
  schedule selects by, the retry policy: all from ``asset_kwargs`` (``@dg.asset``), or its two halves
  ``asset_spec_kwargs`` / ``multi_asset_kwargs`` for a multi-asset. The refresh kind decides the
  partitioning: ``rolling`` assets are daily-partitioned; ``unpartitioned`` and ``snapshot`` assets
  get no partitions and no backfill policy.
* **Point-in-time (``snapshot``):** Amazon's inventory, prices and catalog (and the snapshot report
  types) have no history, so only today's state can be read. Such an asset is unpartitioned (a
  daily partition of it could never be filled for a past day, and the UI would list every such day
  as missing); its table keeps one snapshot per local day (``snapshot_date``, ``partition_date``
  for reports), each run replacing today's rows. ``require_today`` gives the step its day (the
  optional run config ``snapshot_date``, which must be today) and refuses any other.
* **Reached at run time:** the marketplace's SP-API client (``sp_client``, through its resource,
  whose key only ``resources.resource_key`` spells) and the warehouse (``warehouse_of``).
* **Reported:** ``run_metadata``, the metadata every materialization carries, ``source`` included.

The definitions themselves are assembled once per load, for every marketplace, in
``marketplace_factory.py``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl

from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.partitions import daily_partitions, pin_snapshot_day, pinned_snapshot_day
from sp_assets.defs.resources import SpApiResource, data_source, resource_key
from sp_assets.lib.naming import qualified_name
from sp_assets.lib.spapi.errors import AccessDeniedError, AuthError, ConfigError, InvalidInputError
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.spapi.stats import CallStats
from sp_assets.lib.tablespec import TableSpec
from sp_assets.lib.warehouse import Warehouse, WarehousePathError

REFRESH_TAG = "sp_assets/refresh"
ROLLING = "rolling"  # history that changes late: the schedule re-pulls the last N days
SNAPSHOT = "snapshot"  # point-in-time data, unpartitioned: each run replaces today's snapshot, history kept
SNAPSHOT_DATE = "snapshot_date"  # the run config field of a snapshot asset (and its metadata entry)
UNPARTITIONED = "unpartitioned"  # current-state tables without partitions, replaced on each run
MONTHLY = "monthly"  # monthly-partitioned reports: their own monthly schedule (not the daily jobs)
# The step retry policy of every SP-API asset. It is for failures a later attempt can get past (HTTP
# 5xx and connection failures after the client's own retries, a warehouse lock held too long); every
# asset body is wrapped in ``fail_fast`` so that errors no retry can fix fail the step at once.
RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
FAIL_FAST_MARKER = "_sp_assets_fail_fast"
# The write modes as the README's table names them: the ``write_mode`` every materialization reports.
PARTITION_REPLACE = "partition replace"
MERGE_BY_KEY = "merge"
TABLE_REPLACE = "table replace"
APPEND_BY_REPORT_ID = "append by report id"
_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def futile_retry_failure(entry: MarketplaceConfig, error: BaseException) -> dg.Failure | None:
    """The non-retried ``dg.Failure`` for an error the same attempt would meet again; None for the others.

    Deterministic: Amazon's 401/403 after the client's token refresh (the app lacks the role, or the
    seller did not authorize this marketplace), a 400, an LWA refusal with an OAuth error code
    (``invalid_client``, ``invalid_grant``: wrong or revoked credentials), a configuration error and
    an unusable warehouse path. Everything else (5xx, connection errors, 429 after all waits, a
    warehouse lock timeout, an unexpected answer) is left to ``RETRY``.
    """
    where = f"marketplace {entry.code} ({entry.marketplace_id}, account {entry.account})"
    if isinstance(error, AccessDeniedError):
        return dg.Failure(description=(
            f"{where}: Amazon denied access (HTTP {error.status}): {error}. Not retried: a retry gets the same "
            "answer. Check that the seller authorized the app for this marketplace and that the app has the "
            f"role {error.operation} needs."), allow_retries=False)
    if isinstance(error, InvalidInputError):
        return dg.Failure(description=f"{where}: Amazon rejected the request (HTTP 400): {error}. Not retried: "
                                      "the same request would be rejected again.", allow_retries=False)
    if isinstance(error, AuthError) and error.status in (400, 401) and error.error:
        return dg.Failure(description=f"{where}: {error}. Not retried: the credentials were refused.",
                          allow_retries=False)
    if isinstance(error, ConfigError | WarehousePathError):
        return dg.Failure(description=f"{where}: {error}. Not retried: fix the configuration.", allow_retries=False)
    return None


# Run retries (``run_retries`` in dagster.yaml) re-launch a failed run once. Dagster decides when the
# run fails, from the run's tags: this one set to "false" means "a step failure does not start a retry
# run". A step sets it on its run when it fails deterministically; NOT_RETRIED_TAG says which asset.
RUN_RETRY_ON_STEP_FAILURE_TAG = "dagster/retry_on_asset_or_op_failure"
NOT_RETRIED_TAG = "sp_assets/not_retried"


def is_deterministic(error: BaseException) -> bool:
    """A failure the same run would meet again: a ``dg.Failure`` raised with ``allow_retries=False``
    (``futile_retry_failure``'s, a refused day, a FATAL report, an unloadable document, a failed
    blocking check, ``on_invalid_sku: warn``)."""
    return isinstance(error, dg.Failure) and error.allow_retries is False


class ClearFailure(dg.Failure):
    """A deterministic failure whose message starts with its sentence wherever Dagster shows it.

    Dagster prints a step's error as Python does, ``<module>.<class>: <text>``: for a plain ``dg.Failure``
    the user first reads ``dagster._core.definitions.events.Failure:``. Python leaves the module out for
    builtins, so this class presents itself as ``sp_assets``: the UI's error panel, the run log and
    ``dg launch`` read ``sp_assets: <the sentence>``, like the command line's configuration errors.
    """


ClearFailure.__module__ = "builtins"
ClearFailure.__qualname__ = "sp_assets"


def clear_failure(failure: dg.Failure) -> ClearFailure:
    """``failure`` as a ``ClearFailure`` (same description, metadata and retry rule)."""
    if isinstance(failure, ClearFailure):
        return failure
    return ClearFailure(description=failure.description, metadata=failure.metadata,
                        allow_retries=failure.allow_retries)


def refuse_run_retry(context: Any, failure: dg.Failure) -> None:
    """Tag the step's run so that its failure does not start a retry run (run retries still apply to
    every other failure: a crash, a 5xx that outlasted the step retries, a lock held too long)."""
    if not isinstance(context, dg.AssetExecutionContext | dg.OpExecutionContext):
        return
    key = ",".join(sorted(k.to_user_string() for k in context.selected_asset_keys))[:200] or context.op.name
    context.instance.add_run_tags(context.run_id, {RUN_RETRY_ON_STEP_FAILURE_TAG: "false", NOT_RETRIED_TAG: key})
    context.log.info(f"{key}: not retried as a new run: {failure.description}")


def _context_of(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    return kwargs.get("context", args[0] if args else None)


def fail_fast(entry: MarketplaceConfig) -> Callable[[_Fn], _Fn]:
    """Decorate an asset body (under ``@dg.asset``/``@dg.multi_asset``): errors ``futile_retry_failure``
    knows become a non-retried ``dg.Failure``, everything else propagates to ``RETRY`` unchanged.
    Every non-retried failure (those and the body's own ``allow_retries=False``) also keeps its run
    from being retried as a new run (``refuse_run_retry``).

    Dagster reads the body's signature and whether it is a generator, so both are kept.
    """
    def deterministic(error: Exception, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dg.Failure | None:
        failure = error if isinstance(error, dg.Failure) and is_deterministic(error) else futile_retry_failure(
            entry, error)
        if failure is not None:
            refuse_run_retry(_context_of(args, kwargs), failure)
        return failure

    def decorate(fn: _Fn) -> _Fn:
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generator_body(*args: Any, **kwargs: Any) -> Any:
                try:
                    yield from fn(*args, **kwargs)
                except Exception as error:
                    failure = deterministic(error, args, kwargs)
                    if failure is None:
                        raise
                    raise clear_failure(failure).with_traceback(error.__traceback__) from None

            body: Any = generator_body
        else:
            @functools.wraps(fn)
            def plain_body(*args: Any, **kwargs: Any) -> Any:
                try:
                    return fn(*args, **kwargs)
                except Exception as error:
                    failure = deterministic(error, args, kwargs)
                    if failure is None:
                        raise
                    raise clear_failure(failure).with_traceback(error.__traceback__) from None

            body = plain_body
        setattr(body, FAIL_FAST_MARKER, True)
        return body

    return decorate


def group_name(entry: MarketplaceConfig) -> str:
    return f"amazon_{entry.code}"


def pool_name(entry: MarketplaceConfig, family: str) -> str:
    return f"sp_api__{entry.account}__{family}"


def asset_key(entry: MarketplaceConfig, name: str) -> dg.AssetKey:
    return dg.AssetKey([entry.code, name])


def sql_table(entry: MarketplaceConfig, name: str) -> str:
    """``"us"."orders"``: a marketplace's table as SQL names it, quoted because codes such as ``in``
    (India) are SQL keywords."""
    return qualified_name(entry.code, name)


DOMAIN_TAG = "sp_assets/domain"  # the UI filters the catalog by it: orders, inventory, pricing, ...
# API families whose domain has another name (a family not listed is its own domain).
FAMILY_DOMAINS = {"inbound": "shipments", "outbound": "shipments"}
# Part of every asset's code version: bump it when what an asset writes changes other than by its columns
# (the column schema is hashed in), so Dagster marks the asset's materializations as from older code.
CODE_VERSION = "1"
KINDS = frozenset({"amazon", "duckdb", "python"})  # what the asset talks to, shown as icons in the UI
LOCAL_KINDS = frozenset({"duckdb", "python"})  # assets built from DuckDB alone (needs_api=False)


def describe(holds: str, replaces: str | None, details: str = "") -> str:
    """An asset description that reads well in the UI: the first line, which the catalog list shows
    alone, says in plain words (no Markdown) what the table holds; then which Domo report it replaces
    (``replaces=None``: none, the asset is new) and the details (API, options, write mode), where
    Markdown is fine."""
    if any(mark in holds for mark in ("*", "`", "_", "\n", "#", "[")):
        raise ValueError(f"the first line of a description must be plain text: {holds!r}")
    noun = "" if replaces is None or replaces.lower().endswith("report") else " report"
    replaced = f"Replaces Domo's **{replaces}**{noun}." if replaces else "New: no Domo equivalent."
    rest = " ".join(part for part in (replaced, details) if part)
    return f"{holds}\n\n{rest}"


@functools.cache
def column_schema(spec: TableSpec) -> dg.TableSchema:
    """A table spec's columns as Dagster's column schema: names, DuckDB types, descriptions, nullability;
    the primary key as a table constraint.

    Cached: every marketplace's table of one spec has the same columns, and the schema (an immutable
    record) was built again for each of them (3,456 times at 50 accounts x 3 marketplaces)."""
    columns = [dg.TableColumn(column.name, column.type, description=column.description or None,
                              constraints=dg.TableColumnConstraints(nullable=column.nullable))
               for column in spec.columns]
    constraints = (dg.TableConstraints(other=[f"primary key ({', '.join(spec.primary_key)})"])
                   if spec.primary_key else None)
    return dg.TableSchema(columns=columns, constraints=constraints)


def code_version(schema: dg.TableSchema | None) -> str:
    """``CODE_VERSION`` and a digest of the column schema: a new or retyped column is a new code version."""
    if schema is None:
        return CODE_VERSION
    text = ";".join(f"{c.name}:{c.type}" for c in schema.columns)
    return f"{CODE_VERSION}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def definition_metadata(entry: MarketplaceConfig, name: str, schema: dg.TableSchema | None) -> dict[str, Any]:
    """What the asset's definition says about its table: ``dagster/table_name`` (DuckDB's ``schema.table``)
    and, where the columns are known, ``dagster/column_schema``."""
    metadata: dict[str, Any] = {"dagster/table_name": f"{entry.code}.{name}"}
    if schema is not None:
        metadata["dagster/column_schema"] = schema
    return metadata


def asset_spec_kwargs(entry: MarketplaceConfig, name: str, refresh: str, description: str, *,
                      table: TableSpec | None = None, schema: dg.TableSchema | None = None,
                      domain: str | None = None, needs_api: bool = True) -> dict[str, Any]:
    """What an asset *is* (``dg.AssetSpec`` / ``@dg.asset`` keywords): key, group, kinds, owners, refresh and
    domain tags, description, and the definition metadata the UI shows (table name, column schema from
    ``table``, or ``schema`` where the columns come from elsewhere) with a code version derived from it."""
    schema = schema if schema is not None else column_schema(table) if table is not None else None
    tags = {REFRESH_TAG: refresh}
    if domain:
        tags[DOMAIN_TAG] = domain
    return dict(
        key=asset_key(entry, name),
        group_name=group_name(entry),
        kinds=set(KINDS if needs_api else LOCAL_KINDS),
        tags=tags,
        description=description,
        metadata=definition_metadata(entry, name, schema),
        owners=list(entry.owners),
        code_version=code_version(schema),
    )


def multi_asset_kwargs(entry: MarketplaceConfig, family: str, refresh: str, *, needs_api: bool = True,
                       max_partitions_per_run: int = 7) -> dict[str, Any]:
    """How an asset *runs* (``@dg.multi_asset`` / ``@dg.asset`` keywords): partitions, backfill policy,
    pool, retries, resources.

    Partitioned daily when ``refresh`` is ``rolling`` (or ``monthly``, whose caller swaps in monthly
    partitions); ``unpartitioned`` and ``snapshot`` assets have no partitions, and a snapshot asset
    takes the optional run config ``snapshot_date`` (``require_today``). An asset that only reads
    DuckDB (``needs_api=False``) does not require the marketplace's SP-API resource.
    """
    kwargs: dict[str, Any] = dict(
        pool=pool_name(entry, family),
        retry_policy=RETRY,
        required_resource_keys={resource_key(entry.code), "warehouse"} if needs_api else {"warehouse"},
    )
    if refresh == SNAPSHOT:
        kwargs["config_schema"] = snapshot_config_schema(entry)
    elif refresh != UNPARTITIONED:
        kwargs["partitions_def"] = daily_partitions(entry)
        kwargs["backfill_policy"] = dg.BackfillPolicy.multi_run(max_partitions_per_run=max_partitions_per_run)
    return kwargs


def asset_kwargs(entry: MarketplaceConfig, name: str, family: str, refresh: str, description: str, *,
                 needs_api: bool = True, max_partitions_per_run: int = 7, table: TableSpec | None = None,
                 schema: dg.TableSchema | None = None, domain: str | None = None) -> dict[str, Any]:
    """Every keyword of ``@dg.asset`` for one SP-API asset of a marketplace, partitioned or not; its
    domain tag is ``domain`` or the API family's (``FAMILY_DOMAINS``)."""
    return {**asset_spec_kwargs(entry, name, refresh, description, table=table, schema=schema,
                                domain=domain or FAMILY_DOMAINS.get(family, family), needs_api=needs_api),
            **multi_asset_kwargs(entry, family, refresh, needs_api=needs_api,
                                 max_partitions_per_run=max_partitions_per_run)}


# ----------------------------------------------------------------------------------- run-time access
def marketplace_resource(context: dg.AssetExecutionContext, entry: MarketplaceConfig) -> SpApiResource:
    """The marketplace's SP-API resource, typed; a missing or foreign binding is named."""
    key = resource_key(entry.code)
    resource = getattr(context.resources, key, None)
    if not isinstance(resource, SpApiResource):
        raise TypeError(f"resource {key!r} must be an SpApiResource (resources.sp_api_resource), got {resource!r}")
    return resource


def sp_client(context: dg.AssetExecutionContext, entry: MarketplaceConfig) -> SPAPIClient:
    """The marketplace's SP-API client (one per process and step, from its resource).

    Called before anything is read or written: without credentials and without ``SP_ASSETS_SANDBOX=1``
    it fails the run here, naming the variables it tried.
    """
    client = marketplace_resource(context, entry).client()
    client.progress = context.log.info  # pages so far, long quota waits, report polls: into the run's log
    return client


def warehouse_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> Warehouse:
    """The run's warehouse; its loads are marked ``amazon`` or ``sandbox`` in the ledger."""
    return context.resources.warehouse.warehouse()


def api_since(client: SPAPIClient, before: CallStats) -> dict[str, dict[str, Any]]:
    """The calls this run made on a client that may be shared, per API family (``run_metadata``
    leaves out the client's ``total`` and the families this run did not call)."""
    return client.stats.since(before).as_dict()


def local_dates(entry: MarketplaceConfig, start: datetime, end: datetime) -> tuple[date, date]:
    """The [first, end) local days of a UTC window (the partition keys it covers)."""
    zone = ZoneInfo(entry.timezone)
    return start.astimezone(zone).date(), end.astimezone(zone).date()


def system_clock() -> datetime:
    return datetime.now(UTC)


# What "now" is for point-in-time assets (their snapshot day, snapshot_time, a snapshot report's age):
# one clock, so a test can move it together with the sandbox seller's (``monkeypatch.setattr``).
clock: Callable[[], datetime] = system_clock


def now_utc() -> datetime:
    """Now (UTC) by ``clock``: the moment "today" and a snapshot's time are taken from."""
    return clock()


def today_local(entry: MarketplaceConfig) -> date:
    """Today in the marketplace's time zone: the only day a point-in-time asset can snapshot."""
    return now_utc().astimezone(ZoneInfo(entry.timezone)).date()


def snapshot_config_schema(entry: MarketplaceConfig) -> dict[str, dg.Field]:
    """The run config of a snapshot asset: ``snapshot_date`` (optional, ``YYYY-MM-DD``; must be today)."""
    return {SNAPSHOT_DATE: dg.Field(
        str, is_required=False,
        description=f"The local day ({entry.timezone}) to snapshot, YYYY-MM-DD. Amazon only serves the current "
                    "state, so it must be today (the default); any other day is refused and nothing is written.")}


def require_today(context: dg.AssetExecutionContext, entry: MarketplaceConfig, history_asset: str) -> date:
    """The snapshot day of a point-in-time asset's step: today (local), or a clear refusal.

    Point-in-time APIs have no history: a ``snapshot_date`` in the run config other than today is
    refused (nothing is fetched or written) rather than writing today's data under another date.
    The day is pinned to the step, so ``utc_window``, the staged fetch and the write's metadata all
    use the same day even when the run crosses midnight.
    """
    pinned = pinned_snapshot_day(context)
    if pinned is not None:
        return pinned
    today = today_local(entry)
    config = context.op_execution_context.op_config
    asked = config.get(SNAPSHOT_DATE) if isinstance(config, Mapping) else None
    if asked is not None and asked != today.isoformat():
        what = context.asset_key.to_user_string()
        try:
            date.fromisoformat(asked)
        except ValueError:
            raise dg.Failure(description=(
                f"{what}: run config {SNAPSHOT_DATE} {asked!r} is not a date; allowed: today's date "
                f"{today.isoformat()} ({entry.timezone}) as YYYY-MM-DD, or no {SNAPSHOT_DATE} at all. "
                "Nothing was written."), allow_retries=False) from None
        raise dg.Failure(
            description=(
                f"{what} reads a point-in-time API that has no history, so only today's snapshot ({today.isoformat()}, "
                f"{entry.timezone}) can be taken; refused {SNAPSHOT_DATE} {asked} from the run config, nothing was "
                f"written. For history use {history_asset}."
            ),
            allow_retries=False,  # refusing is deterministic: the retry policy must not re-run it
        )
    pin_snapshot_day(context, entry.timezone, today)
    return today


def snapshot_metadata(context: dg.AssetExecutionContext) -> dict[str, Any]:
    """``snapshot_date`` for the materialization of a step that took a snapshot (none otherwise)."""
    day = pinned_snapshot_day(context)
    return {} if day is None else {SNAPSHOT_DATE: day.isoformat()}


def _cell(value: Any) -> str | int | float | bool | None:
    """A preview cell as Dagster's table records take it: exact numbers and dates as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def preview(frame: pl.DataFrame, rows: int = 5, columns: int = 8) -> dg.MetadataValue:
    """The first rows of what was written as a table (``MetadataValue.table`` with its schema), so the
    UI shows columns, not Markdown. Never buyer details: PII columns are null by default."""
    head = frame.select(frame.columns[:columns]).head(rows)
    schema = dg.TableSchema(columns=[dg.TableColumn(name, str(dtype)) for name, dtype in head.schema.items()])
    records = [dg.TableRecord({name: _cell(value) for name, value in row.items()}) for row in head.iter_rows(named=True)]
    return dg.MetadataValue.table(records=records, schema=schema)


def timestamp(value: datetime) -> dg.MetadataValue:
    """A point in time as Dagster's timestamp type: the UI shows it in the viewer's zone."""
    return dg.MetadataValue.timestamp(value)


def run_metadata(*, rows: int, start: datetime, end: datetime, api: Mapping[str, Any],
                 frame: pl.DataFrame | None = None, **extra: Any) -> dict[str, Any]:
    """The metadata every SP-API asset reports: rows, window, calls, 429s, retries, wait, preview, and
    ``source`` (``sandbox`` or ``amazon``: whether the rows are synthetic)."""
    totals = {"calls": 0, "retries": 0, "throttled_429": 0, "quota_wait_seconds": 0.0}
    # "total" is the client's own sum of the families: counting it too would double every figure.
    families = {name: family for name, family in api.items() if name != "total" and any(family.values())}
    for family in families.values():
        totals["calls"] += int(family.get("calls", 0))
        totals["retries"] += int(family.get("retries", 0))
        totals["throttled_429"] += int(family.get("throttled", 0))
        totals["quota_wait_seconds"] += float(family.get("quota_wait_seconds", 0.0))
    metadata: dict[str, Any] = {
        "dagster/row_count": rows,
        "window_start_utc": timestamp(start),
        "window_end_utc": timestamp(end),
        "api_calls": totals["calls"],
        "api_retries": totals["retries"],
        "api_429s": totals["throttled_429"],
        "api_quota_wait_seconds": round(totals["quota_wait_seconds"], 3),
        "api_by_family": dg.MetadataValue.json({k: dict(v) for k, v in families.items()}),
        "source": data_source(),
    }
    if frame is not None:
        metadata["preview"] = preview(frame)
    metadata.update(extra)
    return metadata


# ----------------------------------------------------------------------------------- per partition
def run_partition_keys(context: dg.AssetExecutionContext) -> list[str]:
    """The partition keys of the run (one, a backfill chunk, or none for an unpartitioned asset)."""
    if context.assets_def.partitions_def is None:
        return []
    return list(context.partition_keys)


def rows_by_partition(frame: pl.DataFrame, column: str | None) -> dict[date, int] | None:
    """How many of ``frame``'s rows each partition day holds (what DuckDB holds for it after a partition
    replace); None when the frame has no partition column (a merge by key is not a per-day write)."""
    if column is None or column not in frame.columns:
        return None
    if frame.height == 0:
        return {}
    return {day: int(count) for day, count in frame.group_by(column).len().iter_rows()}


def _day_of(key: str) -> date:
    return date.fromisoformat(key[:10])


def per_partition(context: dg.AssetExecutionContext, key: dg.AssetKey, metadata: Mapping[str, Any], *,
                  rows: Mapping[date, int] | None, frame: pl.DataFrame | None = None,
                  partition_column: str | None = None,
                  writes: Mapping[date, Mapping[str, Any]] | None = None,
                  extra: Mapping[date, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Give every partition of a multi-partition run its own row count, window, preview and write
    counts, and return the run-level metadata to put on the ``MaterializeResult``.

    Dagster records one materialization per partition of a ranged run (a backfill chunk), each with
    the output's metadata; ``context.add_asset_metadata(..., partition_key=k)`` overrides keys for
    partition ``k`` alone. ``rows`` holds the rows each day holds after the write (the frame grouped
    by its partition column, or the per-day load counts of a report); ``writes`` the per-day write
    counts where the write is per day (reports), else they are derived from ``rows``; ``extra`` more
    keys per day (a report's id and status). The run's
    totals go to the run's log, and each partition names the run's range (``run_partitions``) so the
    run-wide API figures read as what they are. A write that is not per day (a merge by key over a
    multi-day window) has no per-partition row count: the run's total is kept as ``run_rows`` and no
    partition claims it. A one-partition run is returned unchanged.
    """
    keys = run_partition_keys(context)
    if len(keys) < 2:
        write = metadata.get("write")
        written = json.dumps(write.value, default=str) if isinstance(write, dg.JsonMetadataValue) else "n/a"
        context.log.info(f"{key.to_user_string()}: wrote {metadata.get('dagster/row_count')} rows "
                         f"({metadata.get('write_mode', 'write')}{f', {keys[0]}' if keys else ''}); write: {written}")
        return dict(metadata)
    partitions_def = context.assets_def.partitions_def
    assert partitions_def is not None
    total = metadata.get("dagster/row_count")
    span = f"{keys[0]}...{keys[-1]} ({len(keys)} partitions)"
    run_level = {**metadata, "run_partitions": span}
    run_write = metadata.get("write")
    base_write = dict(run_write.value) if isinstance(run_write, dg.JsonMetadataValue) and isinstance(
        run_write.value, dict) else None
    if rows is None:
        run_level.pop("dagster/row_count", None)
        run_level.pop("preview", None)
        run_level["run_rows"] = total
    per_day: list[str] = []
    for partition_key in keys:
        window = partitions_def.time_window_for_partition_key(partition_key)
        scoped: dict[str, Any] = {"window_start_utc": timestamp(window.start.astimezone(ZoneInfo("UTC"))),
                                  "window_end_utc": timestamp(window.end.astimezone(ZoneInfo("UTC")))}
        if rows is not None:
            day = _day_of(partition_key)
            count = int(rows.get(day, 0))
            per_day.append(f"{partition_key} {count}")
            scoped["dagster/row_count"] = count
            if frame is not None and partition_column is not None and partition_column in frame.columns:
                scoped["preview"] = preview(frame.filter(pl.col(partition_column) == day))
            if writes is not None and day in writes:
                scoped["write"] = dg.MetadataValue.json(dict(writes[day]))
            elif base_write is not None:
                scoped["write"] = dg.MetadataValue.json(day_write(base_write, count, window.start, window.end))
            scoped.update((extra or {}).get(day, {}))
        context.add_asset_metadata(scoped, asset_key=key, partition_key=partition_key)
    what = ", ".join(per_day) if rows is not None else "not per day (a merge by key)"
    summary = f"; the run's write: {json.dumps(base_write, default=str)}" if base_write is not None else ""
    context.log.info(f"{key.to_user_string()}: the run wrote {total} rows for {span}; per partition: {what}{summary}")
    return run_level


def combined_write(writes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Several writes of one run (a report per day, a settlement per report) as one summary with the
    keys of a single write (``WriteResult.as_metadata``): counts and timings summed, the partitions
    spanned, the added columns merged. So ``write`` reads the same on every asset."""
    if len(writes) == 1:
        return dict(writes[0])
    summary: dict[str, Any] = {"writes": len(writes)}
    for write in writes:
        for name, value in write.items():
            if isinstance(value, bool):
                summary[name] = summary.get(name, False) or value
            elif isinstance(value, int | float):
                summary[name] = round(summary.get(name, 0) + value, 3)
            elif name == "added_columns":
                summary[name] = sorted({*summary.get(name, []), *value})
            elif name == "partition_start":
                summary[name] = min(summary.get(name, value), value)
            elif name == "partition_end":
                summary[name] = max(summary.get(name, value), value)
            elif name in ("table", "operation"):
                summary.setdefault(name, value)
    return summary


def day_write(run_write: Mapping[str, Any], rows: int, start: datetime, end: datetime) -> dict[str, Any]:
    """One day's share of a partition replace over several days: the rows it now holds, all inserted.
    The run's deletions and timings are the transaction's, not a day's, so they stay in the run's log."""
    keep = ("table", "operation", "created_table", "added_columns")
    return {**{k: run_write[k] for k in keep if k in run_write}, "rows": rows, "inserted": rows,
            "partition_start": start.date().isoformat(), "partition_end": end.date().isoformat()}
