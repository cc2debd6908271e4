"""Issue 17: a long history load fills the most recent days first (the seed's append mode).

The sensor is evaluated against a real Dagster instance; each run it asks for is executed for real
(the history assets against the sandbox over HTTP, into a temporary DuckDB), and the order is read
back from the instance: the runs' partition ranges, ordered by creation.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import dagster as dg

from sp_assets.defs.history import HISTORY_TAG, RANGE_END, RANGE_START, newest_missing_chunk, sensor_name
from sp_assets.defs.marketplace_factory import marketplace_definitions
from sp_assets_tests.defs.conftest import AssetEnv, make_config
from sp_assets_tests.defs.rest_helpers import today as local_today

warnings.filterwarnings("ignore", category=dg.BetaWarning)


def test_the_newest_missing_days_come_first_and_a_chunk_never_spans_a_loaded_day() -> None:
    keys = [f"d{i:02}" for i in range(20)]
    assert newest_missing_chunk(keys, set(), 7) == keys[13:]
    assert newest_missing_chunk(keys, set(keys[13:]), 7) == keys[6:13]
    assert newest_missing_chunk(keys, set(keys[13:]) | {"d09"}, 7) == keys[10:13]
    assert newest_missing_chunk(keys, set(keys[3:]), 7) == keys[:3]
    assert newest_missing_chunk(keys, set(keys), 7) == []


def test_the_history_sensor_launches_the_runs_of_a_long_backfill_newest_first(asset_env: AssetEnv) -> None:
    # The marketplace's today: between 00:00 and 08:00 UTC the US day is still yesterday in UTC terms.
    today = local_today(make_config({"us": {}}).get("us"))
    # No reports (they would need the report pool and their own waits); then "all SKUs" has no listing to
    # read, so the per-SKU assets take a configured list.
    config = make_config({"us": {"sku_selection": "advanced", "skus": ["SKU-1"]}},
                         start_date=(today - timedelta(days=15)).isoformat(), reports=[])
    definitions = dg.Definitions.merge(marketplace_definitions(config.get("us")),
                                       dg.Definitions(resources=asset_env.resources(config)))
    repository = definitions.get_repository_def()
    sensor = repository.get_sensor_def(sensor_name(config.get("us")))
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED, "opt-in: it starts loading the whole history"

    with dg.instance_for_test() as instance:
        def tick() -> dg.SensorExecutionData:
            return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repository))

        launched = 0
        while (requests := tick().run_requests):
            (request,) = requests
            job = definitions.resolve_job_def(request.job_name or "")
            if launched == 0:  # while a chunk is queued or running, nothing else is launched
                queued = instance.create_run_for_job(job, tags=request.tags, status=dg.DagsterRunStatus.NOT_STARTED)
                assert f"waiting for run {queued.run_id}" in (tick().skip_message or "")
                instance.delete_run(queued.run_id)
            assert job.execute_in_process(instance=instance, tags=request.tags).success
            launched += 1
            assert launched <= 3, "the sensor keeps asking after the history is loaded"
        assert tick().skip_message == f"history of us from {today - timedelta(days=15)} is loaded"

        runs = instance.get_runs(dg.RunsFilter(tags={HISTORY_TAG: "us"}))[::-1]  # get_runs is newest first
        day = lambda n: (today - timedelta(days=n)).isoformat()  # noqa: E731
        assert [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in runs] == [
            (day(6), day(0)), (day(13), day(7)), (day(15), day(14))]
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        orders = dg.AssetKey(["us", "orders"])
        assert instance.get_materialized_partitions(orders) >= {day(n) for n in range(16)}
