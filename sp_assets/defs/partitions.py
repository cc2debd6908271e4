"""Daily (and, for monthly reports, monthly) partitions per marketplace, in its local time zone by default.

A partition is the seller's day as Seller Central shows it (``timezone: local``), or a UTC day
(``timezone: UTC``); the window is converted to UTC before it is sent to Amazon. Today's partition
exists (``end_offset=1``) so orders can be pulled up to now minus the safety margin.

Point-in-time assets are not partitioned (``common.require_today``): their step pins its snapshot
day here, and ``utc_window`` gives that local day's window, as it gives a partitioned run's.

Monthly report types (catalog window ``monthly``, e.g. the FBA storage fees) get monthly partitions
in the same time zone, from the month of ``start_date``; only complete months exist (Amazon charges
a month's storage fee after it ends).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

import dagster as dg

from sp_assets.defs.config import MarketplaceConfig


@cache
def _daily(start: str, timezone: str) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start, timezone=timezone, end_offset=1)


def daily_partitions(entry: MarketplaceConfig) -> dg.DailyPartitionsDefinition:
    """The one partitions definition every daily asset of a marketplace shares (identity mapping)."""
    return _daily(entry.start_date.isoformat(), entry.timezone)


@cache
def _monthly(start: str, timezone: str) -> dg.MonthlyPartitionsDefinition:
    return dg.MonthlyPartitionsDefinition(start_date=start, timezone=timezone, end_offset=0)


def monthly_partitions(entry: MarketplaceConfig) -> dg.MonthlyPartitionsDefinition:
    """Calendar months from the month of ``start_date`` (its first day), so the start date's month is kept."""
    return _monthly(entry.start_date.replace(day=1).isoformat(), entry.timezone)


# The snapshot day each running step of a point-in-time asset pinned: (day, its UTC window). Keyed by
# the step's context object, so it lives exactly as long as the step.
_SNAPSHOT_DAYS: WeakKeyDictionary[object, tuple[date, datetime, datetime]] = WeakKeyDictionary()


def pin_snapshot_day(context: dg.AssetExecutionContext, timezone: str, day: date) -> None:
    """Record the local ``day`` a point-in-time step snapshots (``common.require_today`` calls it)."""
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
    following = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
    _SNAPSHOT_DAYS[context] = (day, start.astimezone(UTC), following.astimezone(UTC))


def pinned_snapshot_day(context: dg.AssetExecutionContext) -> date | None:
    """The day this step snapshots, if it is a point-in-time step that has pinned one."""
    pinned = _SNAPSHOT_DAYS.get(context)
    return None if pinned is None else pinned[0]


def utc_window(context: dg.AssetExecutionContext) -> tuple[datetime, datetime]:
    """The run's window in UTC, as Amazon wants it: the partition window (one day or a backfill range),
    or, for a point-in-time step, the local day it snapshots."""
    pinned = _SNAPSHOT_DAYS.get(context)
    if pinned is not None:
        return pinned[1], pinned[2]
    if not context.has_partition_key_range and not context.has_partition_key:
        raise ValueError(f"{context.asset_key.to_user_string()} is not partitioned: its window is the snapshot day, "
                         "which common.require_today (or rest_support.snapshot_day) must pin first")
    window = context.partition_time_window
    return window.start.astimezone(UTC), window.end.astimezone(UTC)
