"""The report catalog (``sp_assets.lib.reports.catalog``): one consistent row per type, read by everyone.

The sandbox's side of the promise (each generated flat file has the catalog's header) is checked
over HTTP in ``sp_assets_tests/sandbox/test_reports.py::test_flat_files_have_amazons_headers``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.request import ReportRequest
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
