"""inventory_supply and inventory_supply_current against the sandbox's FBA inventory ground truth."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from sp_assets.defs.common import sql_table
from sp_assets.defs.inventory.assets import build_inventory_assets, build_inventory_checks
from sp_assets_tests.defs.conftest import (
    AssetEnv,
    day_window,
    make_config,
    materialization_metadata,
    past_day,
    snapshot_date_config,
)
from sp_assets_tests.defs.rest_helpers import check_evaluations, failure_text, latest_local_day, today

COMPARED = ("seller_sku", "asin", "fn_sku", "product_name", "last_updated_time", "total_quantity",
            "fulfillable_quantity", "inbound_working_quantity", "inbound_shipped_quantity",
            "inbound_receiving_quantity", "reserved_quantity", "pending_customer_order_quantity",
            "researching_quantity", "researching_long_term_quantity", "unfulfillable_quantity",
            "customer_damaged_quantity", "defective_quantity")


def _expected(summary: Any) -> dict[str, Any]:
    return {
        "seller_sku": summary.seller_sku, "asin": summary.asin, "fn_sku": summary.fn_sku,
        "product_name": summary.product_name, "last_updated_time": summary.last_updated_time,
        "total_quantity": summary.total_quantity, "fulfillable_quantity": summary.fulfillable,
        "inbound_working_quantity": summary.inbound_working, "inbound_shipped_quantity": summary.inbound_shipped,
        "inbound_receiving_quantity": summary.inbound_receiving, "reserved_quantity": summary.total_reserved,
        "pending_customer_order_quantity": summary.pending_customer_order,
        "researching_quantity": summary.total_researching, "researching_long_term_quantity": summary.researching[2],
        "unfulfillable_quantity": summary.total_unfulfillable, "customer_damaged_quantity": summary.customer_damaged,
        "defective_quantity": summary.defective,
    }


@pytest.fixture
def inventory_today(asset_env: AssetEnv):
    """Today's snapshot and current table of the marketplace whose day is furthest along."""
    code = latest_local_day()
    config = make_config({code: {}})
    entry = config.marketplaces[0]
    assets = build_inventory_assets(entry) + build_inventory_checks(entry)
    result = asset_env.materialize(assets, config)
    return asset_env, config, entry, assets, result


def test_snapshot_equals_the_sandbox_summaries_changed_since_the_day_began(inventory_today) -> None:
    env, _, entry, _, result = inventory_today
    start, _ = day_window(entry, today(entry))
    rows = env.warehouse.query(
        f"select * from {sql_table(entry, 'inventory_supply')} order by seller_sku").to_dicts()
    assert rows, "the local day is ~18 h in: some FBA SKUs must have changed"
    assert {r["snapshot_date"] for r in rows} == {today(entry)}
    taken: datetime = rows[0]["snapshot_time"]
    backend = env.sandbox.backend("inventory")
    # The sandbox answered within a second or two after snapshot_time (whole seconds).
    candidates = [[_expected(s) for s in backend.select(entry.marketplace_id, taken + timedelta(seconds=lag), start, [])]
                  for lag in (0, 1, 2)]
    assert [{k: r[k] for k in COMPARED} for r in rows] in candidates
    assert all(r["last_updated_time"] >= start for r in rows)

    metadata = materialization_metadata(result, [entry.code, "inventory_supply"])[0]
    assert metadata["dagster/row_count"] == len(rows)
    assert metadata["api_calls"] >= 1 and "inventory" in metadata["api_by_family"]
    assert metadata["write"]["operation"] == "replace_partition"
    assert metadata["write"]["partition_start"] == today(entry).isoformat()
    assert metadata["snapshot_date"] == today(entry).isoformat()
    checks = check_evaluations(result)
    assert checks[(f"{entry.code}/inventory_supply", "inventory_supply_primary_key")].passed
    assert checks[(f"{entry.code}/inventory_supply_current", "inventory_supply_current_primary_key")].passed
    assert checks[(f"{entry.code}/inventory_supply_current", "inventory_supply_current_up_to_date")].passed


def test_current_table_holds_the_snapshot_and_never_regresses(inventory_today) -> None:
    env, config, entry, _, _ = inventory_today
    table, snapshot = sql_table(entry, "inventory_supply_current"), sql_table(entry, "inventory_supply")
    current = env.warehouse.query(f"select seller_sku, last_updated_time, fulfillable_quantity from {table} "
                                  "order by seller_sku").to_dicts()
    snap = env.warehouse.query(f"select seller_sku, last_updated_time, fulfillable_quantity from {snapshot} "
                               "order by seller_sku").to_dicts()
    assert current == snap

    # An older version of one SKU arriving later (a re-run of an old snapshot) must not win.
    sku = snap[0]["seller_sku"]
    with env.warehouse.connect() as connection:
        connection.execute(f"update {snapshot} set last_updated_time = last_updated_time - interval 1 day, "
                           "fulfillable_quantity = -1 where seller_sku = ?", [sku])
    current_only = build_inventory_assets(entry)[1]
    result = env.materialize([current_only], config)
    write = materialization_metadata(result, [entry.code, "inventory_supply_current"])[0]["write"]
    assert write["stale"] == 1 and write["unchanged"] == len(snap) - 1 and write["rows"] == 0
    kept = env.warehouse.query(f"select fulfillable_quantity from {table} where seller_sku = ?", [sku]).item()
    assert kept == snap[0]["fulfillable_quantity"]


def test_rematerializing_today_replaces_the_snapshot(inventory_today) -> None:
    env, config, entry, assets, _ = inventory_today
    before = env.warehouse.row_count(entry.code, "inventory_supply")
    result = env.materialize(assets, config)
    write = materialization_metadata(result, [entry.code, "inventory_supply"])[0]["write"]
    assert write["deleted"] == before
    assert env.warehouse.row_count(entry.code, "inventory_supply") == write["inserted"] >= before


def test_a_past_day_is_refused_and_nothing_is_written(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    entry = config.marketplaces[0]
    calls = asset_env.sandbox.stats.calls("getInventorySummaries")
    assets = build_inventory_assets(entry)
    result = asset_env.materialize(assets, config, run_config=snapshot_date_config(assets, past_day(3)),
                                   raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "us/ledger_summary" in text and "point-in-time" in text and past_day(3).isoformat() in text
    assert asset_env.sandbox.stats.calls("getInventorySummaries") == calls
    assert not asset_env.warehouse.table_exists("us", "inventory_supply")
    assert not asset_env.warehouse.table_exists("us", "inventory_supply_current")
