"""Assets writing to a DuckLake warehouse (``SP_ASSETS_DUCKDB=ducklake:<PostgreSQL URL>``, issue 19).

The warehouse's own tests (``lib/warehouse``) run its SQL on DuckLake and test two writers with an
analyst; the marts run on it in ``test_marts_assets.py``. Here a report asset runs through Dagster on a
lake with nothing else configured: its rows land in the lake, and its report ledger goes to the lake's
catalog database, which every machine writing the lake reaches; and the lake's nightly maintenance job.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import psycopg2  # type: ignore[import-untyped]
import pytest

from sp_assets.defs.marketplace_factory import project_definitions
from sp_assets.defs.resources import WarehouseResource
from sp_assets.defs.warehouse_maintenance import JOB_NAME, SCHEDULE_CRON
from sp_assets.lib.warehouse import Warehouse
from sp_assets_tests.lib.warehouse.lake_processes import write_days

from .conftest import AssetEnv, make_config, materialization_metadata, past_day
from .test_report_assets import ALL_ORDERS, assets_named


def test_a_report_asset_writes_to_a_ducklake_and_keeps_its_ledger_in_the_catalog_database(
        asset_env: AssetEnv, new_pg_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    url = new_pg_database()
    monkeypatch.setenv("SP_ASSETS_DUCKDB", f"ducklake:{url}")
    monkeypatch.setenv("SP_ASSETS_DUCKLAKE_DATA_PATH", str(tmp_path / "lake"))
    monkeypatch.delenv("SP_ASSETS_REPORT_LEDGER", raising=False)
    config = make_config({"us": {}})
    resources = {**asset_env.resources(config), "warehouse": WarehouseResource()}  # the location from the env
    result = dg.materialize(assets_named(config.get("us"), "all_orders_report"), resources=resources,
                            partition_key=past_day(12).isoformat())
    rows = materialization_metadata(result, ["us", "all_orders_report"])[0]["dagster/row_count"]
    lake = Warehouse(f"ducklake:{url}")
    assert rows == lake.row_count("us", "all_orders_report") > 0
    assert lake.row_count("amazon", "all_orders_report") == rows
    assert list(lake.loads("us", "all_orders_report")["source"]) == ["sandbox"]
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT report_type, status FROM reports")
        assert cursor.fetchall() == [(ALL_ORDERS, "DONE")]
    assert not list(tmp_path.rglob("*.duckdb")) and not list(tmp_path.rglob("*.reports.sqlite")), \
        "no local database or ledger file"
    assert list((tmp_path / "lake").rglob("*.parquet")), "the rows are Parquet files in the lake's data folder"


def test_the_nightly_maintenance_job_exists_only_for_a_lake_and_compacts_it(
        asset_env: AssetEnv, new_pg_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    config = make_config({"us": {}})
    assert not project_definitions(config).get_repository_def().has_job(JOB_NAME), "a DuckDB file needs none"
    url = new_pg_database()
    monkeypatch.setenv("SP_ASSETS_DUCKDB", f"ducklake:{url}")
    monkeypatch.setenv("SP_ASSETS_DUCKLAKE_DATA_PATH", str(tmp_path / "lake"))
    repository = project_definitions(config).get_repository_def()
    schedule = repository.get_schedule_def(f"{JOB_NAME}_nightly")
    assert (schedule.cron_schedule, schedule.execution_timezone) == (SCHEDULE_CRON, "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    lake = Warehouse(f"ducklake:{url}", lake_data_path=str(tmp_path / "lake"))
    write_days(lake, [past_day(3), past_day(2)], 2)
    before = lake.query("SELECT * FROM us.orders ORDER BY amazon_order_id")
    result = repository.get_job(JOB_NAME).execute_in_process(resources={"warehouse": WarehouseResource()})
    assert result.success
    (output,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = {k: v.value for k, v in output.event_specific_data.metadata.items()}
    assert metadata["files_merged"] == 2 and metadata["files_left"] == 1 and metadata["snapshots_kept_days"] == 7
    assert metadata["files_deleted"] == 0, "the replaced days' files are kept for time travel (7 days)"
    assert lake.query("SELECT * FROM us.orders ORDER BY amazon_order_id").equals(before)
