"""What the REST-API assets (inventory, pricing, catalog, shipments, sellers) share.

* the snapshot day of a point-in-time asset (an unpartitioned asset: today only, via ``require_today``);
* the seed's SKU options: ``sku_selection`` (**all**: the active SKUs of today's merchant listings
  report, read from DuckDB; **advanced**: the configured ``skus``) and ``on_invalid_sku``
  (**skip**: write the valid SKUs and flag the invalid ones with a WARN asset check; **warn**: fail
  the run listing them, writing nothing);
* the single write at the end of a run and its metadata (``run_metadata`` + ``WriteResult``);
* ``FetchStage``: what a step fetched, kept on disk until its write succeeds, so a step retry after a
  failed write (the DuckDB file locked, ``WarehouseBusyError``/``WarehouseLockTimeout``) writes the
  same data without asking Amazon again (``lib/staging.py``).
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import dagster as dg
import polars as pl

from sp_assets.defs import common
from sp_assets.defs.checks import ChecksByTable, materialized_then_checked, specs_of
from sp_assets.defs.common import (
    MERGE_BY_KEY,
    PARTITION_REPLACE,
    RETRY,
    SNAPSHOT,
    TABLE_REPLACE,
    api_since,
    asset_key,
    asset_kwargs,
    fail_fast,
    local_dates,
    now_utc,
    per_partition,
    require_today,
    rows_by_partition,
    run_metadata,
    snapshot_metadata,
    sp_client,
    sql_table,
    warehouse_of,
)
from sp_assets.defs.config import ConfigError, MarketplaceConfig
from sp_assets.defs.partitions import pinned_snapshot_day, utc_window
from sp_assets.defs.paths import staging_dir
from sp_assets.lib import staging
from sp_assets.lib.reports.catalog import PARTITION_COLUMN
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tablespec import TableSpec, frame_from_records
from sp_assets.lib.warehouse.lock import busy_timeout_s

REPLACE_PARTITION = "replace_partition"
MERGE = "merge"
REPLACE_TABLE = "replace_table"
WRITE_MODE_WORDS = {REPLACE_PARTITION: PARTITION_REPLACE, MERGE: MERGE_BY_KEY, REPLACE_TABLE: TABLE_REPLACE}


# ------------------------------------------------------------------------------------------ time
def utc_now() -> datetime:
    """Whole seconds: the moment a fetch started, stored as ``snapshot_time`` / ``fetched_at``."""
    return now_utc().replace(microsecond=0)


def snapshot_day(context: dg.AssetExecutionContext, entry: MarketplaceConfig, history: str) -> date:
    """The day a point-in-time (``SNAPSHOT``, unpartitioned) asset snapshots: today, local; a run config
    ``snapshot_date`` of any other day gets a clear refusal naming ``history`` (the asset that has
    history), and nothing is fetched or written. Call it first: it pins the day that ``utc_window``,
    the staged fetch and ``write_frame``'s ``snapshot_date`` metadata then use."""
    return require_today(context, entry, history_asset=history)


def history_asset(entry: MarketplaceConfig, name: str) -> str:
    """``us/ledger_summary``: how a refusal names the report asset that carries history."""
    return asset_key(entry, name).to_user_string()


# ------------------------------------------------------------------------------------------ SKUs
# "All SKUs" is every listing the seller has active on the marketplace, FBA and merchant-fulfilled.
# The source is today's GET_MERCHANT_LISTINGS_ALL_DATA report (a default report, table
# merchant_listings): it lists every listing with its status. getInventorySummaries cannot be it:
# it knows only FBA SKUs, and inventory_supply asks it only for those changed since local midnight.
SKU_SOURCE_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
ACTIVE_LISTING = "Active"  # the report's status column: Active or Inactive
# The asset a per-SKU snapshot's refusal of a past day names as the one with history: that report's table.
SKU_HISTORY_ASSET = "merchant_listings"


def sku_source_table(entry: MarketplaceConfig) -> str:
    """The table of the marketplace's GET_MERCHANT_LISTINGS_ALL_DATA report, which ``sku_selection: all``
    reads; a configuration that disabled that report while asking for all SKUs is refused at load."""
    table = next((r.table for r in entry.reports if r.report_type == SKU_SOURCE_REPORT), None)
    if table is None:
        raise ConfigError(
            f"{entry.path}.sku_selection: 'all' takes the active SKUs of today's {SKU_SOURCE_REPORT} "
            f"report, which {entry.path}.reports does not load; allowed: keep that report (the "
            f"default merchant_listings), or sku_selection: advanced with a list of skus")
    return table


