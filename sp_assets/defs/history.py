"""History newest first: a sensor per marketplace that loads the history assets from today backwards.

Dagster's backfills launch their runs oldest first (a job backfill walks its partition ranges in
ascending order, an asset backfill submits its ranges the same way), and nothing in 1.13 reverses
that. The seed's append mode promises the opposite: today first, then history from the most recent
day to the oldest, resuming where it left off. ``<code>_history_newest_first`` does that:

* each evaluation looks at the history (rolling) assets of the marketplace from ``start_date`` to
  today, and takes the newest days that some of them have not materialized yet;
* it launches one run of ``<code>_rolling_job`` over at most as many days as one run may cover (the
  assets' backfill policy, 7), tagged ``sp_assets/history`` so the next evaluation finds it;
* while that run is queued or running it launches nothing, so chunks finish in the order they start,
  and a day that any earlier chunk of the sensor covered is not asked for again (a failed chunk is
  listed in the skip message; re-execute it from the UI, or let ``run_retries`` retry it).

It is stopped by default: start it in the UI (Automation) or with ``dagster sensor start
<code>_history_newest_first``. The daily schedule keeps the recent days fresh meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import dagster as dg

from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.partitions import daily_partitions

HISTORY_TAG = "sp_assets/history"  # value: the marketplace code
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
WAITING = (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
           dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)
FALLBACK_CHUNK_DAYS = 7  # when no asset of the job has a multi-run backfill policy


def sensor_name(entry: MarketplaceConfig) -> str:
    return f"{entry.code}_history_newest_first"


def newest_missing_chunk(keys: Sequence[str], done: set[str], size: int) -> list[str]:
    """The newest run of consecutive keys not in ``done``, at most ``size`` long, oldest first.

    ``keys`` are in partition order (oldest first); consecutive so that one run covers them as a range.
    """
    chunk: list[str] = []
    for key in reversed(keys):
        if key in done:
            if chunk:
                break
            continue
        chunk.append(key)
        if len(chunk) == size:
            break
    return chunk[::-1]


def _covered(partitions: dg.PartitionsDefinition, runs: Iterable[dg.DagsterRun]) -> set[str]:
    """The partition keys the given runs were launched for (a range or one key)."""
    keys: set[str] = set()
    for run in runs:
        first, last = run.tags.get(RANGE_START), run.tags.get(RANGE_END)
        if first and last:
            keys.update(partitions.get_partition_keys_in_range(dg.PartitionKeyRange(first, last)))
        elif run.tags.get("dagster/partition"):
            keys.add(run.tags["dagster/partition"])
    return keys


def build_history_sensor(entry: MarketplaceConfig, rolling_job_name: str) -> dg.SensorDefinition:
    """``<code>_history_newest_first``: the rolling job over the newest missing days, one chunk at a time."""
    partitions = daily_partitions(entry)

    @dg.sensor(name=sensor_name(entry), job_name=rolling_job_name, minimum_interval_seconds=60,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description=f"Loads {entry.code}'s history assets newest first, from today back to "
                           f"{entry.start_date}, one run of {rolling_job_name} at a time (Domo's append mode).")
    def history(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        instance = context.instance
        mine = dg.RunsFilter(tags={HISTORY_TAG: entry.code})
        waiting = instance.get_runs(dg.RunsFilter(tags={HISTORY_TAG: entry.code}, statuses=list(WAITING)), limit=1)
        if waiting:
            run = waiting[0]
            return dg.SkipReason(f"waiting for run {run.run_id} ({run.tags.get(RANGE_START)} to "
                                 f"{run.tags.get(RANGE_END)}, {run.status.value})")
        repository = context.repository_def
        if repository is None:  # the daemon always passes it; only a hand-built context can lack it
            raise dg.DagsterInvariantViolationError(f"{sensor_name(entry)} needs the repository to find its job")
        asset_keys = sorted(repository.get_job(rolling_job_name).asset_layer.selected_asset_keys)
        graph = repository.asset_graph
        keys = partitions.get_partition_keys(current_time=datetime.now(UTC))
        loaded = set(keys)
        for key in asset_keys:
            loaded &= instance.get_materialized_partitions(key)
        earlier = instance.get_runs(mine)
        chunk = newest_missing_chunk(keys, loaded | _covered(partitions, earlier), _chunk_days(graph, asset_keys))
        if not chunk:
            failed = sorted(_covered(partitions, [r for r in earlier if r.status == dg.DagsterRunStatus.FAILURE])
                            - loaded)
            return dg.SkipReason(f"history of {entry.code} from {entry.start_date} is loaded" + (
                f", except the days of failed runs: {', '.join(failed)} (re-execute them)" if failed else ""))
        return dg.RunRequest(run_key=f"{entry.code}-history-{chunk[0]}-{chunk[-1]}", job_name=rolling_job_name,
                             tags={HISTORY_TAG: entry.code, RANGE_START: chunk[0], RANGE_END: chunk[-1]})

    return history


def _chunk_days(graph: dg.AssetGraph, asset_keys: Iterable[dg.AssetKey]) -> int:
    """As many days as one run of every selected asset may cover (the smallest multi-run backfill policy)."""
    limits = [policy.max_partitions_per_run for key in asset_keys
              if (policy := graph.get(key).backfill_policy) is not None and policy.max_partitions_per_run]
    return min(limits, default=FALLBACK_CHUNK_DAYS)
