"""What every asset factory shares: keys, groups, pools, tags, retry policy and run metadata.

Asset keys are ``[marketplace_code, name]`` (``["us", "orders"]``), one group per marketplace
(``amazon_us``). Pools are ``sp_api__<account>__<api family>``: Amazon keeps one token bucket per
seller account and operation, so one pool per account and family lets different accounts and
families run side by side while parallel runs of one never fight over its quota.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl

from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.partitions import daily_partitions

REFRESH_TAG = "sp_assets/refresh"
ROLLING = "rolling"  # history that changes late: the schedule re-pulls the last N days
SNAPSHOT = "snapshot"  # point-in-time data: only today's partition can be materialized
UNPARTITIONED = "unpartitioned"  # current-state tables without partitions, replaced on each run
MONTHLY = "monthly"  # monthly-partitioned reports: their own monthly schedule (not the daily jobs)
RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def group_name(entry: MarketplaceConfig) -> str:
    return f"amazon_{entry.code}"


def pool_name(entry: MarketplaceConfig, family: str) -> str:
    return f"sp_api__{entry.account}__{family}"


def asset_key(entry: MarketplaceConfig, name: str) -> dg.AssetKey:
    return dg.AssetKey([entry.code, name])


def daily_asset_kwargs(entry: MarketplaceConfig, name: str, family: str, refresh: str,
                       description: str, max_partitions_per_run: int = 7) -> dict[str, Any]:
    """Keyword arguments for ``@dg.asset`` of a daily-partitioned SP-API asset."""
    return dict(
        key=asset_key(entry, name),
        group_name=group_name(entry),
        kinds={"duckdb", "python"},
        partitions_def=daily_partitions(entry),
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=max_partitions_per_run),
        pool=pool_name(entry, family),
        retry_policy=RETRY,
        tags={REFRESH_TAG: refresh},
        description=description,
        required_resource_keys={f"sp_api_{entry.code}", "warehouse"},
    )


def local_dates(entry: MarketplaceConfig, start: datetime, end: datetime) -> tuple[date, date]:
    """The [first, end) local days of a UTC window (the partition keys it covers)."""
    zone = ZoneInfo(entry.timezone)
    return start.astimezone(zone).date(), end.astimezone(zone).date()


def today_local(entry: MarketplaceConfig) -> date:
    return datetime.now(ZoneInfo(entry.timezone)).date()


def require_today(context: dg.AssetExecutionContext, entry: MarketplaceConfig, history_asset: str) -> None:
    """Point-in-time APIs have no history: refuse to write today's data under an older date."""
    keys = context.partition_keys
    today = today_local(entry).isoformat()
    past = [k for k in keys if k != today]
    if past:
        raise dg.Failure(
            description=(
                f"{context.asset_key.to_user_string()} reads a point-in-time API that has no history, so "
                f"only today's partition ({today}, {entry.timezone}) can be materialized; refused "
                f"{past[0]}{' and more' if len(past) > 1 else ''}. For history use {history_asset}."
            ),
            allow_retries=False,  # refusing is deterministic: the retry policy must not re-run it
        )


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
    """The metadata every SP-API asset reports: rows, window, calls, 429s, retries, wait, preview."""
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
    }
    if frame is not None:
        metadata["preview"] = preview(frame)
    metadata.update(extra)
    return metadata
