"""Issue 14: every seller flat file the other connectors offer, configured, materialized and typed.

One module-scoped load: the types are configured under ``reports:`` of one marketplace, the snapshot
ones materialized for today's partition and the dated ones for one past day (a day on which every
sparse generator, such as removal shipments, has rows), against the session sandbox over HTTP on a
real Dagster instance. Each type is then checked on its own: rows loaded, the catalog key unique,
every declared column typed in DuckDB as the catalog says with no value left unparsed, the window
asked for the one its cadence implies, and the key check of its step passed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import requests

from sp_assets.defs.config import MarketplaceConfig
from sp_assets.defs.reports.assets import build_report_assets
from sp_assets.lib.reports import catalog
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.report_documents_more import MORE_FLAT_FILE_GENERATORS
from sp_assets.sandbox.server import SandboxServer

from .conftest import AssetEnv, day_window, make_config, materialization_metadata
from .rest_helpers import check_evaluations, failure_text

TYPES = sorted(MORE_FLAT_FILE_GENERATORS)
SQL_TYPES = {catalog.VARCHAR: "VARCHAR", catalog.MONEY: "DECIMAL(18,2)", catalog.INT: "BIGINT", catalog.DATE: "DATE", catalog.DOUBLE: "DOUBLE",
             catalog.TIMESTAMP: "TIMESTAMP WITH TIME ZONE"}


@dataclass
class Loaded:
    env: AssetEnv
    entry: MarketplaceConfig
    day: date
    results: dict[str, dg.ExecuteInProcessResult]  # by report type


def _window(entry: MarketplaceConfig, row: catalog.ReportType, day: date) -> tuple[datetime, datetime]:
    """What a partition of ``day`` asks Amazon for: the local day, or the UTC day of a calendar type."""
    if row.window == catalog.CALENDAR:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1)
    return day_window(entry, day)


def _dated_day(sandbox: SandboxServer, entry: MarketplaceConfig, dated: list[catalog.ReportType]) -> date:
    """The most recent day at least 10 days back on which every dated type has rows.

    Generating a document costs: a day is given up at its first empty type, and that type is asked
    first on the next day (the sparse ones are empty on most days)."""
    now = datetime.now(UTC)
    order = list(dated)
    for back in range(10, 60):
        day = date.today() - timedelta(days=back)
        for row in order:
            start, end = _window(entry, row, day)
            spec = docs.DocumentSpec(row.name, (entry.marketplace_id,), start, end - timedelta(seconds=1), {}, now)
            if MORE_FLAT_FILE_GENERATORS[row.name](sandbox.seller, spec, io.StringIO()) == 0:
                order.remove(row)
                order.insert(0, row)
                break
        else:
            return day
    raise AssertionError("no day in the last 60 has rows for every dated report type")


@pytest.fixture(scope="module")
def loaded(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    tmp = tmp_path_factory.mktemp("more-reports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SP_API_ENDPOINT", sandbox.base_url)
        patch.setenv("SP_SANDBOX_SPEED", str(sandbox.config.speed))
        patch.setenv("SP_ASSETS_DATA_DIR", str(tmp / "data"))
        patch.setenv("SP_ASSETS_DUCKDB", str(tmp / "data" / "test.duckdb"))
        for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN"):
            patch.delenv(name, raising=False)
        env = AssetEnv(sandbox=sandbox, db_path=tmp / "data" / "test.duckdb")
        config = make_config({"us": {"reports": [{"type": name} for name in TYPES]}})
        entry = config.get("us")
        rows = [catalog.lookup(name) for name in TYPES]
        by_table = {row.table_name: row.name for row in rows}
        assets = {by_table[key.path[-1]]: a for a in build_report_assets(entry) for key in a.keys
                  if key.path[-1] in by_table}
        assert sorted(assets) == TYPES, "every type's entry builds one asset, named by its catalog table"
        today = datetime.now(ZoneInfo(entry.timezone)).date()
        day = _dated_day(sandbox, entry, [row for row in rows if not row.is_snapshot])
        results: dict[str, dg.ExecuteInProcessResult] = {}
        for snapshot, partition in ((True, today), (False, day)):
            group = [assets[row.name] for row in rows if row.is_snapshot == snapshot]
            # snapshot types are unpartitioned: they take today's snapshot
            result = env.materialize(group, config, partition_key=None if snapshot else partition.isoformat())
            assert result.success
            results.update({row.name: result for row in rows if row.is_snapshot == snapshot})
        yield Loaded(env, entry, day, results)


@pytest.mark.parametrize("report_type", TYPES)
def test_the_report_loads_typed_rows_with_a_unique_key(loaded: Loaded, report_type: str) -> None:
    row = catalog.lookup(report_type)
    table, wh = row.table_name, loaded.env.warehouse
    count = wh.row_count("us", table)
    assert count > 0, f"{report_type}: no rows loaded"

    key = ", ".join(row.key)
    duplicates = wh.query(f"select {key}, count(*) from us.{table} group by all having count(*) > 1").rows()
    assert duplicates == [], f"{report_type}: key ({key}) repeats"
    nulls = wh.query(f"select count(*) from us.{table} where " + " or ".join(f"{c} is null" for c in row.required))
    assert nulls.item() == 0, f"{report_type}: a required key column is null"

    columns = wh.columns("us", table)
    declared = {name: SQL_TYPES[sql] for name, sql in row.column_types.items()}
    assert {name: columns.get(name) for name in declared} == declared
    unparsed = [c for c in columns if c.endswith("__raw")]
    assert unparsed == [], f"{report_type}: values the declared types could not parse: {unparsed}"

    (sent,) = materialization_metadata(loaded.results[report_type], ["us", table])[0]["reports"]
    if row.is_snapshot:
        assert sent["data_start_time"] is None, "a snapshot asks for the current state, no window"
    else:
        start, end = _window(loaded.entry, row, loaded.day)
        assert (sent["data_start_time"], sent["data_end_time"]) == (
            start.isoformat(), (end - timedelta(seconds=1)).isoformat()), f"{row.window} window"
    evaluation = check_evaluations(loaded.results[report_type])[(f"us/{table}", f"{table}_key")]
    assert evaluation.passed


@pytest.mark.parametrize("report_type", ["GET_LEDGER_DETAIL_VIEW_DATA", "GET_FBA_REIMBURSEMENTS_DATA"])
def test_a_partition_older_than_amazons_history_is_refused_before_any_request(
        asset_env: AssetEnv, report_type: str) -> None:
    row = catalog.lookup(report_type)
    assert row.history_days == catalog.EIGHTEEN_MONTHS
    config = make_config({"us": {"reports": [{"type": report_type}]}},
                         start_date=(date.today() - timedelta(days=700)).isoformat())
    entry = config.get("us")
    (asset,) = [a for a in build_report_assets(entry) if row.table_name in {k.path[-1] for k in a.keys}]
    before = requests.get(asset_env.sandbox.base_url + "/_sandbox/stats", timeout=10).json()
    old_day = date.today() - timedelta(days=row.history_days + 30)
    refused = asset_env.materialize([asset], config, partition_key=old_day.isoformat(), raise_on_error=False)
    assert not refused.success
    assert f"Amazon keeps {row.history_days} days of {report_type}" in failure_text(refused)
    assert "Nothing was requested or written" in failure_text(refused)
    after = requests.get(asset_env.sandbox.base_url + "/_sandbox/stats", timeout=10).json()
    assert after.get(f"createReport.{report_type}") == before.get(f"createReport.{report_type}")
