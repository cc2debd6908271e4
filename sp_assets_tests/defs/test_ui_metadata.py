"""Issue 16: what the Dagster UI shows per partition is true, and says enough.

A run of several partitions (a backfill chunk: ``BackfillPolicy.multi_run``) records one
materialization per partition. Each must carry its own day's row count (what DuckDB holds for that
day), window, preview and write counts, not the run's totals; the run names its range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import polars as pl

from sp_assets.defs.common import day_write, preview, rows_by_partition
from sp_assets.defs.orders.assets import build_orders_assets
from sp_assets.defs.reports.assets import build_report_assets

from .conftest import AssetEnv, day_window, make_config, past_day, snapshot_date_config


def by_partition(result: dg.ExecuteInProcessResult, key: list[str]) -> dict[str, dict]:
    """The metadata of each partition's materialization of ``key`` in the run, as plain values."""
    out = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if list(materialization.asset_key.path) == key:
            out[materialization.partition] = dict(materialization.metadata)
    return out


def held_per_day(env: AssetEnv, table: str) -> dict[date, int]:
    return dict(env.warehouse.query(f"select partition_date, count(*) from {table} group by 1").rows())


def test_each_partition_of_a_multi_day_orders_run_carries_its_own_day(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.get("us")
    days = [past_day(14), past_day(13), past_day(12)]
    keys = [d.isoformat() for d in days]
    result = asset_env.materialize(build_orders_assets(entry)[:1], config, first=keys[0], last=keys[-1])
    assert result.success
    for table in ("orders", "order_items"):
        held = held_per_day(asset_env, f"us.{table}")
        assert len(set(held.values())) > 1, "the test needs days with different counts"
        metadata = by_partition(result, ["us", table])
        assert sorted(metadata) == keys
        for day, key in zip(days, keys, strict=True):
            entry_md = metadata[key]
            assert entry_md["dagster/row_count"].value == held[day], (table, key)
            start, end = day_window(entry, day)
            assert entry_md["window_start_utc"].value == start.timestamp()
            assert entry_md["window_end_utc"].value == end.timestamp()
            write = entry_md["write"].value
            assert (write["rows"], write["inserted"], write["partition_start"]) == (held[day], held[day], key)
            table_preview = entry_md["preview"]
            assert isinstance(table_preview, dg.TableMetadataValue)
            assert {r.data["partition_date"] for r in table_preview.records} == {key}
            assert entry_md["run_partitions"].value == f"{keys[0]}...{keys[-1]} (3 partitions)"
            assert entry_md["write_mode"].value == "partition replace"


def test_a_merge_over_several_days_claims_no_per_day_count(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.get("us")
    keys = [past_day(13).isoformat(), past_day(12).isoformat()]
    result = asset_env.materialize(build_orders_assets(entry)[1:2], config, first=keys[0], last=keys[-1])
    assert result.success
    total = asset_env.warehouse.row_count("us", "orders_upsert")
    metadata = by_partition(result, ["us", "orders_upsert"])
    assert sorted(metadata) == keys
    for md in metadata.values():
        assert "dagster/row_count" not in md and md["run_rows"].value == total
        assert md["write_mode"].value == "merge"


def test_each_partition_of_a_multi_day_report_run_carries_its_own_load(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.get("us")
    (asset,) = [a for a in build_report_assets(entry) if {k.path[-1] for k in a.keys} == {"all_orders_report"}]
    days = [past_day(13), past_day(12)]
    keys = [d.isoformat() for d in days]
    result = asset_env.materialize([asset], config, first=keys[0], last=keys[-1])
    assert result.success
    held = held_per_day(asset_env, "us.all_orders_report")
    metadata = by_partition(result, ["us", "all_orders_report"])
    report_ids = set()
    for day, key in zip(days, keys, strict=True):
        assert metadata[key]["dagster/row_count"].value == held[day] > 0
        assert metadata[key]["write"].value["rows"] == held[day]
        assert metadata[key]["write"].value["partition_start"] == key
        assert metadata[key]["report_status"].value == "DONE"
        report_ids.add(metadata[key]["report_id"].value)
    assert len(report_ids) == 2  # one report per day, each partition names its own


# ------------------------------------------------------------------------------------------ helpers
def test_rows_by_partition_groups_by_the_partition_column() -> None:
    frame = pl.DataFrame({"partition_date": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 2)], "x": [1, 2, 3]})
    assert rows_by_partition(frame, "partition_date") == {date(2026, 1, 1): 2, date(2026, 1, 2): 1}
    assert rows_by_partition(frame.head(0), "partition_date") == {}
    assert rows_by_partition(frame, None) is None
    assert rows_by_partition(frame, "snapshot_date") is None


def test_the_preview_is_a_typed_table_with_exact_values() -> None:
    frame = pl.DataFrame({"amount": [Decimal("11.01")], "day": [date(2026, 1, 2)], "n": [3], "flag": [True],
                          "note": [None]}, schema_overrides={"amount": pl.Decimal(18, 2), "note": pl.String})
    shown = preview(frame)
    assert isinstance(shown, dg.TableMetadataValue)
    assert [c.name for c in shown.schema.columns] == ["amount", "day", "n", "flag", "note"]
    assert shown.records[0].data == {"amount": "11.01", "day": "2026-01-02", "n": 3, "flag": True, "note": None}
    empty = preview(frame.head(0))
    assert isinstance(empty, dg.TableMetadataValue) and empty.records == []


def test_a_days_share_of_a_multi_day_replace_keeps_the_write_shape() -> None:
    run_write = {"table": "us.orders", "operation": "replace_partition", "rows": 300, "inserted": 300,
                 "deleted": 120, "partition_start": "2026-01-01", "partition_end": "2026-01-04", "write_s": 0.2}
    start = datetime(2026, 1, 2, tzinfo=UTC)
    share = day_write(run_write, 99, start, start + timedelta(days=1))
    assert share == {"table": "us.orders", "operation": "replace_partition", "rows": 99, "inserted": 99,
                     "partition_start": "2026-01-02", "partition_end": "2026-01-03"}


# ------------------------------------------------------------------------------------------ definitions
ALLOWED_DOMAINS = {"orders", "inventory", "pricing", "catalog", "shipments", "reports", "finances", "sellers",
                   "marts"}


def _graph(marketplaces: dict) -> dg.AssetGraph:
    from sp_assets.defs.marketplace_factory import project_definitions

    return project_definitions(make_config(marketplaces)).resolve_asset_graph()


def test_every_asset_definition_names_its_table_columns_domain_kinds_owners_and_code_version() -> None:
    graph = _graph({"us": {}, "de": {"owners": ["team:eu_sellers", "ana@example.com"]}})
    keys = graph.materializable_asset_keys
    assert len(keys) > 40
    # a marketplace's own owners; the marts span every marketplace, so every marketplace's owners own them
    owners = {"us": ["team:sp_assets"], "de": ["team:eu_sellers", "ana@example.com"],
              "marts": ["team:sp_assets", "team:eu_sellers", "ana@example.com"]}
    for key in keys:
        node = graph.get(key)
        code, name = key.path
        assert node.metadata["dagster/table_name"] == f"{code}.{name}", key
        schema = node.metadata["dagster/column_schema"]
        assert isinstance(schema, dg.TableSchema), key
        if key == dg.AssetKey(["marts", "fx_rates"]):  # the user's three-column CSV, as it is
            assert [c.name for c in schema.columns] == ["date", "currency", "rate"]
        else:
            assert len(schema.columns) > 5, key
        assert node.tags["sp_assets/domain"] in ALLOWED_DOMAINS, key
        assert (node.tags["sp_assets/domain"] == "marts") == (code == "marts"), key
        assert {"duckdb", "python"} <= node.kinds and node.kinds <= {"amazon", "duckdb", "python"}, key
        assert node.owners == owners[code], key
        assert node.code_version and node.code_version.startswith("1-"), key
    orders = graph.get(dg.AssetKey(["us", "orders"]))
    pk = next(c for c in orders.metadata["dagster/column_schema"].columns if c.name == "amazon_order_id")
    assert pk.type == "VARCHAR" and pk.constraints.nullable is False
    assert graph.get(dg.AssetKey(["us", "inventory_supply_current"])).kinds == {"duckdb", "python"}
    assert graph.get(dg.AssetKey(["us", "settlements"])).tags["sp_assets/domain"] == "finances"
    assert graph.get(dg.AssetKey(["us", "inbound_shipments"])).tags["sp_assets/domain"] == "shipments"
    for name in ("financial_events", "financial_event_groups", "transactions", "fee_estimates"):
        assert graph.get(dg.AssetKey(["us", name])).tags["sp_assets/domain"] == "finances", name
    assert graph.get(dg.AssetKey(["us", "kiosk_economics"])).kinds == {"amazon", "duckdb", "python"}
    assert graph.get(dg.AssetKey(["marts", "sku_daily_profit"])).kinds == {"duckdb", "python"}


def test_owners_are_checked_when_the_configuration_loads() -> None:
    import pytest

    from sp_assets.defs.config import ConfigError

    with pytest.raises(ConfigError, match=r"marketplaces.us.owners\[0\]: 'sp team' is not an owner; allowed: "
                                          r"team:<name>"):
        make_config({"us": {"owners": ["sp team"]}})
    assert make_config({"us": {}}, owners="team:data").get("us").owners == ("team:data",)


def test_the_column_schema_is_what_duckdb_holds(asset_env: AssetEnv) -> None:
    """The definition's columns and types against the tables a run created (orders and a report)."""
    from sp_assets.lib.tablespec import normalize_sql_type

    config = make_config({"us": {}})
    entry = config.get("us")
    (report,) = [a for a in build_report_assets(entry) if {k.path[-1] for k in a.keys} == {"all_orders_report"}]
    orders = build_orders_assets(entry)[0]
    assert asset_env.materialize([orders, report], config, partition_key=past_day(12).isoformat()).success
    graph = _graph({"us": {}})
    for table in ("orders", "order_items", "all_orders_report"):
        held = {name: normalize_sql_type(kind) for name, kind in asset_env.warehouse.columns("us", table).items()}
        declared = {c.name: c.type for c in graph.get(dg.AssetKey(["us", table])).metadata[
            "dagster/column_schema"].columns}
        assert declared == {name: kind for name, kind in held.items() if not name.endswith("__raw")}, table


def test_descriptions_say_what_the_table_holds_and_which_domo_report_it_replaces() -> None:
    graph = _graph({"us": {"order_items_source": "report"}, "de": {}})
    for key in graph.materializable_asset_keys:
        description = graph.get(key).description or ""
        first, _, rest = description.partition("\n\n")
        assert first and not any(mark in first for mark in "*`_#["), (key, first)  # plain in the catalog list
        assert first.endswith(".") and len(first) < 200, (key, first)
        assert "Replaces Domo's **" in rest or "no Domo equivalent" in rest, (key, description)
        assert "seed" not in description.lower(), (key, description)


def test_describe_refuses_markdown_in_the_first_line() -> None:
    import pytest

    from sp_assets.defs.common import describe

    assert describe("Orders.", "Order Details", "More.") == "Orders.\n\nReplaces Domo's **Order Details** report. More."
    assert describe("Rows.", "Create and Download Report") == "Rows.\n\nReplaces Domo's **Create and Download Report**."
    assert describe("Margins.", None, "Write mode: **table replace**.") == (
        "Margins.\n\nNew: no Domo equivalent. Write mode: **table replace**.")
    with pytest.raises(ValueError, match="plain text"):
        describe("The **orders**.", "Order Details")


# ------------------------------------------------------------------------------------------ run logs
def _log_lines(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(result.run_id) if entry.dagster_event is None]


def test_the_run_log_tells_the_story(asset_env: AssetEnv, sandbox_factory, monkeypatch) -> None:
    """Pages so far while paging, each report poll with its status and the next wait, the write's counts."""
    sandbox = sandbox_factory(orders_per_day=150)  # searchOrders pages hold 100 orders: several pages
    monkeypatch.setenv("SP_API_ENDPOINT", sandbox.base_url)
    config = make_config({"us": {}})
    entry = config.get("us")
    (report,) = [a for a in build_report_assets(entry) if {k.path[-1] for k in a.keys} == {"all_orders_report"}]
    keys = [past_day(13).isoformat(), past_day(12).isoformat()]
    with dg.instance_for_test() as instance:
        result = asset_env.materialize([build_orders_assets(entry)[0]], config, first=keys[0], last=keys[-1],
                                       instance=instance)
        assert result.success
        lines = _log_lines(instance, result)
        paging = [line for line in lines if line.startswith("searchOrders: ")]
        assert paging and paging[-1].startswith("searchOrders: done, ") and "records" in paging[-1], lines
        wrote = [line for line in lines if line.startswith("us/orders: the run wrote ")]
        assert len(wrote) == 1 and f"{keys[0]}...{keys[-1]} (2 partitions)" in wrote[0], lines

        result = asset_env.materialize([report], config, partition_key=keys[0], instance=instance)
        assert result.success
        lines = _log_lines(instance, result)
        polls = [line for line in lines if line.startswith("report ") and "next check in" in line]
        assert polls and all("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL" in line for line in polls), lines
        assert any(line.startswith("report ") and ": DONE after " in line for line in lines), lines
        assert any(line.startswith("us/all_orders_report: wrote ") and '"rows"' in line for line in lines), lines


def test_several_writes_sum_up_to_one_write_summary_of_the_same_shape() -> None:
    from sp_assets.defs.common import combined_write

    day = {"table": "us.r", "operation": "load_delimited_file", "rows": 3, "inserted": 3, "deleted": 1,
           "created_table": False, "added_columns": ["b"], "partition_start": "2026-01-02",
           "partition_end": "2026-01-03", "write_s": 0.1}
    other = {**day, "rows": 4, "inserted": 4, "deleted": 0, "created_table": True, "added_columns": ["a"],
             "partition_start": "2026-01-01", "partition_end": "2026-01-02", "write_s": 0.2}
    assert combined_write([day]) == day
    assert combined_write([day, other]) == {
        "writes": 2, "table": "us.r", "operation": "load_delimited_file", "rows": 7, "inserted": 7, "deleted": 1,
        "created_table": True, "added_columns": ["a", "b"], "partition_start": "2026-01-01",
        "partition_end": "2026-01-03", "write_s": 0.3}


# ------------------------------------------------------------------------------------------ run retries
def test_a_deterministic_failure_tags_its_run_against_a_retry_run(asset_env: AssetEnv) -> None:
    """The run a refusal fails carries the tag Dagster's run retries read (the daemon test is in e2e)."""
    from sp_assets.defs.common import NOT_RETRIED_TAG, RUN_RETRY_ON_STEP_FAILURE_TAG

    config = make_config({"us": {}})
    entry = config.get("us")
    snapshot = [a for a in build_report_assets(entry) if {k.path[-1] for k in a.keys} == {"merchant_listings"}]
    with dg.instance_for_test() as instance:
        # unpartitioned: a past day is asked for through the run config (and refused)
        refused = asset_env.materialize(snapshot, config, run_config=snapshot_date_config(snapshot, past_day(5)),
                                        instance=instance, raise_on_error=False)
        assert not refused.success
        tags = instance.get_run_by_id(refused.run_id).tags
        assert tags[RUN_RETRY_ON_STEP_FAILURE_TAG] == "false" and tags[NOT_RETRIED_TAG] == "us/merchant_listings"
        fine = asset_env.materialize([build_orders_assets(entry)[0]], config, partition_key=past_day(12).isoformat(),
                                     instance=instance)
        assert RUN_RETRY_ON_STEP_FAILURE_TAG not in instance.get_run_by_id(fine.run_id).tags
