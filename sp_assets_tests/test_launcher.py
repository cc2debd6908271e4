"""``RunProgress``: what ``make demo`` prints while a run goes, read from the instance's event log.

Toy assets on a test instance stand in for the SP-API assets: what matters here is how the events a
run logs become assets, partitions and rows done (the SP-API side is tested with the real assets).
"""

import dagster as dg

from sp_assets.launcher import RunProgress

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01")
RANGE = {"dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-01-03"}


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def step_totals(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """One step writes three days and attaches its totals (one window, one count) to every partition."""
    window = context.partition_time_window
    return dg.MaterializeResult(metadata={"dagster/row_count": 30, "window_start_utc": window.start.isoformat(),
                                          "window_end_utc": window.end.isoformat()})


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def per_partition(context: dg.AssetExecutionContext) -> None:
    """Each partition carries its own window and count."""
    for key in context.partition_keys:
        window = DAYS.time_window_for_partition_key(key)
        context.log_event(dg.AssetMaterialization(
            asset_key=context.asset_key, partition=key,
            metadata={"dagster/row_count": 5, "window_start_utc": window.start.isoformat(),
                      "window_end_utc": window.end.isoformat()}))


@dg.asset
def unpartitioned() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 7})


@dg.asset(deps=[unpartitioned])
def refused() -> None:
    raise dg.Failure(description="orders.created_after: 2026-01-09 is in the future; nothing was written.\nmore")


def test_progress_counts_each_asset_partition_and_window_once() -> None:
    with dg.instance_for_test() as instance:
        result = dg.materialize([step_totals], instance=instance, tags=RANGE)
        progress = RunProgress(result.run_id)
        assert progress.update(instance)
        assert (progress.assets, len(progress.partitions), progress.rows) == ({dg.AssetKey("step_totals")}, 3, 30)
        assert not progress.update(instance), "no new event: nothing changed"

        result = dg.materialize([per_partition], instance=instance, tags=RANGE, raise_on_error=False)
        progress = RunProgress(result.run_id)
        progress.update(instance)
        assert (len(progress.partitions), progress.rows) == (3, 15)
        assert progress.summary(total_assets=2) == "1/2 assets, 3 partitions, 15 rows"


def test_progress_names_the_failed_step_with_the_first_line_of_its_error() -> None:
    with dg.instance_for_test() as instance:
        result = dg.materialize([unpartitioned, refused], instance=instance, raise_on_error=False)
        assert not result.success
        progress = RunProgress(result.run_id)
        progress.update(instance)
        assert (progress.assets, progress.partitions, progress.rows) == ({dg.AssetKey("unpartitioned")}, set(), 7)
        assert progress.failures == ["refused: orders.created_after: 2026-01-09 is in the future; nothing was written."]
