"""A daily schedule per marketplace, replacing the seed's "Days Back" and relative date ranges.

At ``schedule_hour`` (the marketplace's local time) it re-materializes the last ``days_back`` days
(default 3, today included) of every rolling asset, which catches late updates (an order shipped
two days after purchase, a return), today's partition of every point-in-time asset, and the
unpartitioned assets (``<code>_unpartitioned_job``: tables replaced on each run). The seed's
"today-7" is ``days_back: 8``. Older history is a partition backfill from the UI or the CLI.
"""


from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from sp_assets.defs.common import MONTHLY, REFRESH_TAG, ROLLING, SNAPSHOT, UNPARTITIONED, group_name
from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.partitions import monthly_partitions
from sp_assets.lib.reports import catalog

# Amazon charges a month's storage fees between the 7th and the 15th of the following month, so the
# monthly reports of the last complete month are requested on the 15th.
MONTHLY_SCHEDULE_DAY = 15


def rolling_partition_keys(entry: MarketplaceConfig, moment: datetime) -> list[str]:
    """The last ``days_back`` local days up to and including the day of ``moment``, oldest first."""
    today = moment.astimezone(ZoneInfo(entry.timezone)).date()
    first = max(entry.start_date, today - timedelta(days=entry.days_back - 1))
    return [(first + timedelta(days=i)).isoformat() for i in range((today - first).days + 1)]


def build_schedule(entry: MarketplaceConfig) -> tuple[list, dg.ScheduleDefinition]:
    group = dg.AssetSelection.groups(group_name(entry))
    rolling_job = dg.define_asset_job(
        f"{entry.code}_rolling_job", selection=group & dg.AssetSelection.tag(REFRESH_TAG, ROLLING),
        description=f"{entry.code}: history assets, re-pulled for the last days_back days",
    )
    snapshot_job = dg.define_asset_job(
        f"{entry.code}_snapshot_job", selection=group & dg.AssetSelection.tag(REFRESH_TAG, SNAPSHOT),
        description=f"{entry.code}: point-in-time assets, today's partition",
    )
    unpartitioned_job = dg.define_asset_job(
        f"{entry.code}_unpartitioned_job", selection=group & dg.AssetSelection.tag(REFRESH_TAG, UNPARTITIONED),
        description=f"{entry.code}: unpartitioned assets (tables replaced on each run)",
    )

    @dg.schedule(name=f"{entry.code}_daily", cron_schedule=f"0 {entry.schedule_hour} * * *",
                 execution_timezone=entry.timezone, target=group - dg.AssetSelection.tag(REFRESH_TAG, MONTHLY),
                 default_status=dg.DefaultScheduleStatus.RUNNING,
                 description=f"Every day at {entry.schedule_hour}:00 {entry.timezone}: the last "
                             f"{entry.days_back} days of {entry.code}'s history assets, today's snapshots, the "
                             "unpartitioned tables.")
    def daily(context: dg.ScheduleEvaluationContext):
        keys = rolling_partition_keys(entry, context.scheduled_execution_time)
        for key in keys:
            yield dg.RunRequest(run_key=f"{entry.code}-rolling-{key}", job_name=rolling_job.name, partition_key=key)
        yield dg.RunRequest(run_key=f"{entry.code}-snapshot-{keys[-1]}", job_name=snapshot_job.name,
                            partition_key=keys[-1])
        yield dg.RunRequest(run_key=f"{entry.code}-unpartitioned-{keys[-1]}", job_name=unpartitioned_job.name)

    return [rolling_job, snapshot_job, unpartitioned_job], daily


def build_monthly_schedule(entry: MarketplaceConfig) -> tuple[list, list]:
    """The monthly reports of one marketplace: a job and a schedule for the last complete month.

    Their partitions are months, so they cannot share the daily schedule's jobs; none when the
    marketplace has no monthly report.
    """
    if not any(catalog.lookup(r.report_type).window == catalog.MONTHLY for r in entry.reports):
        return [], []
    job = dg.define_asset_job(
        f"{entry.code}_monthly_job", partitions_def=monthly_partitions(entry),
        selection=dg.AssetSelection.groups(group_name(entry)) & dg.AssetSelection.tag(REFRESH_TAG, MONTHLY),
        description=f"{entry.code}: monthly reports, the last complete month",
    )
    schedule = dg.build_schedule_from_partitioned_job(
        job, name=f"{entry.code}_monthly", hour_of_day=entry.schedule_hour, day_of_month=MONTHLY_SCHEDULE_DAY,
        default_status=dg.DefaultScheduleStatus.RUNNING)
    return [job], [schedule]


def build_schedules(entry: MarketplaceConfig) -> tuple[list, list]:
    """Every job and schedule of one marketplace: the daily one and, when it has monthly reports, the monthly."""
    daily_jobs, daily = build_schedule(entry)
    monthly_jobs, monthly = build_monthly_schedule(entry)
    return daily_jobs + monthly_jobs, [daily, *monthly]
