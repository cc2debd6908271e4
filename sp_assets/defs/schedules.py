"""The schedules of each marketplace, replacing the seed's "Days Back", relative date ranges and scheduling.

By default one, ``<code>_daily``: at ``schedule_hour`` (the marketplace's local time) it
re-materializes the last ``days_back`` days (default 3, today included) of every rolling asset, which
catches late updates (an order shipped two days after purchase, a return), every point-in-time asset
(unpartitioned: a run takes today's snapshot, ``<code>_snapshot_job``), and the unpartitioned assets (``<code>_unpartitioned_job``: tables replaced on
each run). The seed's "today-7" is ``days_back: 8``. ``schedules`` in ``marketplaces.yaml`` adds
others (a cron expression in the marketplace's zone or UTC, optionally a subset of the assets, its
own ``days_back``, a first day) or changes or disables the daily one; each requests the same three
jobs. Monthly reports have their own schedule. Older history is a partition backfill from the UI or
the CLI, or the history sensor (``history.py``), which loads it newest first.
"""


from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from sp_assets.defs.common import (
    MONTHLY,
    REFRESH_TAG,
    ROLLING,
    SNAPSHOT,
    UNPARTITIONED,
    asset_key,
    group_name,
)
from sp_assets.defs.config import DAILY_SCHEDULE, ConfigError, MarketplaceConfig, ScheduleConfig
from sp_assets.defs.history import build_history_sensor
from sp_assets.defs.partitions import monthly_partitions
from sp_assets.defs.scoped_jobs import scoped_asset_job, scoped_schedule_target
from sp_assets.lib.reports import catalog

# Amazon charges a month's storage fees between the 7th and the 15th of the following month, so the
# monthly reports of the last complete month are requested on the 15th.
MONTHLY_SCHEDULE_DAY = 15


def rolling_partition_keys(entry: MarketplaceConfig, moment: datetime, days_back: int | None = None) -> list[str]:
    """The last ``days_back`` (the marketplace's unless given) partition days up to and including the day
    of ``moment``, oldest first."""
    today = moment.astimezone(ZoneInfo(entry.timezone)).date()
    first = max(entry.start_date, today - timedelta(days=(days_back or entry.days_back) - 1))
    return [(first + timedelta(days=i)).isoformat() for i in range((today - first).days + 1)]


JOB_DESCRIPTIONS = {
    ROLLING: "history assets, re-pulled for the last days_back days",
    SNAPSHOT: "point-in-time assets (unpartitioned): today's snapshot, earlier days kept",
    UNPARTITIONED: "unpartitioned assets (tables replaced on each run)",
}


def build_refresh_jobs(entry: MarketplaceConfig, exclude_checks: Sequence[dg.AssetCheckKey] = ()) -> list:
    """The three jobs every schedule of a marketplace requests: rolling, snapshot and unpartitioned assets
    (without ``exclude_checks``)."""
    group = dg.AssetSelection.groups(group_name(entry))
    excluded = dg.AssetSelection.checks(*exclude_checks)
    return [scoped_asset_job(entry.code, job_name(entry, refresh),
                             selection=(group & dg.AssetSelection.tag(REFRESH_TAG, refresh)) - excluded,
                             description=f"{entry.code}: {what}")
            for refresh, what in JOB_DESCRIPTIONS.items()]


def job_name(entry: MarketplaceConfig, refresh: str) -> str:
    return f"{entry.code}_{refresh}_job"


def build_schedule(entry: MarketplaceConfig) -> tuple[list, dg.ScheduleDefinition]:
    """The three jobs and the daily schedule (every asset but the monthly reports, as configured)."""
    daily = next((s for s in entry.schedules if s.name == DAILY_SCHEDULE), None)
    if daily is None:
        raise ValueError(f"{entry.path}.schedules.daily: disabled (enabled: false), so there is none")
    return build_refresh_jobs(entry), build_configured_schedule(entry, daily)


def build_configured_schedule(entry: MarketplaceConfig, schedule: ScheduleConfig,
                              refresh_of: Mapping[str, str] | None = None) -> dg.ScheduleDefinition:
    """``<code>_<name>``: at each tick of its cron (in its zone), the last ``days_back`` days of the selected
    history assets, today's snapshot of the selected point-in-time assets, the selected unpartitioned tables.

    ``refresh_of`` (asset name to refresh kind) is needed when the schedule lists ``assets``: each is
    requested through the job of its kind, and a name that is not an asset of the marketplace is an error.
    """
    selected = _selected_by_refresh(entry, schedule, refresh_of or {})
    target: dg.AssetSelection
    if selected is not None:
        target = dg.AssetSelection.assets(*(key for keys in selected.values() for key in keys))
    elif refresh_of:
        # The same assets as "the group but the monthly reports", named: the UI's snapshot resolves a
        # schedule's selection against the whole code location, and a group or tag selection scans
        # every asset of every marketplace there (O(marketplaces^2) over all schedules).
        target = dg.AssetSelection.assets(*(asset_key(entry, name) for name, refresh in refresh_of.items()
                                            if refresh != MONTHLY))
    else:
        target = dg.AssetSelection.groups(group_name(entry)) - dg.AssetSelection.tag(REFRESH_TAG, MONTHLY)
    prefix = entry.code if schedule.name == DAILY_SCHEDULE else f"{entry.code}-{schedule.name}"

    def requests(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest | dg.SkipReason]:
        moment = context.scheduled_execution_time
        if schedule.starts_on and moment.astimezone(ZoneInfo(schedule.timezone)).date() < schedule.starts_on:
            yield dg.SkipReason(f"{schedule.name} starts on {schedule.starts_on} ({schedule.timezone})")
            return
        keys = rolling_partition_keys(entry, moment, schedule.days_back)
        # Point-in-time assets are unpartitioned: their run (no partition) takes today's snapshot.
        partition_of: dict[str, list[str | None]] = {ROLLING: [*keys], SNAPSHOT: [None], UNPARTITIONED: [None]}
        for refresh, partitions in partition_of.items():
            assets = None if selected is None else selected[refresh]
            if assets == []:
                continue
            for key in partitions:
                yield dg.RunRequest(run_key=f"{prefix}-{refresh}-{key or keys[-1]}", job_name=job_name(entry, refresh),
                                    partition_key=key, asset_selection=assets)

    return dg.ScheduleDefinition(
        name=f"{entry.code}_{schedule.name}", cron_schedule=schedule.cron, execution_timezone=schedule.timezone,
        target=scoped_schedule_target(entry.code, f"{entry.code}_{schedule.name}", target), execution_fn=requests, default_status=dg.DefaultScheduleStatus.RUNNING,
        description=_describe(entry, schedule))


