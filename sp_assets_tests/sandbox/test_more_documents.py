"""The seller reports of issue 14 agree with the reports the sandbox already served (no HTTP needed:
the generators are pure functions of the synthetic seller and the request)."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta

from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.reports import catalog
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.seller import SyntheticSeller

US = by_code("us").marketplace_id
SELLER = SyntheticSeller(seed=7, orders_per_day=60)
NOW = datetime.now(UTC)


def rows(report_type: str, start: datetime = NOW, end: datetime = NOW, **options: str) -> list[dict[str, str]]:
    spec = docs.DocumentSpec(report_type, (US,), start, end, dict(options), NOW)
    out = io.StringIO()
    docs.FLAT_FILE_GENERATORS[report_type](SELLER, spec, out)
    header, *lines = [line.split("\t") for line in out.getvalue().splitlines()]
    assert tuple(header) == catalog.lookup(report_type).columns
    return [dict(zip(header, line, strict=True)) for line in lines]


def test_the_ledger_detail_lists_the_events_the_ledger_summary_counts() -> None:
    start = (NOW - timedelta(days=12)).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1) - timedelta(seconds=1)
    summary = rows(catalog.LEDGER_SUMMARY, start, end, aggregatedByTimePeriod="DAILY", aggregateByLocation="COUNTRY")
    detail = rows("GET_LEDGER_DETAIL_VIEW_DATA", start, end)
    assert detail and {r["Date"] for r in detail} == {start.strftime("%m/%d/%Y")}
    moved: Counter[tuple[str, str]] = Counter()
    for r in detail:
        moved[(r["MSKU"], r["Event Type"])] += int(r["Quantity"])
    for r in summary:
        assert int(r["Customer Shipments"]) == moved[(r["MSKU"], "Shipments")], r["MSKU"]
        assert int(r["Customer Returns"]) == moved[(r["MSKU"], "CustomerReturns")], r["MSKU"]


def test_inventory_reports_agree_on_quantities_dimensions_and_listings() -> None:
    myi = {r["sku"]: r for r in rows("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA")}
    planning = rows("GET_FBA_INVENTORY_PLANNING_DATA")
    assert {r["sku"] for r in planning} == set(myi)
    assert all(r["available"] == myi[r["sku"]]["afn-fulfillable-quantity"] for r in planning)
    by_country = rows("GET_AFN_INVENTORY_DATA_BY_COUNTRY")
    assert all(r["quantity-for-local-fulfillment"] == myi[r["seller-sku"]]["afn-fulfillable-quantity"]
               for r in by_country)
    restock = rows("GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT")
    assert all(r["Total Units"] == myi[r["Merchant SKU"]]["afn-total-quantity"] for r in restock)

    month = (NOW.replace(day=1) - timedelta(days=1)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    storage = {r["fnsku"]: r for r in rows(catalog.STORAGE_FEES, month, month + timedelta(days=27))}
    fees = rows("GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA")
    assert fees and all(r["longest-side"] == storage[r["fnsku"]]["longest_side"] for r in fees)

    listings = {r["seller-sku"]: r["status"] for r in rows("GET_MERCHANT_LISTINGS_ALL_DATA")}
    inactive = {r["seller-sku"] for r in rows("GET_MERCHANT_LISTINGS_INACTIVE_DATA")}
    active = {r["seller-sku"] for r in rows("GET_MERCHANT_LISTINGS_DATA")}
    assert inactive == {s for s, status in listings.items() if status == "Inactive"} and not inactive & active
    suppressed = {r["SKU"] for r in rows("GET_MERCHANTS_LISTINGS_FYP_REPORT")}
    stranded = {r["sku"] for r in rows("GET_STRANDED_INVENTORY_UI_DATA")}
    assert stranded and stranded == (inactive | suppressed) & set(myi), "stranded: FBA units without a buyable listing"
