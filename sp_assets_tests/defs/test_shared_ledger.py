"""The report ledger in PostgreSQL (``SP_ASSETS_REPORT_LEDGER=postgresql://...``, issue 19).

On one machine the ledger is a SQLite file beside the DuckDB file; when runs of one account may land on
several machines, a relaunch on another machine must still find the report its partition asked for. The
lifecycle tests (``lib/reports/test_lifecycle.py``) run every ledger behaviour on both engines; here a
report asset runs through Dagster on a PostgreSQL ledger, and a wrong ledger URL fails the step before
any report is requested.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg2  # type: ignore[import-untyped]
import pytest
import requests

from .conftest import AssetEnv, make_config, materialization_metadata, past_day
from .rest_helpers import failure_text
from .test_report_assets import ALL_ORDERS, assets_named


def test_a_report_asset_keeps_its_ledger_in_postgres(asset_env: AssetEnv, new_pg_database: Callable[[], str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url = new_pg_database()
    monkeypatch.setenv("SP_ASSETS_REPORT_LEDGER", url)
    config = make_config({"us": {}})
    day = past_day(12)
    result = asset_env.materialize(assets_named(config.get("us"), "all_orders_report"), config,
                                   partition_key=day.isoformat())
    rows = materialization_metadata(result, ["us", "all_orders_report"])[0]["dagster/row_count"]
    assert rows == asset_env.warehouse.row_count("us", "all_orders_report") > 0
    stats = requests.get(asset_env.sandbox.base_url + "/_sandbox/stats", timeout=10).json()
    assert stats.get("createReport.requests", 0) >= 1  # the counter the failure test reads is live
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT report_type, status, consumed_at IS NOT NULL FROM reports")
        assert cursor.fetchall() == [(ALL_ORDERS, "DONE", True)]  # stored, so the next run asks anew
    assert not list(asset_env.db_path.parent.glob("*.reports.sqlite")), "no SQLite ledger beside the database"


def test_a_ledger_url_that_is_not_postgres_fails_before_any_request(asset_env: AssetEnv,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SP_ASSETS_REPORT_LEDGER", "mysql://seller:hunter2-ledger@db.example/ledger")
    before = requests.get(asset_env.sandbox.base_url + "/_sandbox/stats", timeout=10).json()
    config = make_config({"us": {}})
    result = asset_env.materialize(assets_named(config.get("us"), "all_orders_report"), config,
                                   partition_key=past_day(12).isoformat(), raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "SP_ASSETS_REPORT_LEDGER='mysql://seller:***@db.example/ledger'" in text and "postgresql://" in text
    assert "hunter2-ledger" not in text
    after = requests.get(asset_env.sandbox.base_url + "/_sandbox/stats", timeout=10).json()
    assert after.get("createReport.requests", 0) == before.get("createReport.requests", 0), "no report requested"
    assert not asset_env.warehouse.table_exists("us", "all_orders_report")
