"""inbound_shipments, inbound_shipment_items and fulfillment_orders against the sandbox's ground truth."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sp_assets.defs.config import ProjectConfig
from sp_assets.defs.shipments.assets import build_shipments_assets, build_shipments_checks
from sp_assets_tests.defs.conftest import AssetEnv, day_window, make_config, materialization_metadata
from sp_assets_tests.defs.rest_helpers import check_evaluations, failure_text

US = "ATVPDKIKX0DER"
FIRST, LAST = date.today() - timedelta(days=20), date.today() - timedelta(days=1)


def _run(env: AssetEnv, config: ProjectConfig, index: int, first: date = FIRST, last: date = LAST,
         raise_on_error: bool = True):
    entry = config.marketplaces[0]
    assets = [build_shipments_assets(entry)[index], *build_shipments_checks(entry)]
    selection = [a.key for a in assets[:1]]
    return env.materialize(assets, config, first=first.isoformat(), last=last.isoformat(), selection=selection,
                           raise_on_error=raise_on_error)


def _window(config: ProjectConfig, first: date = FIRST, last: date = LAST) -> tuple[datetime, datetime]:
    entry = config.marketplaces[0]
    return day_window(entry, first)[0], day_window(entry, last)[1]


def _fetched_at(env: AssetEnv, table: str) -> datetime:
    return env.warehouse.query(f"select max(fetched_at) from us.{table}").item()


def test_inbound_shipments_are_those_updated_in_the_window(asset_env: AssetEnv) -> None:
    config = make_config({"us": {}})
    result = _run(asset_env, config, 0)
    start, end = _window(config)
    fetched_at = _fetched_at(asset_env, "inbound_shipments")
    expected = asset_env.sandbox.backend("inbound").shipments_updated_between(US, start, end, as_of=fetched_at)
    rows = asset_env.warehouse.query("select * from us.inbound_shipments order by shipment_id").to_dicts()
    assert len(expected) >= 3
    assert [(r["shipment_id"], r["shipment_status"]) for r in rows] == sorted(
        (s.shipment_id, s.status) for s in expected)
    by_id = {s.shipment_id: s for s in expected}
    for row in rows:
        plan = by_id[row["shipment_id"]].plan
        assert (row["shipment_name"], row["destination_fulfillment_center_id"]) == (plan.name, plan.destination_fc)
        assert (row["confirmed_need_by_date"], row["are_cases_required"]) == (plan.confirmed_need_by,
                                                                              plan.are_cases_required)
        assert (row["ship_from_city"], row["marketplace_id"]) == (plan.ship_from["City"], US)
    metadata = materialization_metadata(result, ["us", "inbound_shipments"])
    assert len(metadata) == (LAST - FIRST).days + 1  # one materialization per partition of the range
    assert metadata[0]["write"]["operation"] == "merge" and metadata[0]["api_calls"] >= 1
    assert check_evaluations(result)[("us/inbound_shipments", "inbound_shipments_primary_key")].passed


def test_the_status_filter_keeps_only_the_configured_statuses(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"inbound_statuses": ["CLOSED", "RECEIVING"]}})
    _run(asset_env, config, 0)
    start, end = _window(config)
    everything = asset_env.sandbox.backend("inbound").shipments_updated_between(
        US, start, end, as_of=_fetched_at(asset_env, "inbound_shipments"))
    kept = sorted(s.shipment_id for s in everything if s.status in ("CLOSED", "RECEIVING"))
    assert kept and len(kept) < len(everything)  # the filter had something to remove
    rows = asset_env.warehouse.query("select shipment_id from us.inbound_shipments order by 1")
    assert rows.get_column("shipment_id").to_list() == kept


def _old_shipment_id(env: AssetEnv) -> str:
    """A shipment created 40+ days ago: long closed, so never in the test window."""
    backend = env.sandbox.backend("inbound")
    for days in range(40, 80):
        plans = backend.day_plans(US, date.today() - timedelta(days=days))
        if plans:
            return plans[0].shipment_id
    raise AssertionError("the sandbox created no shipment in 40 days")


def test_items_of_the_window_and_of_configured_shipments(asset_env: AssetEnv) -> None:
    old_id = _old_shipment_id(asset_env)
    config = make_config({"us": {"inbound_shipment_ids": [old_id]}})
    result = _run(asset_env, config, 1)
    start, end = _window(config)
    backend = asset_env.sandbox.backend("inbound")
    fetched_at = _fetched_at(asset_env, "inbound_shipment_items")
    shipments = [*backend.shipments_updated_between(US, start, end, as_of=fetched_at), backend.shipment(old_id)]
    expected = {(s.shipment_id, item.sku): (item.fnsku, item.quantity_shipped, received, item.quantity_in_case)
                for s in shipments for item, received in s.items()}
    rows = asset_env.warehouse.query("select * from us.inbound_shipment_items").to_dicts()
    assert {(r["shipment_id"], r["seller_sku"]): (r["fulfillment_network_sku"], r["quantity_shipped"],
                                                  r["quantity_received"], r["quantity_in_case"]) for r in rows} == expected
    assert {r["source"] for r in rows if r["shipment_id"] == old_id} == {"configured_shipment_id"}
    assert {r["source"] for r in rows if r["shipment_id"] != old_id} == {"updated_in_window"}
    assert all(r["prep_instructions"] for r in rows)
    checks = check_evaluations(result)
    assert checks[("us/inbound_shipment_items", "inbound_shipment_items_primary_key")].passed


def test_an_unknown_configured_shipment_id_fails_naming_the_option(asset_env: AssetEnv) -> None:
    config = make_config({"us": {"inbound_shipment_ids": ["FBA000000000"]}})
    result = _run(asset_env, config, 1, first=LAST, raise_on_error=False)
    assert not result.success
    assert "marketplaces.us.inbound_shipment_ids" in failure_text(result) and "FBA000000000" in failure_text(result)
    assert not asset_env.warehouse.table_exists("us", "inbound_shipment_items")


def test_fulfillment_orders_of_this_marketplace_merge_without_regressing(asset_env: AssetEnv) -> None:
    first = date.today() - timedelta(days=3)
    config = make_config({"us": {}})
    result = _run(asset_env, config, 2, first=first, last=first)
    start, _ = _window(config, first, first)
    fetched_at = _fetched_at(asset_env, "fulfillment_orders")
    backend = asset_env.sandbox.backend("outbound")
    expected = backend.fulfillment_orders(US, as_of=fetched_at, updated_since=start)
    region = backend.region_fulfillment_orders("NA", fetched_at, start)
    assert len(region) > len(expected) >= 3  # Canada's and Mexico's orders were listed too, and dropped
    rows = asset_env.warehouse.query("select * from us.fulfillment_orders order by 1").to_dicts()
    assert [(r["seller_fulfillment_order_id"], r["fulfillment_order_status"], r["status_updated_date"])
            for r in rows] == sorted((o.seller_fulfillment_order_id, o.status, o.status_updated_date)
                                     for o in expected)
    assert all(r["destination_name"] is None and r["notification_emails"] is None for r in rows)  # no PII
    assert all(r["destination_country_code"] == "US" for r in rows)
    checks = check_evaluations(result)
    assert checks[("us/fulfillment_orders", "fulfillment_orders_marketplace")].passed
    assert checks[("us/fulfillment_orders", "fulfillment_orders_primary_key")].passed

    # A row already newer than what Amazon returns now is never overwritten by an older update.
    order_id = rows[0]["seller_fulfillment_order_id"]
    with asset_env.warehouse.connect() as connection:
        connection.execute("update us.fulfillment_orders set status_updated_date = status_updated_date + "
                           "interval 1 day, fulfillment_order_status = 'Newer' where seller_fulfillment_order_id = ?",
                           [order_id])
    again = _run(asset_env, config, 2, first=first, last=first)
    write = materialization_metadata(again, ["us", "fulfillment_orders"])[0]["write"]
    assert write["stale"] >= 1
    kept = asset_env.warehouse.query("select fulfillment_order_status from us.fulfillment_orders "
                                     "where seller_fulfillment_order_id = ?", [order_id]).item()
    assert kept == "Newer"


def test_fulfillment_orders_carry_addresses_only_with_include_pii(asset_env: AssetEnv) -> None:
    first = date.today() - timedelta(days=2)
    config = make_config({"us": {"include_pii": True}})
    _run(asset_env, config, 2, first=first, last=first)
    rows = asset_env.warehouse.query("select * from us.fulfillment_orders").to_dicts()
    plans = {o.seller_fulfillment_order_id: o.plan for o in asset_env.sandbox.backend("outbound").fulfillment_orders(
        US, as_of=_fetched_at(asset_env, "fulfillment_orders"), updated_since=_window(config, first, first)[0])}
    assert rows
    for row in rows:
        plan = plans[row["seller_fulfillment_order_id"]]
        assert row["destination_name"] == plan.destination_address["name"]
        assert row["notification_emails"] == (",".join(plan.notification_emails) or None)
