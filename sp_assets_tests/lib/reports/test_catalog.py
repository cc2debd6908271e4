"""The report catalog (``sp_assets.lib.reports.catalog``): one consistent row per type, read by everyone.

The sandbox's side of the promise (each generated flat file has the catalog's header) is checked
over HTTP in ``sp_assets_tests/sandbox/test_reports.py::test_flat_files_have_amazons_headers``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from sp_assets.lib.naming import snake_case
from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.request import ReportRequest
from sp_assets.lib.textformats import NameTypes
from sp_assets.sandbox import report_documents as docs


def test_every_row_is_a_valid_amazon_type_with_consistent_facts() -> None:
    assert len(catalog.CATALOG) >= 100
    for name, row in catalog.CATALOG.items():
        assert row.name == name and re.match(r"^[A-Z][A-Z0-9_]+$", name), name
        assert row.creatable == (row.window != catalog.LISTED), name
        if row.fmt == catalog.JSON:
            assert row.charset == catalog.UTF8, f"{name}: Amazon writes JSON in UTF-8"
        if row.history_type is not None:
            assert row.is_snapshot and catalog.lookup(row.history_type).window == catalog.CALENDAR, name
        if row.columns:
            assert len(set(row.columns)) == len(row.columns), f"{name}: a header names each column once"


def test_the_seven_defaults_in_their_order() -> None:
    assert [(r.name, r.default_table) for r in catalog.defaults()] == [
        (catalog.ALL_ORDERS_BY_ORDER_DATE, "all_orders_report"),
        ("GET_MERCHANT_LISTINGS_ALL_DATA", "merchant_listings"),
        ("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "fba_inventory"),
        (catalog.LEDGER_SUMMARY, "ledger_summary"),
        ("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", "customer_returns"),
        (catalog.SALES_AND_TRAFFIC, "sales_and_traffic"),
        (catalog.SETTLEMENT_V2, "settlements"),
    ]
    assert catalog.STORAGE_FEES not in {r.name for r in catalog.defaults()}, "storage fees are added by users"


def test_windows_and_formats_of_the_types_the_code_relies_on() -> None:
    assert catalog.lookup(catalog.STORAGE_FEES).window == catalog.MONTHLY
    assert catalog.lookup(catalog.SETTLEMENT_V1).window == catalog.LISTED
    assert catalog.lookup("GET_FBA_MYI_ALL_INVENTORY_DATA").history_type == catalog.LEDGER_SUMMARY
    assert catalog.lookup(catalog.SALES_AND_TRAFFIC).by == (catalog.BY_DATE, catalog.BY_ASIN)
    assert catalog.lookup("GET_XML_BROWSE_TREE_DATA").fmt == catalog.XML
    assert not catalog.lookup("GET_VENDOR_SALES_REPORT").readable, "JSON the loader cannot split"
    assert catalog.lookup(catalog.ALL_ORDERS_BY_ORDER_DATE).key_severity == "warn"
    assert ReportRequest(catalog.SALES_AND_TRAFFIC, "ATVPDKIKX0DER").is_json
    assert ReportRequest(catalog.SALES_AND_TRAFFIC, "A1VC38T7YXB528").fallback_charset == "UTF-8"
    assert ReportRequest(catalog.ALL_ORDERS_BY_ORDER_DATE, "A1VC38T7YXB528").fallback_charset == "Shift_JIS"


def test_options_come_from_the_row() -> None:
    ledger = catalog.lookup(catalog.LEDGER_SUMMARY)
    assert ledger.allowed_values("aggregatedByTimePeriod") == ("DAILY", "WEEKLY", "MONTHLY")
    assert ledger.allowed_values("custom") is None, "a complete list knows no other option"
    assert catalog.lookup("GET_FBA_REIMBURSEMENTS_DATA").allowed_values("reportPeriod") == (
        "DAY", "WEEK", "MONTH", "QUARTER")


def test_an_unknown_name_names_the_closest_type() -> None:
    with pytest.raises(catalog.UnknownReportTypeError, match="did you mean GET_LEDGER_SUMMARY_VIEW_DATA"):
        catalog.lookup("GET_LEDGER_SUMARY_VIEW_DATA")


def test_a_removed_type_is_refused_saying_so() -> None:
    for name in ("GET_FBA_SNS_FORECAST_DATA", "GET_FBA_SNS_PERFORMANCE_DATA"):
        with pytest.raises(catalog.UnknownReportTypeError, match="no longer a report type: Amazon removed it on"):
            catalog.lookup(name)


def test_a_row_with_contradicting_facts_is_refused() -> None:
    with pytest.raises(ValueError, match="window 'weekly'; allowed: event, calendar, monthly"):
        catalog.ReportType("GET_X", window="weekly")
    with pytest.raises(ValueError, match="required columns"):
        catalog.ReportType("GET_X", key=("a",), required=("b",))
    with pytest.raises(ValueError, match="default option"):
        catalog.ReportType("GET_X", options={"custom": ("true", "false")}, default_options={"custom": "yes"})


def test_every_sandbox_generator_is_a_catalog_type_of_its_format() -> None:
    for name in docs.FLAT_FILE_GENERATORS:
        row = catalog.lookup(name)
        assert row.fmt == catalog.TSV and row.creatable and row.columns, name
    for name in docs.JSON_GENERATORS:
        assert catalog.lookup(name).fmt == catalog.JSON, name


def test_the_catalog_and_the_sandbox_import_no_client_and_no_dagster() -> None:
    code = ("import sys\n"
            "import sp_assets.lib.reports.catalog, sp_assets.sandbox.server, sp_assets.sandbox.routes.reports\n"
            "bad = sorted(m for m in sys.modules if m == 'dagster' or m.startswith(('sp_assets.lib.spapi', "
            "'sp_assets.defs', 'sp_assets.lib.reports.lifecycle', 'sp_assets.lib.reports.api')))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == ""


# Headers Amazon documents (wire contract section 4, the orders report's optional columns, the FBA
# shipments, reimbursements and removal reports) and what the name rule must make of them.
_DOCUMENTED_HEADERS = {
    catalog.VARCHAR: ("amazon-order-id", "merchant-order-id", "order-id", "sku", "seller-sku", "asin", "asin1", "fnsku",
                      "MSKU", "product-name", "currency", "order-status", "fulfillment-channel", "ship-postal-code",
                      "promotion-ids", "is-business-order", "purchase-order-number", "price-designation",
                      "number-of-items-type", "Quantity Price Type", "shipment-fee-type", "amount-type",
                      "amount-description", "settlement-id", "order-item-code", "license-plate-number",
                      "fulfillment-center-id", "weight_units", "measurement_units",
                      "storage_utilization_ratio_units", "qualifies_for_inventory_discount",
                      "eligible_for_inventory_discount", "tracking-number", "buyer-phone-number", "month_of_charge",
                      "tax-collection-model", "Warehouse-Condition-code", "other-fee-reason-description"),
    catalog.MONEY: ("item-price", "item-tax", "shipping-price", "gift-wrap-tax", "item-promotion-discount",
                    "your-price", "Business Price", "Quantity Price 1", "Progressive Price 3", "total-amount",
                    "amount", "price-amount", "item-related-fee-amount", "zshop-shipping-fee",
                    "estimated_monthly_storage_fee", "amount-per-unit", "amount-total", "removal-fee",
                    "estimated-fee-total", "expected-fulfillment-fee-per-unit", "total"),
    catalog.INT: ("quantity", "number-of-items", "quantity-purchased", "Quantity Available",
                  "afn-fulfillable-quantity", "pending-quantity", "Quantity Lower Bound 2", "quantity-shipped",
                  "quantity-reimbursed-cash", "requested-quantity", "units-shipped-t7", "qty-with-removals-in-progress",
                  "quantity-reimbursed-total"),
    catalog.TIMESTAMP: ("purchase-date", "last-updated-date", "payments-date", "shipment-date", "reporting-date",
                        "estimated-arrival-date", "return-date", "request-date", "approval-date", "open-date",
                        "settlement-start-date", "deposit-date", "posted-date-time", "date/time", "promise-date"),
    catalog.DATE: ("Date", "posted-date", "snapshot-date"),
    catalog.DOUBLE: ("per-unit-volume", "refund-rate", "storage_utilization_ratio", "average_quantity_on_hand",
                     "item-package-weight", "longest-side"),
}


@pytest.mark.parametrize("sql_type", sorted(_DOCUMENTED_HEADERS))
def test_the_name_rule_types_documented_headers(sql_type: str) -> None:
    wrong = {header: catalog.NAME_TYPES.type_of(snake_case(header)) or catalog.VARCHAR
             for header in _DOCUMENTED_HEADERS[sql_type]}
    assert {header: found for header, found in wrong.items() if found != sql_type} == {}


def test_the_name_rule_never_contradicts_a_declared_column() -> None:
    """Where a row declares a column's type, the name rule gives the same type or leaves it to the row;
    the exceptions are columns whose type differs by report (the V1 settlement's posted-date is a
    timestamp, V2's a date) or whose name misleads (a storage fee's base_rate is money, not a ratio; a
    promotion's rule value is the rule's name)."""
    allowed = {("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE", "posted_date"),
               (catalog.STORAGE_FEES, "base_rate"), (catalog.STORAGE_FEES, "utilization_surcharge_rate"),
               ("GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_PROMOTION_DATA", "promotion_rule_value")}
    contradictions = set()
    for row in catalog.CATALOG.values():
        for name in (snake_case(column) for column in row.columns):
            declared, guessed = row.column_types.get(name), catalog.NAME_TYPES.type_of(name)
            if declared and guessed not in (None, catalog.VARCHAR, declared):
                contradictions.add((row.name, name))
    assert contradictions == allowed


def test_every_flat_file_row_has_a_typing_rule_and_json_keeps_its_schema() -> None:
    for row in catalog.CATALOG.values():
        if row.fmt == catalog.TSV:
            assert row.name_types is catalog.NAME_TYPES, row.name
    assert catalog.lookup(catalog.SALES_AND_TRAFFIC).column_types == {}  # its types come from the JSON schema


@pytest.mark.parametrize(("rules", "message"), [
    ((("(unclosed", catalog.MONEY),), "'(unclosed': not a regular expression"),
    ((("amount", "MONEY"),), "type 'MONEY' has no text parser; allowed: DECIMAL(p,s), BIGINT"),
])
def test_a_bad_name_rule_is_refused_naming_it(rules: tuple[tuple[str, str], ...], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        NameTypes(rules)
