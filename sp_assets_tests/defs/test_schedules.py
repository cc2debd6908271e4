"""Issue 17: schedules as flexible as the seed's Basic and Advanced scheduling, with the old default kept.

Tick instants come from Dagster's own cron iteration (the function the scheduler daemon uses to find a
schedule's next ticks) and each tick is evaluated with ``evaluate_tick``: no wall clock is involved,
so the DST assertions hold on any day the suite runs.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import dagster as dg
import pytest
from dagster._utils.schedules import schedule_execution_time_iterator

from sp_assets.defs.config import ConfigError, ProjectConfig, parse_config
from sp_assets.defs.marketplace_factory import project_definitions

warnings.filterwarnings("ignore", category=dg.BetaWarning)

# Daylight saving time ends in Los Angeles on Sunday 2026-11-01 at 02:00 PDT (UTC-7 -> UTC-8).
START = "2026-10-01"
BEFORE_DST_END = datetime(2026, 10, 31, 0, 0, tzinfo=UTC)


def config(schedules: dict | None = None, **us: object) -> ProjectConfig:
    options = {**us, **({"schedules": schedules} if schedules is not None else {})}
    return parse_config({"defaults": {"start_date": START}, "marketplaces": {"us": options}},
                        today=datetime(2026, 12, 1).date())


def schedule_of(definitions: dg.Definitions, name: str) -> dg.ScheduleDefinition:
    return definitions.get_repository_def().get_schedule_def(name)


def ticks(schedule: dg.ScheduleDefinition, after: datetime, until: datetime) -> list[datetime]:
    """The schedule's tick instants in (after, until], in UTC, as the scheduler computes them."""
    found: list[datetime] = []
    for moment in schedule_execution_time_iterator(after.timestamp(), schedule.cron_schedule,
                                                   schedule.execution_timezone):
        if moment > until:
            return found
        if moment > after:
            found.append(moment.astimezone(UTC))
    return found


def evaluate(definitions: dg.Definitions, schedule: dg.ScheduleDefinition, moment: datetime) -> dg.ScheduleExecutionData:
    context = dg.build_schedule_context(scheduled_execution_time=moment, repository_def=definitions.get_repository_def())
    return schedule.evaluate_tick(context)


def test_a_local_cron_and_a_utc_cron_fire_at_the_right_instant_across_the_dst_change() -> None:
    project = config({
        "intraday": {"cron": "*/30 8-10 * * *", "timezone": "local", "days_back": 1,
                     "assets": ["orders_upsert", "order_items_upsert"]},
        "nightly": {"cron": "0 6 * * *", "timezone": "UTC", "assets": ["settlements", "all_orders_report"]},
    })
    definitions = project_definitions(project)
    intraday, nightly = schedule_of(definitions, "us_intraday"), schedule_of(definitions, "us_nightly")
    until = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)

    # Local: 08:00-10:30 Los Angeles time every half hour, so one hour later in UTC once PST starts.
    local_ticks = ticks(intraday, BEFORE_DST_END, until)
    expected_local = [datetime(2026, 10, 31, 15, 0, tzinfo=UTC), datetime(2026, 11, 1, 16, 0, tzinfo=UTC),
                      datetime(2026, 11, 2, 16, 0, tzinfo=UTC)]
    assert len(local_ticks) == 3 * 6, local_ticks
    assert local_ticks[::6] == expected_local  # each day's 08:00
    assert local_ticks[5::6] == [t.replace(hour=t.hour + 2, minute=30) for t in expected_local]  # its 10:30

    # UTC: 06:00 UTC every day whatever Los Angeles does, which is 23:00 PDT, then 22:00 PST, the day before.
    assert ticks(nightly, BEFORE_DST_END, until) == [datetime(2026, 10, 31, 6, tzinfo=UTC),
                                                     datetime(2026, 11, 1, 6, tzinfo=UTC),
                                                     datetime(2026, 11, 2, 6, tzinfo=UTC)]

    # Each tick asks for its own assets, partitioned by the marketplace's local day.
    first_after_change = evaluate(definitions, intraday, expected_local[1]).run_requests or []
    assert [(r.job_name, r.partition_key, sorted(k.to_user_string() for k in r.asset_selection or []))
            for r in first_after_change] == [("us_rolling_job", "2026-11-01",
                                              ["us/order_items_upsert", "us/orders_upsert"])]
    utc_tick = evaluate(definitions, nightly, datetime(2026, 11, 2, 6, tzinfo=UTC)).run_requests or []
    assert [r.partition_key for r in utc_tick] == ["2026-10-30", "2026-10-31", "2026-11-01"]
    assert {k.to_user_string() for r in utc_tick for k in r.asset_selection or []} == {
        "us/settlements", "us/all_orders_report"}
    assert len({r.run_key for r in first_after_change + utc_tick}) == 4