def _selected_by_refresh(entry: MarketplaceConfig, schedule: ScheduleConfig,
                         refresh_of: Mapping[str, str]) -> dict[str, list[dg.AssetKey]] | None:
    """The schedule's assets grouped by refresh kind; None when it lists none (every non-monthly asset)."""
    if not schedule.assets:
        return None
    where = f"{entry.path}.schedules.{schedule.name}.assets"
    allowed = sorted(name for name, refresh in refresh_of.items() if refresh != MONTHLY)
    selected: dict[str, list[dg.AssetKey]] = {refresh: [] for refresh in JOB_DESCRIPTIONS}
    for index, name in enumerate(schedule.assets):
        refresh = refresh_of.get(name)
        if refresh == MONTHLY:
            raise ConfigError(f"{where}[{index}]: {name!r} is a monthly report, which the monthly schedule "
                              f"{entry.code}_monthly requests; allowed: {', '.join(allowed)}")
        if refresh not in selected:
            raise ConfigError(f"{where}[{index}]: {name!r} is not an asset of {entry.code}; allowed: "
                              f"{', '.join(allowed)}")
        selected[refresh].append(asset_key(entry, name))
    return selected


def _describe(entry: MarketplaceConfig, schedule: ScheduleConfig) -> str:
    default = f"0 {entry.schedule_hour} * * *"
    when = (f"Every day at {entry.schedule_hour}:00 {schedule.timezone}" if schedule.cron == default
            else f"At cron '{schedule.cron}' ({schedule.timezone})")
    if schedule.starts_on:
        when += f" from {schedule.starts_on}"
    what = (f"{entry.code}'s history assets, today's snapshots, the unpartitioned tables" if not schedule.assets
            else f"{', '.join(schedule.assets)} of {entry.code} (history, snapshot or table as each is)")
    return f"{when}: the last {schedule.days_back} days of {what}."


def refresh_kinds(assets: Sequence[dg.AssetsDefinition]) -> dict[str, str]:
    """Asset name (the last part of its key) to its refresh kind, read from the assets' tags."""
    return {spec.key.path[-1]: spec.tags.get(REFRESH_TAG, "")
            for definition in assets for spec in definition.specs}


def build_monthly_schedule(entry: MarketplaceConfig) -> tuple[list, list]:
    """The monthly reports of one marketplace: a job and a schedule for the last complete month.

    Their partitions are months, so they cannot share the daily schedule's jobs; none when the
    marketplace has no monthly report.
    """
    if not any(catalog.lookup(r.report_type).window == catalog.MONTHLY for r in entry.reports):
        return [], []
    job = scoped_asset_job(
        entry.code, f"{entry.code}_monthly_job", partitions_def=monthly_partitions(entry),
        selection=dg.AssetSelection.groups(group_name(entry)) & dg.AssetSelection.tag(REFRESH_TAG, MONTHLY),
        description=f"{entry.code}: monthly reports, the last complete month",
    )
    schedule = dg.build_schedule_from_partitioned_job(
        job, name=f"{entry.code}_monthly", hour_of_day=entry.schedule_hour, day_of_month=MONTHLY_SCHEDULE_DAY,
        default_status=dg.DefaultScheduleStatus.RUNNING)
    return [job], [schedule]


def build_schedules(entry: MarketplaceConfig, assets: Sequence[dg.AssetsDefinition] = (),
                    exclude_checks: Sequence[dg.AssetCheckKey] = ()) -> tuple[list, list]:
    """Every job and schedule of one marketplace: the configured ones (``daily`` unless disabled, any
    other in ``schedules``) and, when it has monthly reports, the monthly.

    ``assets`` are the marketplace's assets, which a schedule listing ``assets`` selects from;
    ``exclude_checks`` are checks no job runs (the freshness checks: their sensor evaluates them).
    """
    refresh_of = refresh_kinds(assets)
    schedules = [build_configured_schedule(entry, schedule, refresh_of) for schedule in entry.schedules]
    monthly_jobs, monthly = build_monthly_schedule(entry)
    return build_refresh_jobs(entry, exclude_checks) + monthly_jobs, [*schedules, *monthly]


def build_sensors(entry: MarketplaceConfig) -> list[dg.SensorDefinition]:
    """The marketplace's sensors: the history loader, newest first (stopped until started)."""
    return [build_history_sensor(entry, job_name(entry, ROLLING))]
