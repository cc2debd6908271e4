"""financial_events and financial_event_groups on a real instance against the sandbox's seller: the money
identity (a closed group's events add up to its OriginalTotal and to its settlement report's total, to the
cent), Principal = the order items' prices, partition replace, and groups that never regress."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sp_assets.defs.finances.assets import (
    build_finances_assets,
    build_finances_checks,
    financial_events_currency,
)
from sp_assets.defs.reports.checks import build_report_checks
from sp_assets.lib.finances import FINANCIAL_EVENT_GROUPS, FINANCIAL_EVENTS, group_row
from sp_assets.lib.tablespec import frame_from_records
from sp_assets.sandbox import report_documents as docs
from sp_assets_tests.defs.conftest import AssetEnv, make_config, materialization_metadata
from sp_assets_tests.defs.rest_helpers import check_evaluations, report_asset

US = "ATVPDKIKX0DER"


def _run(env: AssetEnv, index: int, **kwargs):
    config = make_config({"us": {}})
    assets = [build_finances_assets(config.marketplaces[0])[index], *build_finances_checks(config.marketplaces[0])]
    return env.materialize(assets, config, selection=[assets[0].key], **kwargs)


def _settlement_total(env: AssetEnv, index: int) -> Decimal:
    out = io.StringIO()
    docs.write_settlement(env.sandbox.seller, US, index, out, v2=True)
    header, summary = (line.split("\t") for line in out.getvalue().splitlines()[:2])
    return Decimal(dict(zip(header, summary, strict=True))["total-amount"].replace(",", ""))


def test_a_closed_groups_events_add_up_to_its_total_and_its_settlement(asset_env: AssetEnv) -> None:
    index = int((datetime.now(UTC) - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD) - 2
    start, end = docs.settlement_period(index)
    zone = ZoneInfo("America/Los_Angeles")
    first, last = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(zone).date()
    result = _run(asset_env, 0, first=first.isoformat(), last=last.isoformat())
    evaluations = check_evaluations(result)
    assert evaluations[("us/financial_events", "financial_events_primary_key")].passed
    assert evaluations[("us/financial_events", "financial_events_currency")].passed
    _run(asset_env, 1)
    group_id = docs.settlement_id(US, index)
    status, original, currency = asset_env.warehouse.query(
        "select processing_status, original_total_amount, original_total_currency from us.financial_event_groups "
        "where financial_event_group_id = ?", [group_id]).rows()[0]
    events = asset_env.warehouse.query(
        "select sum(amount) from us.financial_events where posted_at >= ? and posted_at < ?", [start, end]).item()
    assert (status, currency) == ("Closed", "USD")
    assert events == original == _settlement_total(asset_env, index), "to the cent"
    metadata = materialization_metadata(result, ["us", "financial_events"])
    assert metadata[0]["write"]["operation"] == "replace_partition"
    assert metadata[0]["other_marketplace_events"] > 0 and metadata[0]["unknown_events"] == 0

    # Principal = the items' prices getOrderItems serves, for every order shipped in the period.
    principal = asset_env.warehouse.query(
        "select amazon_order_id, order_item_id, sum(amount) as amount, max(quantity) as quantity "
        "from us.financial_events where event_type = 'Shipment' and component_type = 'Principal' "
        "group by all").rows()
    assert len(principal) > 500
    for order_id, item_id, amount, quantity in principal:
        plan = asset_env.sandbox.seller.order_plan(order_id)
        item = next(i for i in plan.items if i.order_item_id == item_id)
        assert (amount, quantity) == (item.item_price, item.quantity), order_id

    # Each refund is a customer return of that order item.
    refunds = asset_env.warehouse.query(
        "select amazon_order_id, order_item_id, quantity, posted_at from us.financial_events "
        "where event_type = 'Refund'").rows()
    assert refunds
    for order_id, item_id, quantity, posted_at in refunds:
        returns = docs.plan_returns(asset_env.sandbox.seller, asset_env.sandbox.seller.order_plan(order_id))
        assert [(r.item.order_item_id, r.quantity) for r in returns if r.at == posted_at] == [(item_id, quantity)]

    # A partition run again replaces its day: the same rows, none twice.
    before = asset_env.warehouse.query("select count(*) from us.financial_events").item()
    _run(asset_env, 0, partition_key=first.isoformat())
    assert asset_env.warehouse.query("select count(*) from us.financial_events").item() == before


def test_a_closed_group_never_becomes_open_again(asset_env: AssetEnv) -> None:
    _run(asset_env, 1)
    groups = asset_env.warehouse.query(
        "select financial_event_group_id, processing_status from us.financial_event_groups order by group_start"
    ).rows()
    assert groups[-1][1] == "Open" and {s for _, s in groups[:-1]} == {"Closed"}
    closed_id, open_id = groups[-2][0], groups[-1][0]
    later = datetime.now(UTC) + timedelta(hours=1)
    stale_open = group_row({"FinancialEventGroupId": closed_id, "ProcessingStatus": "Open",
                            "OriginalTotal": {"CurrencyCode": "USD", "CurrencyAmount": 1.0}}, later)
    now_closed = group_row({"FinancialEventGroupId": open_id, "ProcessingStatus": "Closed",
                            "OriginalTotal": {"CurrencyCode": "USD", "CurrencyAmount": 2.0}}, later)
    asset_env.warehouse.merge("us", FINANCIAL_EVENT_GROUPS,
                              frame_from_records(FINANCIAL_EVENT_GROUPS, [stale_open, now_closed]))
    after = dict(asset_env.warehouse.query(
        "select financial_event_group_id, processing_status from us.financial_event_groups").rows())
    assert after[closed_id] == "Closed", "an Open answer never reopens a Closed group"
    assert after[open_id] == "Closed", "an Open group closes"
    _run(asset_env, 1)
    again = dict(asset_env.warehouse.query(
        "select financial_event_group_id, processing_status from us.financial_event_groups").rows())
    assert again[open_id] == "Closed", "the sandbox's Open answer does not reopen it either"


def test_transactions_hold_the_same_money_as_the_events_per_day(asset_env: AssetEnv) -> None:
    first = (datetime.now(UTC) - timedelta(days=6)).date()
    last = first + timedelta(days=1)
    result = _run(asset_env, 2, first=first.isoformat(), last=last.isoformat())
    assert check_evaluations(result)[("us/transactions", "transactions_primary_key")].passed
    _run(asset_env, 0, first=first.isoformat(), last=last.isoformat())
    per_day = asset_env.warehouse.query(
        "select t.posted_date, t.amount, e.amount from (select posted_date, sum(amount) as amount from "
        "us.transactions group by 1) t full join (select posted_date, sum(amount) as amount from "
        "us.financial_events group by 1) e using (posted_date) order by 1").rows()
    assert [d for d, _, _ in per_day] == [first, last]
    assert all(t == e and t != 0 for _, t, e in per_day), per_day
    orders = asset_env.warehouse.query(
        "select count(distinct amazon_order_id) from us.transactions where amazon_order_id in "
        "(select amazon_order_id from us.financial_events)").item()
    assert orders > 50
    assert materialization_metadata(result, ["us", "transactions"])[0]["write"]["operation"] == "replace_partition"


def test_the_currency_check_warns_of_another_marketplaces_money(asset_env: AssetEnv) -> None:
    entry = make_config({"us": {}}).marketplaces[0]
    day = (datetime.now(UTC) - timedelta(days=30)).date()
    row = {"posted_date": day, "event_type": "Shipment", "component_kind": "charge", "component_type": "Principal",
           "amount": "9.99", "event_key": "k1"}
    check = financial_events_currency(entry)
    asset_env.warehouse.replace_partition("us", FINANCIAL_EVENTS, frame_from_records(
        FINANCIAL_EVENTS, [{**row, "currency": "USD"}]), day, day + timedelta(days=1))
    assert check.evaluate(asset_env.warehouse).passed
    asset_env.warehouse.replace_partition("us", FINANCIAL_EVENTS, frame_from_records(
        FINANCIAL_EVENTS, [{**row, "currency": "EUR"}]), day, day + timedelta(days=1))
    failed = check.evaluate(asset_env.warehouse)
    assert not failed.passed and failed.severity.value == "WARN" and failed.metadata["other_currency_rows"].value == 1


def test_closed_groups_join_the_settlements_report_by_id_to_the_cent(asset_env: AssetEnv) -> None:
    """What a mart does: financial_event_groups joined to the settlements asset on the settlement id."""
    config = make_config({"us": {}})
    entry = config.marketplaces[0]
    now = datetime.now(UTC)
    index = int((now - docs.SETTLEMENT_DELAY - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD) - 1
    created = docs.settlement_period(index)[1] + docs.SETTLEMENT_DELAY
    settlements = report_asset(entry, "settlements")
    asset_env.materialize([*settlements, *build_report_checks(entry)], config,
                          partition_key=created.astimezone(ZoneInfo(entry.timezone)).date().isoformat(),
                          selection=[a.key for a in settlements])
    _run(asset_env, 1)
    joined = asset_env.warehouse.query(
        "select g.financial_event_group_id, g.processing_status, g.original_total_amount, s.total_amount "
        "from us.financial_event_groups g join us.settlements s "
        "on cast(s.settlement_id as varchar) = g.financial_event_group_id and s.row_number = 1").rows()
    assert [(group_id, status) for group_id, status, _, _ in joined] == [(docs.settlement_id(US, index), "Closed")]
    assert all(original == total for _, _, original, total in joined)
