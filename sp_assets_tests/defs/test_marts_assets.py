"""The marts as Dagster assets, materialized on a real (temporary) instance over fixture raw tables.

The raw tables come from ``sp_assets_tests/lib/marts/fixtures.py`` (numbers computed there by hand);
the raw assets, the finances ones included, are declared as specs so the marts wire to them as they
will once the finances domain is merged.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from sp_assets.defs.config import ConfigError, ProjectConfig, parse_config
from sp_assets.defs.marts.assets import AUTOMATION_SENSOR, build_marts, mart_key
from sp_assets.defs.partitions import daily_partitions, monthly_partitions
from sp_assets.defs.resources import WarehouseResource
from sp_assets.lib.warehouse import Warehouse
from sp_assets_tests.defs.rest_helpers import check_evaluations, failure_text
from sp_assets_tests.lib.marts.fixtures import create_raw_tables, write_fx_csv

warnings.filterwarnings("ignore", category=dg.BetaWarning)
RANGE = {"dagster/asset_partition_range_start": "2026-10-05", "dagster/asset_partition_range_end": "2026-10-06"}
DAILY_RAW = ("financial_events", "financial_event_groups", "order_items", "fba_inventory", "customer_returns",
             "settlements", "ledger_summary")
STORAGE = {"type": "GET_FBA_STORAGE_FEE_CHARGES_DATA", "table": "storage_fees"}


def _config(tmp_path: Path, codes: tuple[str, ...] = ("us", "de"), fx: str | None = None) -> ProjectConfig:
    fx_path = write_fx_csv(tmp_path / "fx_rates.csv", *([fx] if fx else []))
    return parse_config({"reporting_currency": "USD", "fx_rates": str(fx_path),
                         "defaults": {"start_date": "2026-09-01"},
                         "marketplaces": {code: {"reports": [STORAGE]} for code in codes}})


def _raw_specs(config: ProjectConfig, *, finances: bool = True) -> list[dg.AssetsDefinition]:
    """The raw assets the marts read, as specs (the tables themselves are the fixtures)."""
    specs = []
    for entry in config.marketplaces:
        for name in DAILY_RAW:
            if finances or not name.startswith("financial_"):
                specs.append(dg.AssetSpec([entry.code, name], partitions_def=daily_partitions(entry)))
        specs.append(dg.AssetSpec([entry.code, "storage_fees"], partitions_def=monthly_partitions(entry)))
    return [dg.AssetsDefinition(specs=[spec]) for spec in specs]


def _materialize(config: ProjectConfig, db: Path | str, names: list[str], *, tags: dict | None = None,
                 raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    marts = build_marts(config, _raw_specs(config))
    assets = [a for a in (marts.assets or []) if isinstance(a, dg.AssetsDefinition)]
    return dg.materialize(assets, selection=dg.AssetSelection.assets(*(mart_key(n) for n in names)),
                          resources={"warehouse": WarehouseResource(database=str(db))}, tags=tags,
                          raise_on_error=raise_on_error)


def _graph(*defs: dg.Definitions) -> dg.AssetGraph:
    resources = dg.Definitions(resources={"warehouse": WarehouseResource(database="unused.duckdb")})
    return dg.Definitions.merge(*defs, resources).get_repository_def().asset_graph


def test_the_marts_wire_to_the_raw_assets_that_exist(tmp_path: Path) -> None:
    config = _config(tmp_path)
    graph = _graph(dg.Definitions(assets=_raw_specs(config)), build_marts(config, _raw_specs(config)))
    parents = {k.to_user_string() for k in graph.get(mart_key("sku_daily_profit")).parent_keys}
    assert {"us/financial_events", "de/financial_events", "us/storage_fees", "marts/fx_rates"} <= parents
    assert graph.get(mart_key("settlement_reconciliation")).parent_keys >= {
        dg.AssetKey(["us", "financial_event_groups"]), dg.AssetKey(["de", "settlements"])}
    without = _graph(build_marts(config, _raw_specs(config, finances=False)))
    assert not any(k.path[-1].startswith("financial_") for k in without.get(mart_key("sku_daily_profit")).parent_keys)
    profit = graph.get(mart_key("sku_daily_profit"))
    assert profit.partitions_def is not None and profit.partitions_def.get_first_partition_key() == "2026-09-01"
    # Japan's local today is UTC tomorrow for nine hours a day: that mart day exists
    utc_tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert profit.partitions_def.get_last_partition_key() == utc_tomorrow
    assert graph.get(mart_key("returns")).partitions_def is None
    schema = profit.metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns][:5] == ["account", "marketplace", "day", "sku", "currency"]
    assert profit.metadata["grain"] == "account, marketplace, day, sku"
    sensor = build_marts(config, []).sensors[0]
    assert sensor.name == AUTOMATION_SENSOR and sensor.default_status == dg.DefaultSensorStatus.RUNNING


@pytest.mark.parametrize("engine", ["file", "ducklake"])
def test_materialized_marts_hold_the_hand_computed_numbers_and_their_checks_pass(
        tmp_path: Path, engine: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same numbers on a DuckDB file and on a DuckLake several machines share (the marts' SQL:
    temp views, window functions, partition replacement, the account column)."""
    config = _config(tmp_path)
    db: Path | str = tmp_path / "w.duckdb"
    if engine == "ducklake":
        db = f"ducklake:{request.getfixturevalue('new_pg_database')()}"
        monkeypatch.setenv("SP_ASSETS_DUCKLAKE_DATA_PATH", str(tmp_path / "lake"))
    create_raw_tables(Warehouse(db, lake_data_path=str(tmp_path / "lake")))
    first = _materialize(config, db, ["fx_rates", "returns", "settlement_reconciliation"])
    daily = _materialize(config, db, ["sku_daily_profit", "marketplace_daily", "inventory_cover"], tags=RANGE)
    evaluations = {**check_evaluations(first), **check_evaluations(daily)}
    assert len(evaluations) == 1 + 2 + 2 + 3 + 4 + 2 and all(e.passed for e in evaluations.values()), {
        k: e.metadata for k, e in evaluations.items() if not e.passed}
    warehouse = Warehouse(db)
    assert warehouse.query("select marketplace, day::varchar, net_proceeds::varchar, net_proceeds_rc::varchar "
                           "from marts.marketplace_daily order by all").rows() == [
        ("de", "2026-10-05", "25.50", "28.05"), ("us", "2026-10-05", "-27.49", "-27.49"),
        ("us", "2026-10-06", "10.00", "10.00")]  # storage (-0.32 a day) is beside net_proceeds, not in it
    assert warehouse.query("select difference::varchar from marts.settlement_reconciliation "
                           "where settlement_id = 'G1'").item() == "0.00"
    assert warehouse.query("select count(*) from marts.sku_daily_profit").item() == 5  # only the 2 days built


