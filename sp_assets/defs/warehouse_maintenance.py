"""Nightly upkeep of a DuckLake warehouse (``SP_ASSETS_DUCKDB=ducklake:...``, ``lib/warehouse/lake.py``).

Every write to a lake adds Parquet files and a snapshot to its catalog; a year of daily partition
replacements would leave thousands of small files, most of them replaced and still kept for time
travel. The ``warehouse_maintenance`` job merges each table's small files, expires the snapshots older
than ``KEEP_SNAPSHOTS`` and deletes the files nothing refers to any more, under the writers' lock (a
write waits a moment; an analyst's read does not). Its schedule runs it at 03:30 UTC; a run that writes
meanwhile waits on the writers' lock for the seconds it takes (README "Production"). A DuckDB file needs
none of it (DuckDB reuses the space of deleted rows itself), so the job exists only where the warehouse
is a lake.
"""


from datetime import timedelta

import dagster as dg
from dagster import OpExecutionContext

from sp_assets.defs.paths import warehouse_location
from sp_assets.defs.resources import WarehouseResource
from sp_assets.lib.warehouse.lake import is_lake

JOB_NAME = "warehouse_maintenance"
SCHEDULE_CRON = "30 3 * * *"
KEEP_SNAPSHOTS = timedelta(days=7)  # how far back an analyst can time-travel (AT (TIMESTAMP => ...))
KEEP_FILES = timedelta(hours=1)  # a file of an expired snapshot outlives it this long, for running reads


def maintain_warehouse(context: OpExecutionContext, warehouse: WarehouseResource) -> dg.Output[None]:
    """The job's one op (built in ``build_warehouse_maintenance``: the defs folder loads every Dagster
    object a module holds, and the job must exist only for a lake)."""
    done = warehouse.warehouse().maintain(KEEP_SNAPSHOTS, KEEP_FILES)
    if done is None:
        context.log.info("the warehouse is a DuckDB file, or a lake nothing was written to yet: nothing to do")
        return dg.Output(None)
    context.log.info(f"merged {done.files_merged} files, expired {done.snapshots_expired} snapshots, "
                     f"deleted {done.files_deleted} files; {done.files_left} data files left")
    return dg.Output(None, metadata={"files_merged": done.files_merged, "snapshots_expired": done.snapshots_expired,
                                     "files_deleted": done.files_deleted, "files_left": done.files_left,
                                     "snapshots_kept_days": KEEP_SNAPSHOTS.days})


def build_warehouse_maintenance() -> dg.Definitions:
    """The job and its nightly schedule (running by default) where the warehouse is a lake; else nothing."""
    if not is_lake(warehouse_location()):
        return dg.Definitions()
    op = dg.op(name="maintain_warehouse", description="Merge the lake's small files, expire old snapshots, "
               "delete unreferenced files.")(maintain_warehouse)

    @dg.job(name=JOB_NAME, description=__doc__.splitlines()[0], executor_def=dg.in_process_executor)
    def warehouse_maintenance() -> None:
        op()

    schedule = dg.ScheduleDefinition(name=f"{JOB_NAME}_nightly", job=warehouse_maintenance,
                                     cron_schedule=SCHEDULE_CRON, execution_timezone="UTC",
                                     default_status=dg.DefaultScheduleStatus.RUNNING)
    return dg.Definitions(jobs=[warehouse_maintenance], schedules=[schedule])