def selected_skus(context: dg.AssetExecutionContext, entry: MarketplaceConfig, day: date) -> list[str]:
    """The SKUs a per-SKU asset asks about, per the marketplace's ``sku_selection``.

    **all** reads the active SKUs (FBA and merchant-fulfilled) of ``day``'s merchant listings report
    (see ``SKU_SOURCE_REPORT``). A day that was never loaded is an error: pricing every SKU means
    knowing them all, and an older listing would silently miss new ones. **advanced** is the
    configured list, in order.
    """
    if entry.sku_selection == "advanced":
        return list(entry.skus)
    table = sku_source_table(entry)
    warehouse = warehouse_of(context)
    loads = warehouse.loads(entry.code, table)
    if loads.filter(pl.col("partition_start") == day.isoformat()).height == 0:
        raise dg.Failure(
            description=(
                f"{entry.path}.sku_selection is 'all', which takes the active SKUs of today's "
                f"listings report, but {history_asset(entry, table)} has not been materialized for "
                f"{day.isoformat()}: materialize it first (the snapshot job does both, in that order), or set "
                f"sku_selection: advanced with a list of skus."
            ),
            allow_retries=False,
        )
    if not {"seller_sku", "status"} <= set(warehouse.columns(entry.code, table)):
        return []  # the day was loaded empty (CANCELLED: Amazon's "no listings"), before any listing ever was
    frame = warehouse.query(
        f"select distinct seller_sku from {sql_table(entry, table)} where {PARTITION_COLUMN} = ? and status = ? "
        f"and seller_sku is not null order by seller_sku", [day, ACTIVE_LISTING])
    return frame.get_column("seller_sku").to_list()


def sku_asset_deps(entry: MarketplaceConfig) -> list[dg.AssetKey]:
    """With ``sku_selection: all`` a per-SKU asset reads today's listings report, so it depends on it
    (the lineage shows it, and a run of both materializes the report first)."""
    return [asset_key(entry, sku_source_table(entry))] if entry.sku_selection == "all" else []


def enforce_invalid_sku_policy(entry: MarketplaceConfig, asset_name: str, invalid: Mapping[str, str]) -> None:
    """``on_invalid_sku: warn`` fails the run (nothing is written) when any SKU is invalid."""
    if invalid and entry.on_invalid_sku == "warn":
        listed = ", ".join(repr(sku) for sku in sorted(invalid))
        raise dg.Failure(
            description=(
                f"{history_asset(entry, asset_name)}: Amazon rejected {len(invalid)} SKU(s) as invalid: {listed}. "
                f"Nothing was written because {entry.path}.on_invalid_sku is 'warn'; fix the SKUs "
                f"or set on_invalid_sku: skip to write the valid ones."
            ),
            metadata={"invalid_skus": dg.MetadataValue.json(dict(sorted(invalid.items())))},
            allow_retries=False,
        )


def invalid_skus_check_name(asset_name: str) -> str:
    return f"{asset_name}_valid_skus"


def invalid_skus_check_spec(entry: MarketplaceConfig, asset_name: str) -> dg.AssetCheckSpec:
    """A WARN check the asset itself reports: with ``on_invalid_sku: skip`` it flags skipped SKUs."""
    return dg.AssetCheckSpec(
        name=invalid_skus_check_name(asset_name), asset=asset_key(entry, asset_name),
        description="Every requested SKU was valid for Amazon. Fails with WARN severity, listing the SKUs, "
                    "when on_invalid_sku: skip left some out.",
    )


