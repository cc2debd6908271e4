"""Daily (and, for monthly reports, monthly) partitions per marketplace, in its local time zone by default.

A partition is the seller's day as Seller Central shows it (``timezone: local``), or a UTC day
(``timezone: UTC``); the window is converted to UTC before it is sent to Amazon. Today's partition
exists (``end_offset=1``) so point-in-time assets can be refreshed during the day and orders can be
pulled up to now minus the safety margin.

Monthly report types (catalog window ``monthly``, e.g. the FBA storage fees) get monthly partitions
in the same time zone, from the month of ``start_date``; only complete months exist (Amazon charges
a month's storage fee after it ends).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

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


def utc_window(context: dg.AssetExecutionContext) -> tuple[datetime, datetime]:
    """The run's partition window (one day or a backfill range) in UTC, as Amazon wants it."""
    window = context.partition_time_window
    return window.start.astimezone(UTC), window.end.astimezone(UTC)