def test_a_schedule_mixing_refresh_kinds_requests_each_through_its_job() -> None:
    project = config({"morning": {"cron": "0 7 * * 1-5", "assets": ["orders", "inventory_supply",
                                                                     "marketplace_participations"]}})
    definitions = project_definitions(project)
    morning = schedule_of(definitions, "us_morning")
    assert morning.execution_timezone == "America/Los_Angeles"
    monday = datetime(2026, 11, 2, 15, tzinfo=UTC)  # 07:00 PST
    requests = evaluate(definitions, morning, monday).run_requests or []
    assert [(r.job_name, r.partition_key, [k.path[-1] for k in r.asset_selection or []]) for r in requests] == [
        ("us_rolling_job", "2026-10-31", ["orders"]), ("us_rolling_job", "2026-11-01", ["orders"]),
        ("us_rolling_job", "2026-11-02", ["orders"]), ("us_snapshot_job", None, ["inventory_supply"]),
        ("us_unpartitioned_job", None, ["marketplace_participations"])]
    # Monday to Friday only (the seed's "specific days"): no tick on the weekend of 2026-11-07.
    weekend = ticks(morning, datetime(2026, 11, 6, 16, tzinfo=UTC), datetime(2026, 11, 9, 0, tzinfo=UTC))
    assert weekend == []


def test_a_delayed_start_skips_the_ticks_before_its_first_day_and_the_daily_schedule_can_be_replaced() -> None:
    project = config({"daily": {"cron": "15 2 * * *", "timezone": "UTC", "starts_on": "2026-11-02"}})
    definitions = project_definitions(project)
    daily = schedule_of(definitions, "us_daily")
    assert (daily.cron_schedule, daily.execution_timezone) == ("15 2 * * *", "UTC")
    before = evaluate(definitions, daily, datetime(2026, 11, 1, 2, 15, tzinfo=UTC))
    assert before.run_requests == [] and before.skip_message == "daily starts on 2026-11-02 (UTC)"
    after = evaluate(definitions, daily, datetime(2026, 11, 2, 2, 15, tzinfo=UTC)).run_requests or []
    assert [r.run_key for r in after] == ["us-rolling-2026-10-30", "us-rolling-2026-10-31", "us-rolling-2026-11-01",
                                          "us-snapshot-2026-11-01", "us-unpartitioned-2026-11-01"]


def test_the_daily_schedule_can_be_disabled() -> None:
    project = config({"daily": {"enabled": False}, "hourly": {"cron": "0 * * * *"}})
    assert [s.name for s in project_definitions(project).get_repository_def().schedule_defs] == ["us_hourly"]


@pytest.mark.parametrize(("schedules", "field", "allowed"), [
    ({"intraday": {"cron": "*/30 8-20 * *"}}, "marketplaces.us.schedules.intraday.cron", "five fields"),
    ({"intraday": {"cron": "0 25 * * *"}}, "marketplaces.us.schedules.intraday.cron", "five fields"),
    ({"intraday": {"cron": "*/90 * * * *"}}, "marketplaces.us.schedules.intraday.cron", "step larger than its field"),
    ({"intraday": {"cron": 30}}, "marketplaces.us.schedules.intraday.cron", "quote it"),
    ({"nightly": {"timezone": "UTC"}}, "marketplaces.us.schedules.nightly.cron", "needs a cron"),
    ({"daily": {"timezone": "Europe/Berlin"}}, "marketplaces.us.schedules.daily.timezone", "allowed: local, UTC"),
    ({"monthly": {"cron": "0 1 1 * *"}}, "marketplaces.us.schedules.monthly", "other than monthly"),
    ({"Intraday": {"cron": "0 * * * *"}}, "marketplaces.us.schedules.Intraday", "lower-case identifier"),
    ({"intraday": {"cron": "0 * * * *", "every": 30}}, "marketplaces.us.schedules.intraday", "allowed: assets, cron"),
    ({"intraday": {"cron": "0 * * * *", "days_back": 0}}, "marketplaces.us.schedules.intraday.days_back",
     "between 1 and 60"),
    ({"intraday": {"cron": "0 * * * *", "starts_on": "next week"}}, "marketplaces.us.schedules.intraday.starts_on",
     "YYYY-MM-DD"),
    ({"intraday": {"cron": "0 * * * *", "assets": ["orders", "orders"]}},
     "marketplaces.us.schedules.intraday.assets", "each asset once"),
    (["intraday"], "marketplaces.us.schedules", "mapping of schedule name"),
])
def test_a_bad_schedule_names_its_field_at_load(schedules: object, field: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config(schedules)  # type: ignore[arg-type]
    assert field in str(caught.value) and allowed in str(caught.value), str(caught.value)


@pytest.mark.parametrize(("asset", "allowed"), [
    ("order_upsert", "is not an asset of us; allowed: all_orders_report, catalog_matches"),
    ("storage_fees", "is a monthly report, which the monthly schedule us_monthly requests"),
])
def test_a_schedule_asset_that_the_marketplace_lacks_names_its_field_when_the_schedules_are_built(
        asset: str, allowed: str) -> None:
    project = parse_config({"defaults": {"start_date": START}, "marketplaces": {"us": {
        "reports": [{"type": "GET_FBA_STORAGE_FEE_CHARGES_DATA", "table": "storage_fees"}],
        "schedules": {"intraday": {"cron": "0 * * * *", "assets": ["orders", asset]}}}}},
        today=datetime(2026, 12, 1).date())
    with pytest.raises(ConfigError) as caught:
        project_definitions(project)
    message = str(caught.value)
    assert message.startswith(f"marketplaces.us.schedules.intraday.assets[1]: {asset!r} ") and allowed in message
