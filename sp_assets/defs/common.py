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
import inspect
from collections.abc import Callable, Mapping
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


def fail_fast(entry: MarketplaceConfig) -> Callable[[_Fn], _Fn]:
    """Decorate an asset body (under ``@dg.asset``/``@dg.multi_asset``): errors ``futile_retry_failure``
    knows become a non-retried ``dg.Failure``, everything else propagates to ``RETRY`` unchanged.

    Dagster reads the body's signature and whether it is a generator, so both are kept.
    """
    def decorate(fn: _Fn) -> _Fn:
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generator_body(*args: Any, **kwargs: Any) -> Any:
                try:
                    yield from fn(*args, **kwargs)
                except Exception as error:
                    failure = futile_retry_failure(entry, error)
                    if failure is None:
                        raise
                    raise failure from None

            body: Any = generator_body
        else:
            @functools.wraps(fn)
            def plain_body(*args: Any, **kwargs: Any) -> Any:
                try:
                    return fn(*args, **kwargs)
                except Exception as error:
                    failure = futile_retry_failure(entry, error)
                    if failure is None:
                        raise
                    raise failure from None

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


def asset_spec_kwargs(entry: MarketplaceConfig, name: str, refresh: str, description: str) -> dict[str, Any]:
    """What an asset *is* (``dg.AssetSpec`` / ``@dg.asset`` keywords): key, group, kinds, refresh tag, description."""
    return dict(
        key=asset_key(entry, name),
        group_name=group_name(entry),
        kinds={"duckdb", "python"},
        tags={REFRESH_TAG: refresh},
        description=description,
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
                 needs_api: bool = True, max_partitions_per_run: int = 7) -> dict[str, Any]:
    """Every keyword of ``@dg.asset`` for one SP-API asset of a marketplace, partitioned or not."""
    return {**asset_spec_kwargs(entry, name, refresh, description),
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
    return marketplace_resource(context, entry).client()


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


def preview(frame: pl.DataFrame, rows: int = 5, columns: int = 8) -> dg.MetadataValue:
    """A small markdown preview of what was written (never buyer details: PII columns are null by default)."""
    if frame.height == 0:
        return dg.MetadataValue.md("_no rows_")
    head = frame.select(frame.columns[:columns]).head(rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join("" if v is None else str(v).replace("|", "/") for v in row) + " |")
    return dg.MetadataValue.md("\n".join(lines))


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
        "window_start_utc": start.isoformat(),
        "window_end_utc": end.isoformat(),
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
