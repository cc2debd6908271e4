"""Is yesterday loaded, and does each loaded day look like the days before it? Two checks per history asset.

* **Freshness** (``<code>/<asset>:freshness_check``): Dagster's time-partition freshness check
  (``build_time_partition_freshness_checks``) on every daily history asset of the marketplace: by
  ``freshness_hour`` local time (default two hours after the daily schedule, so 08:00 with
  ``schedule_hour: 6``) the latest complete partition, yesterday, must be materialized; otherwise the check
  fails with WARN severity and names the partition it expected. The sensor ``<code>_freshness_checks``
  (running by default, every 10 minutes) evaluates them, so a late day shows in the UI without a run; the
  rolling job evaluates them too, right after its writes.
* **Row-count anomaly** (``<code>/<asset>:<table>_row_count_anomaly``), in the asset's step after its
  write like the key checks: the days the write covered (read from the load ledger, named in the
  metadata) are compared with the trailing median of the 14 days before them. A day with no row while the median is above zero, or one below a quarter or
  above four times the median (with a median of at least 10 rows, so quiet days are not noise), fails
  with WARN severity. Never blocking: an odd day is worth a look, not a stop.

Freshness checks are check definitions of their own, evaluated by the sensor and left out of the jobs
(each job keeps one step per asset op): they are about time passing without a run.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import dagster as dg

from sp_assets.defs.checks import TableCheck
from sp_assets.defs.common import REFRESH_TAG, ROLLING, asset_key, group_name
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.lib.naming import qualified_name
from sp_assets.lib.warehouse import Warehouse

ANOMALY_CHECK = "row_count_anomaly"
TRAILING_DAYS = 14
LOW, HIGH = 0.25, 4.0  # a day below a quarter or above four times the trailing median is odd
MIN_MEDIAN = 10  # below this many rows a day, ratios are noise
PARTITION_COLUMNS = ("partition_date", "posted_date")  # the day column of the history tables


def freshness_hour(entry: MarketplaceConfig) -> int:
    """The local hour by which yesterday must be loaded: two hours after the daily schedule."""
    return min(entry.schedule_hour + 2, 23)


def history_keys(entry: MarketplaceConfig, assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    """The marketplace's daily history assets (re-pulled for days_back days by the rolling job)."""
    keys = []
    for assets_def in assets:
        for key in assets_def.keys:
            spec = assets_def.specs_by_key[key]
            if (spec.group_name == group_name(entry) and (spec.tags or {}).get(REFRESH_TAG) == ROLLING
                    and isinstance(assets_def.partitions_def, dg.TimeWindowPartitionsDefinition)):
                keys.append(key)
    return sorted(keys, key=lambda k: k.to_user_string())


def build_freshness_checks(entry: MarketplaceConfig, assets: Sequence[dg.AssetsDefinition]
                           ) -> list[dg.AssetChecksDefinition]:
    """Yesterday materialized by ``freshness_hour`` local time, for every daily history asset."""
    keys = set(history_keys(entry, assets))
    owners = [a for a in assets if a.keys & keys]
    if not owners:
        return []
    # Dagster's builder takes whole definitions; a multi-asset with a non-history key (none today) would
    # bring it along, so keep only definitions all of whose keys are history assets.
    whole = [a for a in owners if a.keys <= keys]
    return list(dg.build_time_partition_freshness_checks(
        assets=whole, deadline_cron=f"0 {freshness_hour(entry)} * * *", timezone=entry.timezone))


def build_freshness_sensor(entry: MarketplaceConfig, checks: Sequence[dg.AssetChecksDefinition]
                           ) -> list[dg.SensorDefinition]:
    if not checks:
        return []
    return [dg.build_sensor_for_freshness_checks(
        freshness_checks=list(checks), name=f"{entry.code}_freshness_checks", minimum_interval_seconds=600,
        default_status=dg.DefaultSensorStatus.RUNNING)]


def day_counts(warehouse: Warehouse, schema: str, table: str, first: date, last: date) -> dict[date, int] | None:
    """Rows per day in [first, last] by the table's day column; None if the table has none."""
    columns = warehouse.columns(schema, table)
    column = next((c for c in PARTITION_COLUMNS if c in columns), None)
    if column is None:
        return None
    rows = warehouse.query(f"select {column} as day, count(*) as n from {qualified_name(schema, table)} "
                           f"where {column} between ? and ? group by 1", [first, last]).rows()
    return {day: int(n) for day, n in rows}


def judge_days(counts: dict[date, int], checked: list[date]) -> dict:
    """The checked days against the trailing median of the TRAILING_DAYS before the first of them."""
    start = min(checked)
    trailing = [counts.get(start - timedelta(days=n), 0) for n in range(1, TRAILING_DAYS + 1)]
    seen = [n for n in trailing if n > 0]
    median = statistics.median(seen) if seen else 0.0
    odd = []
    for day in checked:
        n = counts.get(day, 0)
        if median > 0 and n == 0:
            odd.append(f"{day}: no rows (trailing median {median:g})")
        elif median >= MIN_MEDIAN and not LOW * median <= n <= HIGH * median:
            odd.append(f"{day}: {n} rows, {n / median:.2f}x the trailing median {median:g}")
    return {"odd": odd, "median": median, "rows": {d.isoformat(): counts.get(d, 0) for d in checked}}


def row_count_anomaly(entry: MarketplaceConfig, table: str) -> TableCheck:
    """``<table>_row_count_anomaly`` (WARN, never blocking), evaluated in the asset's step after its write:
    the days that write covered (from the load ledger) against the trailing median."""
    key = asset_key(entry, table)
    spec = dg.AssetCheckSpec(f"{table}_{ANOMALY_CHECK}", asset=key, blocking=False,
                             description=f"The days of the latest write of {key.to_user_string()} are not empty or "
                                         f"far off the median of the {TRAILING_DAYS} days before them (WARN; never "
                                         f"blocks).")
    return TableCheck(spec, lambda warehouse: _evaluate(warehouse, spec.key, entry.code, table))


def _evaluate(warehouse: Warehouse, check_key: dg.AssetCheckKey, schema: str, table: str) -> dg.AssetCheckResult:
    def result(passed: bool, **metadata: Any) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(asset_key=check_key.asset_key, check_name=check_key.name, passed=passed,
                                   severity=dg.AssetCheckSeverity.WARN, metadata=dict(metadata))

    if not warehouse.table_exists(schema, table):
        return result(True, note="table not created yet")
    loads = warehouse.loads(schema, table)
    latest = loads.filter(loads["partition_start"].is_not_null()).head(1).to_dicts()
    if not latest:
        return result(True, note="no partition load recorded yet")
    first = date.fromisoformat(str(latest[0]["partition_start"])[:10])
    end = date.fromisoformat(str(latest[0]["partition_end"])[:10]) if latest[0]["partition_end"] else first
    last = max(first, end - timedelta(days=1))  # partition_end is exclusive
    checked = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    counts = day_counts(warehouse, schema, table, first - timedelta(days=TRAILING_DAYS), last)
    if counts is None:
        return result(True, note=f"{schema}.{table} has no day column")
    verdict = judge_days(counts, checked)
    return result(not verdict["odd"], partitions=f"{checked[0]}..{checked[-1]}",
                  rows=dg.MetadataValue.json(verdict["rows"]), trailing_median=float(verdict["median"]),
                  odd_days="; ".join(verdict["odd"]) or "none")