def _materializations(result: dg.ExecuteInProcessResult, name: str) -> dict[str | None, dict]:
    return {event.materialization.partition: dict(event.materialization.metadata)
            for event in result.get_asset_materialization_events()
            if event.materialization.asset_key == mart_key(name)}


def test_each_mart_day_of_a_multi_day_build_carries_its_own_rows_preview_and_write_mode(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = tmp_path / "w.duckdb"
    create_raw_tables(Warehouse(db))
    fx = _materialize(config, db, ["fx_rates"])
    (fx_md,) = _materializations(fx, "fx_rates").values()
    assert fx_md["write_mode"].value == "table replace"
    assert isinstance(fx_md["preview"], dg.TableMetadataValue) and fx_md["preview"].records
    daily = _materialize(config, db, ["sku_daily_profit"], tags=RANGE)
    held = dict(Warehouse(db).query("select day::varchar, count(*) from marts.sku_daily_profit group by 1").rows())
    assert len(set(held.values())) > 1, "the test needs days with different counts"
    by_day = _materializations(daily, "sku_daily_profit")
    assert sorted(by_day) == ["2026-10-05", "2026-10-06"]
    for key, md in by_day.items():
        assert md["dagster/row_count"].value == held[key], key
        assert md["write_mode"].value == "partition replace"
        assert md["window_start_utc"].value == datetime.fromisoformat(f"{key}T00:00:00+00:00").timestamp()
        assert {r.data["day"] for r in md["preview"].records} == {key}
        assert md["run_partitions"].value == "2026-10-05...2026-10-06 (2 partitions)"


def test_a_day_without_a_rate_fails_its_check_and_stops_the_roll_up(tmp_path: Path) -> None:
    config = _config(tmp_path, ("us", "de", "jp"))
    db = tmp_path / "w.duckdb"
    create_raw_tables(Warehouse(db), jp_events=True)
    _materialize(config, db, ["fx_rates"])
    result = _materialize(config, db, ["sku_daily_profit", "marketplace_daily"], tags=RANGE, raise_on_error=False)
    evaluation = check_evaluations(result)[("marts/sku_daily_profit", "sku_daily_profit_fx_rate")]
    assert not evaluation.passed
    assert evaluation.metadata["sample"].value == "JPY 2026-10-05"
    assert "fx_rates CSV" in evaluation.metadata["what_to_do"].value
    assert "blocking check(s) failed: sku_daily_profit_fx_rate" in failure_text(result)
    assert not Warehouse(db).table_exists("marts", "marketplace_daily")


def test_a_settlement_that_does_not_reconcile_fails_its_check(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = tmp_path / "w.duckdb"
    create_raw_tables(Warehouse(db))
    with Warehouse(db).connect() as connection:
        connection.execute("update us.settlements set total_amount = total_amount + 0.01 where row_number = 1")
    result = _materialize(config, db, ["settlement_reconciliation"], raise_on_error=False)
    evaluation = check_evaluations(result)[("marts/settlement_reconciliation", "settlement_reconciliation_difference_zero")]
    assert not evaluation.passed and evaluation.metadata["sample"].value == "default us G1: 0.01"


def test_a_negative_unit_count_fails_its_check(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = tmp_path / "w.duckdb"
    create_raw_tables(Warehouse(db))
    with Warehouse(db).connect() as connection:
        connection.execute("update us.order_items set quantity_ordered = -50 where amazon_order_id = 'O-3'")
    result = _materialize(config, db, ["returns"], raise_on_error=False)
    evaluation = check_evaluations(result)[("marts/returns", "returns_no_negative_units")]
    assert not evaluation.passed and "default us 2026-09-01 SKU-A" in evaluation.metadata["sample"].value


@pytest.mark.parametrize(("data", "message"), [
    ({"reporting_currency": "usd"}, "reporting_currency: 'usd' is not a currency"),
    ({"reporting_currency": "${CUR}"}, "reporting_currency: '${CUR}' looks like an unexpanded"),
    ({"fx_rates": "no/such/fx.csv"}, "fx_rates: no file at"),
    ({"fx_rate": "x.csv"}, "unknown key(s) ['fx_rate']"),
])
def test_reporting_currency_and_fx_rates_are_validated(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({**data, "marketplaces": {"us": {}}})
    assert message in str(error.value)


def test_the_reporting_currency_defaults_to_the_first_marketplaces() -> None:
    config = parse_config({"marketplaces": {"de": {}, "us": {}}})
    assert (config.reporting_currency, config.fx_rates) == ("EUR", None)


def test_raw_days_materialized_request_exactly_those_mart_days(tmp_path: Path) -> None:
    """The automation condition: a backfill of raw days (any age, not only the latest) asks for the same
    mart days once, and for nothing after they are handled."""
    config = _config(tmp_path)
    defs = dg.Definitions.merge(dg.Definitions(assets=_raw_specs(config)), build_marts(config, _raw_specs(config)),
                                dg.Definitions(resources={"warehouse": WarehouseResource(database="unused.duckdb")}))
    marts = [mart_key(name) for name in ("fx_rates", "sku_daily_profit", "marketplace_daily", "inventory_cover",
                                         "returns", "settlement_reconciliation")]

    def requested(result: dg.EvaluateAutomationConditionsResult) -> dict[str, set[str | None]]:
        return {k.to_user_string(): set(result.get_requested_partitions(k)) for k in marts
                if result.get_num_requested(k)}

    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert requested(first) == {"marts/fx_rates": {None}}  # loaded when missing; the others wait for data
        for day in ("2026-10-05", "2026-10-06", "2026-10-07"):
            instance.report_runless_asset_event(dg.AssetMaterialization(["us", "financial_events"], partition=day))
        second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        days = {"2026-10-05", "2026-10-06", "2026-10-07"}
        # the roll-up in the same tick (so the same run, after its input); fx_rates: still missing here
        assert requested(second) == {"marts/sku_daily_profit": days, "marts/marketplace_daily": days,
                                     "marts/settlement_reconciliation": {None}, "marts/fx_rates": {None}}
        third = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
        assert "marts/sku_daily_profit" not in requested(third)
