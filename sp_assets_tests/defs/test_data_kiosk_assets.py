"""The Data Kiosk assets on a real (temporary) Dagster instance against the session sandbox: typed
tables, checks in the step, partition replace on a rerun, the configuration key, and agreement of the
datasets with each other and with the seller's orders."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
import requests

from sp_assets.defs.config import ConfigError
from sp_assets.defs.data_kiosk.assets import build_data_kiosk_assets, build_data_kiosk_checks
from sp_assets.defs.reports import runner
from sp_assets.defs.resources import sp_api_resource
from sp_assets.lib import data_kiosk as dk
from sp_assets_tests.defs.conftest import AssetEnv, make_config, materialization_metadata, past_day
from sp_assets_tests.defs.rest_helpers import check_evaluations, failure_text


def _created(env: AssetEnv) -> int:
    return requests.get(env.sandbox.base_url + "/_sandbox/stats", timeout=10).json().get("createQuery.served", 0)


def test_every_dataset_materializes_into_a_typed_table_with_its_checks(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}}, reports=[])
    entry = config.marketplaces[0]
    assert entry.data_kiosk == tuple(dk.DATASETS), "every dataset is loaded by default"
    day = past_day(12)
    assets = build_data_kiosk_assets(entry) + build_data_kiosk_checks(entry)
    before = _created(asset_env)
    with dg.instance_for_test() as instance:
        result = asset_env.materialize(assets, config, partition_key=day.isoformat(), instance=instance)
        assert result.success
        for dataset in dk.DATASETS.values():
            record = instance.get_latest_materialization_event(dg.AssetKey(["us", dataset.table]))
            assert record is not None and record.asset_materialization is not None
            assert record.asset_materialization.partition == day.isoformat()
    assert _created(asset_env) - before == 3, "one query per dataset and day"

    warehouse = asset_env.warehouse
    types = {r["column_name"]: r["column_type"]
             for r in warehouse.query("describe us.kiosk_economics").to_dicts()}
    assert types["ordered_product_sales"] == "DECIMAL(18,2)" and types["net_proceeds"] == "DECIMAL(18,2)"
    assert types["partition_date"] == "DATE" and types["start_date"] == "DATE"
    assert types["units_ordered"] == "BIGINT" and types["fees"] == "JSON" and types["query_id"] == "VARCHAR"
    economics = warehouse.query("select * from us.kiosk_economics").to_dicts()
    assert economics and {r["partition_date"] for r in economics} == {day}
    assert all(r["net_proceeds"] == r["net_product_sales"] - r["total_fees"] for r in economics)
    (by_date,) = warehouse.query("select * from us.kiosk_sales_traffic_by_date").to_dicts()
    by_asin = warehouse.query("select * from us.kiosk_sales_traffic_by_asin").to_dicts()
    assert by_date["start_date"] == day and isinstance(by_date["ordered_product_sales"], Decimal)
    # The datasets agree: the day's units and sales per SKU, per ASIN and in total are the same orders.
    assert sum(r["units_ordered"] for r in economics) == by_date["units_ordered"] > 0
    assert sum(r["ordered_product_sales"] for r in economics) == by_date["ordered_product_sales"]
    assert sum(r["units_ordered"] for r in by_asin) == by_date["units_ordered"]

    checks = check_evaluations(result)
    for dataset in dk.DATASETS.values():
        evaluation = checks[(f"us/{dataset.table}", f"{dataset.table}_primary_key")]
        assert evaluation.passed
    metadata = materialization_metadata(result, ["us", "kiosk_economics"])[0]
    assert metadata["dagster/row_count"] == len(economics) and metadata["resumed"] is False
    assert metadata["query_ids"] == economics[0]["query_id"] and metadata["source"] == "sandbox"


def test_a_rerun_replaces_the_partition_with_a_fresh_query(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"data_kiosk": ["sales_traffic_by_date"]}}, reports=[])
    entry = config.marketplaces[0]
    day = past_day(13)
    assets = build_data_kiosk_assets(entry) + build_data_kiosk_checks(entry)
    assert [a.key.to_user_string() for a in assets] == ["us/kiosk_sales_traffic_by_date"]
    first = asset_env.materialize(assets, config, partition_key=day.isoformat())
    again = asset_env.materialize(assets, config, partition_key=day.isoformat())
    assert first.success and again.success
    rows = asset_env.warehouse.query("select query_id from us.kiosk_sales_traffic_by_date").to_dicts()
    ids = [materialization_metadata(r, ["us", "kiosk_sales_traffic_by_date"])[0]["query_ids"] for r in (first, again)]
    assert len(rows) == 1 and rows[0]["query_id"] == ids[1] != ids[0], "the consumed query is not resumed"


def test_the_configuration_lists_datasets_and_refuses_unknown_ones() -> None:
    assert make_config({"us": {"data_kiosk": []}}).marketplaces[0].data_kiosk == ()
    with pytest.raises(ConfigError, match=r"marketplaces\.us\.data_kiosk\[0\]: 'sales' is not a Data Kiosk dataset; "
                                          r"allowed: economics, sales_traffic_by_date, sales_traffic_by_asin"):
        make_config({"us": {"data_kiosk": ["sales"]}})
    with pytest.raises(ConfigError, match="twice"):
        make_config({"us": {"data_kiosk": ["economics", "economics"]}})


def test_a_backfill_range_asks_one_query_per_day(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"data_kiosk": ["sales_traffic_by_date"]}}, reports=[])
    entry = config.marketplaces[0]
    first, last = past_day(16), past_day(14)
    before = _created(asset_env)
    result = asset_env.materialize(build_data_kiosk_assets(entry), config, first=first.isoformat(),
                                   last=last.isoformat())
    assert result.success and _created(asset_env) - before == 3
    rows = asset_env.warehouse.query("select partition_date, start_date from us.kiosk_sales_traffic_by_date "
                                     "order by 1").to_dicts()
    assert [(r["partition_date"], r["start_date"]) for r in rows] == [(d, d) for d in (first, past_day(15), last)]


def test_a_fatal_query_fails_the_run_without_retry_and_a_relaunch_asks_anew(
        sandbox_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = sandbox_factory(faults="fatal=first")
    for name, value in (("SP_API_ENDPOINT", sandbox.base_url), ("SP_SANDBOX_SPEED", str(sandbox.config.speed)),
                        ("SP_ASSETS_DATA_DIR", str(tmp_path / "data")),
                        ("SP_ASSETS_DUCKDB", str(tmp_path / "data" / "test.duckdb"))):
        monkeypatch.setenv(name, value)
    for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    env = AssetEnv(sandbox=sandbox, db_path=tmp_path / "data" / "test.duckdb")
    config = make_config({"us": {"data_kiosk": ["economics"]}}, reports=[])
    assets = build_data_kiosk_assets(config.marketplaces[0])
    day = past_day(12).isoformat()
    failed = env.materialize(assets, config, partition_key=day, raise_on_error=False)
    assert not failed.success and _created(env) == 1, "FATAL is not retried"
    text = failure_text(failed)
    assert "ended FATAL" in text and "fault injection" in text and "nothing was written" in text
    assert not env.warehouse.table_exists("us", "kiosk_economics"), "nothing was written"
    again = env.materialize(assets, config, partition_key=day)
    assert again.success and _created(env) == 2
    assert env.warehouse.row_count("us", "kiosk_economics") > 0


def test_a_relaunch_after_a_crash_resumes_the_query_the_crashed_run_created(asset_env: AssetEnv) -> None:
    """What a run that died right after createQuery leaves: the query id in the ledger. The relaunch
    polls that query (no second createQuery) and says it resumed."""
    config = make_config({"us": {"data_kiosk": ["sales_traffic_by_date"]}}, reports=[])
    entry = config.marketplaces[0]
    day = past_day(17)
    request = dk.KioskRequest.build(dk.SALES_TRAFFIC_BY_DATE, entry.marketplace_id, day)
    client = sp_api_resource(entry).client()  # the same credentials the asset's resource uses
    crashed_query = dk.create_query(client, request.query)
    runner.ledger().record_requested(client.credential_id, request.ledger_key, crashed_query)
    before = _created(asset_env)
    result = asset_env.materialize(build_data_kiosk_assets(entry), config, partition_key=day.isoformat())
    assert result.success and _created(asset_env) == before, "no second createQuery for the day"
    metadata = materialization_metadata(result, ["us", "kiosk_sales_traffic_by_date"])[0]
    assert metadata["query_ids"] == crashed_query and metadata["resumed"] is True
    (row,) = asset_env.warehouse.query("select query_id from us.kiosk_sales_traffic_by_date").to_dicts()
    assert row["query_id"] == crashed_query
