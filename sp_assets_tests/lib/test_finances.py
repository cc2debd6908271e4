"""Finances v0 client: paging over the sandbox, the window clamp, and the flattening of every event list
into component rows (unknown lists kept, not dropped; other marketplaces' events dropped)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sp_assets.lib.finances import (
    FINANCIAL_EVENT_GROUPS,
    FINANCIAL_EVENTS,
    REQUEST_LAG,
    TRANSACTIONS,
    fetch_financial_event_rows,
    fetch_group_rows,
    fetch_transaction_rows,
    flatten_events,
    list_financial_events,
    transaction_rows,
)
from sp_assets.lib.marketplaces import by_id
from sp_assets.lib.tablespec import frame_from_records
from sp_assets.sandbox import report_documents as docs
from sp_assets_tests.lib.spapi.support import client_for

US = by_id("ATVPDKIKX0DER")
DE = by_id("A1PA6795UKMFR9")


def _usd(amount: str) -> dict:
    return {"CurrencyCode": "USD", "CurrencyAmount": float(amount)}


def test_events_page_with_next_token_and_add_up_per_day(sandbox) -> None:
    """Small pages (MaxResultsPerPage 10) give the same events as full ones; the US rows of a UTC-aligned
    settlement period's days add up to its settlement."""
    index = int((datetime.now(UTC) - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD) - 2
    start, _ = docs.settlement_period(index)
    window = (start, start + timedelta(hours=6))
    with client_for(sandbox, "NA", refresh_token="Atzr|sandbox-na-lib-finances-paging") as client:
        small = list(list_financial_events(client, *window, page_size=10))
        full = list(list_financial_events(client, *window))
        calls = client.stats.family("finances").calls
    assert len(small) > len(full) >= 1 and calls == len(small) + len(full)

    def bodies(pages: list[dict]) -> list[str]:
        return sorted(json.dumps(e, sort_keys=True) for page in pages for events in page.values() for e in events)

    assert bodies(small) == bodies(full)
    rows = flatten_events(full, US, start.date()).rows
    expected = sandbox.backend("finances").total(US.marketplace_id, *window)
    assert sum(Decimal(str(r["amount"])) for r in rows) == expected
    with pytest.raises(ValueError, match="page_size"):
        next(list_financial_events(client, *window, page_size=101))


def test_fetch_is_per_local_day_and_clamped_to_two_minutes_ago(sandbox) -> None:
    today = datetime.now(ZoneInfo(US.timezone)).date()
    with client_for(sandbox, "NA", refresh_token="Atzr|sandbox-na-lib-finances-clamp") as client:
        found = fetch_financial_event_rows(client, US, [today - timedelta(days=1), today])
    assert found.rows and found.other_marketplaces > 0, "the region's other marketplaces are dropped"
    assert {r["posted_date"] for r in found.rows} <= {today - timedelta(days=1), today}
    assert max(r["posted_at"] for r in found.rows) < datetime.now(UTC) - REQUEST_LAG + timedelta(seconds=1)
    frame = frame_from_records(FINANCIAL_EVENTS, found.rows)
    assert frame["event_key"].n_unique() == frame.height, "event_key identifies a row"
    assert set(frame["event_type"].unique()) <= {"Shipment", "Refund"}


def test_groups_in_the_marketplaces_currency(sandbox) -> None:
    with client_for(sandbox, "NA", refresh_token="Atzr|sandbox-na-lib-finances-groups") as client:
        rows = fetch_group_rows(client, US, datetime.now(UTC))
    assert rows and {r["original_total_currency"] for r in rows} == {"USD"}
    frame = frame_from_records(FINANCIAL_EVENT_GROUPS, rows)
    statuses = frame.sort("group_start")["processing_status"].to_list()
    assert statuses[-1] == "Open" and set(statuses[:-1]) == {"Closed"}
    assert frame.sort("version")["processing_status"].to_list()[-1] == "Closed", "Closed outranks Open"


def test_every_known_list_flattens_and_an_unknown_one_is_kept() -> None:
    posted = "2026-03-01T07:30:00Z"  # 23:30 on Feb 28 in Los Angeles
    page = {
        "ShipmentEventList": [{
            "AmazonOrderId": "111-1", "SellerOrderId": "S-1", "MarketplaceName": "Amazon.com", "PostedDate": posted,
            "ShipmentFeeList": [{"FeeType": "ShipmentFee", "FeeAmount": _usd("-1.00")}],
            "ShipmentItemList": [{
                "SellerSKU": "SKU-1", "OrderItemId": "OI-1", "QuantityShipped": 2,
                "ItemChargeList": [{"ChargeType": "Principal", "ChargeAmount": _usd("20.00")},
                                   {"ChargeType": "Tax", "ChargeAmount": _usd("1.60")}],
                "ItemFeeList": [{"FeeType": "Commission", "FeeAmount": _usd("-3.00")}],
                "PromotionList": [{"PromotionType": "PromotionMetaDataDefinitionValue", "PromotionId": "P",
                                   "PromotionAmount": _usd("-2.00")}],
                "ItemTaxWithheldList": [{"TaxCollectionModel": "MarketplaceFacilitator",
                                         "TaxesWithheld": [{"ChargeType": "MarketplaceFacilitatorTax-Principal",
                                                            "ChargeAmount": _usd("-1.60")}]}]}]}],
        "RefundEventList": [{
            "AmazonOrderId": "111-1", "MarketplaceName": "Amazon.com", "PostedDate": posted,
            "ShipmentItemAdjustmentList": [{"SellerSKU": "SKU-1", "OrderItemId": "OI-1", "QuantityShipped": 1,
                                            "ItemChargeAdjustmentList": [{"ChargeType": "Principal",
                                                                          "ChargeAmount": _usd("-10.00")}]}]}],
        "ChargebackEventList": [{"AmazonOrderId": "111-9", "MarketplaceName": "Amazon.de", "PostedDate": posted,
                                 "ShipmentItemAdjustmentList": []}],
        "ServiceFeeEventList": [{"FeeReason": "Subscription",
                                 "FeeList": [{"FeeType": "Subscription", "FeeAmount": _usd("-39.99")}]}] * 2,
        "AdjustmentEventList": [{"AdjustmentType": "FBAInventoryReimbursement", "PostedDate": posted,
                                 "AdjustmentAmount": _usd("12.00"),
                                 "AdjustmentItemList": [{"Quantity": "2", "SellerSKU": "SKU-1",
                                                         "TotalAmount": _usd("12.00")}]}],
        "RetrochargeEventList": [{"AmazonOrderId": "111-2", "MarketplaceName": "Amazon.com", "PostedDate": posted,
                                  "BaseTax": _usd("-0.50"), "ShippingTax": _usd("-0.10")}],
        "FBALiquidationEventList": [{"PostedDate": posted, "OriginalRemovalOrderId": "R-1",
                                     "LiquidationProceedsAmount": _usd("5.00"), "LiquidationFeeAmount": _usd("-0.50")}],
        "RemovalShipmentEventList": [{"PostedDate": posted, "OrderId": "R-2", "MerchantOrderId": "M-2",
                                      "RemovalShipmentItemList": [{"RemovalShipmentItemId": "RI", "Quantity": 3,
                                                                   "Revenue": _usd("4.00"),
                                                                   "FeeAmount": _usd("-0.75")}]}],
        "CouponPaymentEventList": [{"PostedDate": posted, "CouponId": "C", "ClipOrRedemptionCount": 4,
                                    "FeeComponent": {"FeeType": "CouponRedemptionFee", "FeeAmount": _usd("-2.40")},
                                    "ChargeComponent": {"ChargeType": "Discount", "ChargeAmount": _usd("-8.00")},
                                    "TotalAmount": _usd("-10.40")}],
        "NewFancyEventList": [{"PostedDate": posted, "Whatever": {"CurrencyAmount": 1}}],
        "PayWithAmazonEventList": [],
    }
    found = flatten_events([page], US, date(2026, 3, 1))
    rows = found.rows
    by_type = {(r["event_type"], r["component_kind"], r["component_type"]): r for r in rows}
    principal = by_type[("Shipment", "charge", "Principal")]
    assert (principal["amazon_order_id"], principal["seller_order_id"], principal["order_item_id"], principal["sku"],
            principal["quantity"], principal["amount"], principal["currency"]) == (
        "111-1", "S-1", "OI-1", "SKU-1", 2, 20.0, "USD")
    assert principal["posted_date"] == date(2026, 2, 28), "the local day in Los Angeles"
    assert by_type[("Shipment", "tax_withheld", "MarketplaceFacilitatorTax-Principal")]["amount"] == -1.6
    assert by_type[("Shipment", "promotion", "PromotionMetaDataDefinitionValue")]["amount"] == -2.0
    assert by_type[("Shipment", "fee", "ShipmentFee")]["order_item_id"] is None
    assert by_type[("Refund", "charge", "Principal")]["amount"] == -10.0
    assert by_type[("Adjustment", "adjustment", "FBAInventoryReimbursement")]["quantity"] == 2
    assert by_type[("FBALiquidation", "charge", "LiquidationProceeds")]["amazon_order_id"] == "R-1"
    assert by_type[("RemovalShipment", "fee", "FeeAmount")]["seller_order_id"] == "M-2"
    assert by_type[("CouponPayment", "charge", "Discount")]["quantity"] == 4
    assert by_type[("Retrocharge", "charge", "BaseTax")]["amount"] == -0.5
    fees = [r for r in rows if r["event_type"] == "ServiceFee"]
    assert len(fees) == 2 and fees[0]["posted_at"] is None and fees[0]["posted_date"] == date(2026, 3, 1)
    (unknown,) = [r for r in rows if r["component_kind"] == "other"]
    assert unknown["event_type"] == "NewFancy" and json.loads(unknown["raw"])["Whatever"] == {"CurrencyAmount": 1}
    assert unknown["amount"] is None
    assert found.metadata()["unknown_events"] == 1 and found.other_marketplaces == 1, "the Amazon.de chargeback"
    frame = frame_from_records(FINANCIAL_EVENTS, rows)
    assert frame["event_key"].n_unique() == frame.height, "identical service fees are two rows"
    # shipment 14.00, refund -10.00, service fees -79.98, adjustment 12.00, retrocharge -0.60, liquidation 4.50,
    # removal 3.25, coupon -10.40 (its TotalAmount not added again)
    assert sum(frame["amount"].drop_nulls().to_list()) == Decimal("-67.23")
    again = flatten_events([page], US, date(2026, 3, 1)).rows
    assert [r["event_key"] for r in again] == [r["event_key"] for r in rows], "stable keys"
    de = flatten_events([page], DE, date(2026, 3, 1))
    assert de.other_marketplaces == 3 and not {"Shipment", "Refund", "Retrocharge"} & {r["event_type"] for r in de.rows}


def test_transactions_flatten_to_leaf_breakdowns(sandbox) -> None:
    index = int((datetime.now(UTC) - docs.SETTLEMENT_ANCHOR) / docs.SETTLEMENT_PERIOD) - 2
    start, _ = docs.settlement_period(index)
    end = start + timedelta(hours=12)
    with client_for(sandbox, "NA", refresh_token="Atzr|sandbox-na-lib-finances-transactions") as client:
        rows = fetch_transaction_rows(client, US, start, end)
    frame = frame_from_records(TRANSACTIONS, rows)
    assert frame.height > 50 and frame.select(["transaction_id", "breakdown_path"]).is_unique().all()
    assert set(frame["marketplace_id"].unique()) == {US.marketplace_id}
    assert {"Principal", "Tax", "Commission"} <= set(frame["breakdown_type"].unique())
    assert sum(frame["amount"].to_list()) == sandbox.backend("finances").total(US.marketplace_id, start, end)
    bare = transaction_rows({"transactionId": "T1", "postedDate": "2026-03-01T07:30:00Z",
                             "totalAmount": {"currencyCode": "USD", "currencyAmount": -39.99}}, US)
    assert [(r["breakdown_path"], r["amount"], r["posted_date"]) for r in bare] == [
        ("totalAmount", -39.99, date(2026, 2, 28))], "a transaction without breakdowns keeps its total"


def test_posted_days_follow_the_partitions_zone_when_it_is_configured_utc() -> None:
    """``timezone: UTC`` partitions by UTC day: 07:30 UTC on Mar 1 is Mar 1 there, Feb 28 in Los Angeles."""
    transaction = {"transactionId": "T1", "postedDate": "2026-03-01T07:30:00Z",
                   "totalAmount": {"currencyCode": "USD", "currencyAmount": -39.99}}
    assert [r["posted_date"] for r in transaction_rows(transaction, US)] == [date(2026, 2, 28)]
    assert [r["posted_date"] for r in transaction_rows(transaction, US, "UTC")] == [date(2026, 3, 1)]
    page = {"ServiceFeeEventList": [{"FeeReason": "Subscription", "PostedDate": "2026-03-01T07:30:00Z",
                                     "FeeList": [{"FeeType": "Subscription", "FeeAmount": _usd("-39.99")}]}]}
    assert {r["posted_date"] for r in flatten_events([page], US, date(2026, 3, 1), timezone="UTC").rows} == {
        date(2026, 3, 1)}
    assert {r["posted_date"] for r in flatten_events([page], US, date(2026, 2, 28)).rows} == {date(2026, 2, 28)}


def test_a_utc_day_is_asked_for_as_the_utc_day(sandbox) -> None:
    """The listFinancialEvents window of a partition day is that day in the partitions' zone."""
    day = (datetime.now(UTC) - timedelta(days=3)).date()
    with client_for(sandbox, "NA", refresh_token="Atzr|sandbox-na-lib-finances-utc") as client:
        rows = fetch_financial_event_rows(client, US, [day], timezone="UTC").rows
    posted = [r["posted_at"] for r in rows if r["posted_at"] is not None]
    assert posted, "the sandbox posts events every day"
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    assert all(start <= p < start + timedelta(days=1) for p in posted)