def invalid_skus_check_result(entry: MarketplaceConfig, asset_name: str, requested: int,
                              invalid: Mapping[str, str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset_key(entry, asset_name), check_name=invalid_skus_check_name(asset_name),
        passed=not invalid, severity=dg.AssetCheckSeverity.WARN,
        metadata={"requested_skus": requested, "invalid_sku_count": len(invalid),
                  "invalid_skus": dg.MetadataValue.json(dict(sorted(invalid.items())))},
    )


def sku_metadata(entry: MarketplaceConfig, requested: Sequence[str], invalid: Mapping[str, str]) -> dict[str, Any]:
    """What a per-SKU asset reports about its SKUs (the invalid ones with Amazon's status)."""
    return {
        "sku_selection": entry.sku_selection,
        "on_invalid_sku": entry.on_invalid_sku,
        "requested_skus": len(requested),
        "invalid_sku_count": len(invalid),
        "invalid_skus": dg.MetadataValue.json(dict(sorted(invalid.items()))),
    }


# ------------------------------------------------------------------------------------------ write
def write_frame(context: dg.AssetExecutionContext, entry: MarketplaceConfig, spec: TableSpec,
                frame: pl.DataFrame, *, mode: str, window: tuple[datetime, datetime], api: Mapping[str, Any],
                days: tuple[date, date] | None = None, check_results: Sequence[dg.AssetCheckResult] = (),
                key: dg.AssetKey | None = None, **extra: Any) -> dg.MaterializeResult:
    """``mode`` is replace_partition (``days`` = [first, end) local days), merge or replace_table.

    In a run of several partitions each partition gets its own row count, window, preview and write
    counts (``per_partition``; ``key`` is the asset written, by default ``[<code>, <spec.name>]``)."""
    warehouse = warehouse_of(context)
    if mode == REPLACE_PARTITION:
        if days is None:
            raise ValueError("replace_partition needs days=(first, end)")
        result = warehouse.replace_partition(entry.code, spec, frame, days[0], days[1])
    elif mode == MERGE:
        result = warehouse.merge(entry.code, spec, frame)
    elif mode == REPLACE_TABLE:
        result = warehouse.replace_table(entry.code, spec, frame)
    else:
        raise ValueError(f"unknown write mode {mode!r}; allowed: {REPLACE_PARTITION}, {MERGE}, {REPLACE_TABLE}")
    metadata = run_metadata(rows=frame.height, start=window[0], end=window[1], api=api, frame=frame,
                            table=f"{entry.code}.{spec.name}", write_mode=WRITE_MODE_WORDS[mode],
                            write=dg.MetadataValue.json(result.as_metadata()), **snapshot_metadata(context),
                            **extra)
    column = spec.partition_column if mode == REPLACE_PARTITION else None
    metadata = per_partition(context, key or asset_key(entry, spec.name), metadata, rows=rows_by_partition(frame, column),
                             frame=frame, partition_column=column)
    return dg.MaterializeResult(metadata=metadata, check_results=list(check_results))


# ------------------------------------------------------------------------------------------ stage
def retry_backoff_s(policy: dg.RetryPolicy | None = RETRY) -> float:
    """The longest the step retry policy waits in all between attempts: Dagster's delay of each retry
    without jitter, plus one ``delay`` each (the most ``PLUS_MINUS`` jitter adds). No policy: none."""
    if policy is None:
        return 0.0
    base = float(policy.delay or 0)
    unjittered = dg.RetryPolicy(max_retries=policy.max_retries, delay=base, backoff=policy.backoff)
    return sum(float(unjittered.calculate_delay(attempt)) + base for attempt in range(1, policy.max_retries + 1))


def stage_max_age_s(context: dg.AssetExecutionContext) -> float:
    """How old a stage may be and still be reused: every attempt's longest write wait (the sp_assets
    lock, then DuckDB's busy timeout) plus the retry policy's backoff. Anything older belongs to a
    run the policy has given up on, and the data may have moved since."""
    resource = context.resources.warehouse
    policy = common.RETRY  # read at run time: a test (or a deployment) may run without step retries
    attempts = (policy.max_retries if policy is not None else 0) + 1
    per_write = float(resource.lock_timeout_seconds) + busy_timeout_s(resource.busy_timeout_seconds)
    return attempts * per_write + retry_backoff_s(policy)


def run_family(context: dg.AssetExecutionContext) -> str:
    """The run id a step retry keeps (the same run) and a run retry or re-execution shares (its root)."""
    return context.run.root_run_id or context.run_id


def config_fingerprint(entry: MarketplaceConfig) -> str:
    """A digest of the marketplace's whole configuration: a stage is never reused across configurations."""
    return hashlib.sha256(repr(entry).encode("utf-8")).hexdigest()[:16]


class FetchStage:
    """What one step fetched, kept under ``staging_dir()`` from the fetch until its write succeeds.

    Keyed by the run family, the marketplace's configuration, the asset keys fetched, the partition
    keys and the fetch parameters given; ``fetched`` returns the frames of the last attempt of the
    same key (if younger than ``stage_max_age_s``) or calls ``fetch`` and stages its frames before
    anything is written; ``written`` deletes the stage.
    """

    def __init__(self, context: dg.AssetExecutionContext, entry: MarketplaceConfig, names: Sequence[str],
                 **params: Any) -> None:
        self.root = staging_dir()
        self.max_age_s = stage_max_age_s(context)
        snapshot = pinned_snapshot_day(context)  # a point-in-time step: no partitions, its day instead
        self.key = {
            "run_family": run_family(context),
            "config": config_fingerprint(entry),
            "assets": [asset_key(entry, name).to_user_string() for name in names],
            "partitions": list(context.partition_keys) if snapshot is None and context.has_partition_key_range else [],
            "snapshot_date": "" if snapshot is None else snapshot.isoformat(),
            "params": params,
        }
        self.reused: staging.Staged | None = None

    def fetched(self, fetch: Callable[[], tuple[dict[str, pl.DataFrame], Mapping[str, Any]]]
                ) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
        """(frames by name, the API calls made now: none when the frames come from the stage)."""
        staging.discard_stale(self.root, self.max_age_s)
        self.reused = staging.load(self.root, self.key, self.max_age_s)
        if self.reused is not None:
            return self.reused.frames, {}
        frames, api = fetch()
        staging.save(self.root, self.key, frames, api)
        return frames, dict(api)

    def metadata(self) -> dict[str, Any]:
        """``fetch_reused_from_stage`` and, when reused, the age of the fetch the frames came from."""
        if self.reused is None:
            return {"fetch_reused_from_stage": False}
        return {"fetch_reused_from_stage": True, "fetch_stage_age_seconds": round(self.reused.age_s, 1)}

    def written(self) -> None:
        staging.discard(self.root, self.key)


# Frames a REST asset stages besides its table: what the fetch learned about the request itself (the
# SKUs Amazon refused, the SKUs without a category), as one JSON value, so a retry judges them again.
_SIDE = "_fetch_side"


def fetch_staged(context: dg.AssetExecutionContext, entry: MarketplaceConfig, spec: TableSpec, client: Any,
                 fetch: Callable[[], tuple[Iterable[Mapping[str, Any]], Mapping[str, Any]]], **params: Any
                 ) -> tuple[pl.DataFrame, dict[str, Any], dict[str, Any], FetchStage]:
    """One REST table's fetch, staged until its write succeeds: (frame, side data, API calls, stage).

    ``fetch`` returns the table's rows and a JSON-able mapping of side data. A step retry of the same
    run (after a failed write) gets the staged frame and side data back and calls Amazon for nothing;
    the caller writes the frame, then calls ``stage.written()``.
    """
    stage = FetchStage(context, entry, [spec.name], **params)

    def from_amazon() -> tuple[dict[str, pl.DataFrame], Mapping[str, Any]]:
        before = client.stats.snapshot()
        rows, side = fetch()
        frames = {spec.name: frame_from_records(spec, rows),
                  _SIDE: pl.DataFrame({"json": [json.dumps(dict(side), default=str)]})}
        return frames, api_since(client, before)

    frames, api = stage.fetched(from_amazon)
    return frames[spec.name], json.loads(frames[_SIDE]["json"][0]), api, stage


# ------------------------------------------------------------------------------------------ per-SKU snapshots
# What a per-SKU snapshot's fetch returns: the table's rows and JSON-able side data that holds at least
# ``invalid`` (SKU -> Amazon's reason); ``side_metadata`` turns the rest of it into run metadata.
SkuFetch = Callable[[SPAPIClient, list[str], date, datetime], tuple[list[dict[str, Any]], dict[str, Any]]]


def build_sku_snapshot_asset(entry: MarketplaceConfig, spec: TableSpec, *, family: str, description: str,
                             checks: ChecksByTable, fetch: SkuFetch, domain: str | None = None,
                             api: str | None = None,
                             side_metadata: Callable[[dict[str, Any]], dict[str, Any]] = lambda side: {},
                             ) -> dg.AssetsDefinition:
    """One point-in-time asset that asks Amazon about each selected SKU (prices, fee estimates, categories).

    They share every rule but the call: today's snapshot only (history is the merchant listings report),
    the SKU selection, the ``on_invalid_sku`` policy and its ``<asset>_valid_skus`` check, staging for a
    step retry, one partition-replace write, then the table's ``checks`` in the same step. ``fetch`` is
    the call; ``api`` names the API version in the staging key (a change of version is a new fetch).
    """
    name = spec.name
    table_checks = checks.get(name, [])
    history = history_asset(entry, SKU_HISTORY_ASSET)

    @dg.asset(deps=sku_asset_deps(entry), check_specs=[invalid_skus_check_spec(entry, name), *specs_of(table_checks)],
              **asset_kwargs(entry, name, family, SNAPSHOT, description, table=spec, domain=domain))
    @fail_fast(entry)
    def sku_snapshot(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        day = snapshot_day(context, entry, history)
        start, end = utc_window(context)
        client = sp_client(context, entry)  # first: without credentials nothing is read or written
        skus = selected_skus(context, entry, day)
        snapshot_time = utc_now()
        stage_params: dict[str, Any] = {"skus": skus} if api is None else {"skus": skus, "api": api}
        frame, side, calls, stage = fetch_staged(context, entry, spec, client,
                                                 lambda: fetch(client, skus, day, snapshot_time), **stage_params)
        invalid: dict[str, str] = side["invalid"]
        enforce_invalid_sku_policy(entry, name, invalid)
        result = write_frame(
            context, entry, spec, frame, mode=REPLACE_PARTITION, window=(start, end),
            api=calls, days=local_dates(entry, start, end),
            check_results=[invalid_skus_check_result(entry, name, len(skus), invalid)],
            **side_metadata(side), **sku_metadata(entry, skus, invalid), **stage.metadata())
        stage.written()
        yield from materialized_then_checked(context, result, table_checks)

    return sku_snapshot
