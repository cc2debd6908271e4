"""JSON reports read from one array: flattening (nested objects, arrays, account statuses), the period a
partition asks for, and the refusals."""

from __future__ import annotations

import pytest

from sp_assets.lib.reports import catalog
from sp_assets.lib.reports.json_reports import (
    flatten_json_rows,
    is_json_table,
    json_report_spec,
    partition_period,
)
from sp_assets.lib.reports.parsing import ReportParseError

SEARCH_TERMS = catalog.lookup("GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT")
REPEAT = catalog.lookup("GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT")
PERFORMANCE = catalog.lookup("GET_V2_SELLER_PERFORMANCE_REPORT")


def test_rows_are_flattened_with_the_marketplace() -> None:
    document = {"reportSpecification": {"marketplaceIds": ["ATVPDKIKX0DER"]},
                "dataByAsin": [{"asin": "B01", "startDate": "2026-01-01", "orders": 3,
                                "repeatPurchaseRevenue": {"amount": 12.5, "currencyCode": "USD"}, "newMetric": [1]}]}
    (row,) = flatten_json_rows(REPEAT, document)
    assert row == {"marketplace_id": "ATVPDKIKX0DER", "asin": "B01", "start_date": "2026-01-01", "orders": 3,
                   "repeat_purchase_revenue_amount": 12.5, "repeat_purchase_revenue_currency_code": "USD",
                   "new_metric": "[1]"}
    assert flatten_json_rows(REPEAT, {"reportSpecification": {}}) == []


def test_seller_performance_rows_carry_their_account_status() -> None:
    document = {"accountStatuses": [{"marketplaceId": "A1", "status": "AT_RISK"}],
                "performanceMetrics": [{"marketplaceId": "A1", "lateShipmentRate": {"rate": 0.01, "status": "GOOD"}}]}
    (row,) = flatten_json_rows(PERFORMANCE, document)
    assert row == {"marketplace_id": "A1", "late_shipment_rate_rate": 0.01, "late_shipment_rate_status": "GOOD",
                   "account_status": "AT_RISK"}


def test_malformed_documents_are_refused_naming_the_report() -> None:
    with pytest.raises(ReportParseError, match="dataByDepartmentAndSearchTerm must be an array"):
        flatten_json_rows(SEARCH_TERMS, {"dataByDepartmentAndSearchTerm": {}})
    with pytest.raises(ReportParseError, match="not an object"):
        flatten_json_rows(SEARCH_TERMS, {"dataByDepartmentAndSearchTerm": [1]})
    with pytest.raises(ValueError, match="not a JSON report loaded from one array"):
        flatten_json_rows(catalog.lookup(catalog.SALES_AND_TRAFFIC), {})


def test_the_period_follows_the_partition() -> None:
    assert partition_period(SEARCH_TERMS, {}, "x") == {"reportPeriod": "DAY"}
    assert partition_period(REPEAT, {"reportPeriod": "MONTH"}, "x") == {"reportPeriod": "MONTH"}
    assert partition_period(PERFORMANCE, {}, "x") == {}
    with pytest.raises(ValueError, match=r"x.options.reportPeriod: .WEEK. .*a Sunday to a Saturday.*allowed: DAY"):
        partition_period(SEARCH_TERMS, {"reportPeriod": "WEEK"}, "x")


def test_specs_type_what_the_catalog_declares() -> None:
    assert all(is_json_table(row) for row in (SEARCH_TERMS, REPEAT, PERFORMANCE))
    assert not is_json_table(catalog.lookup(catalog.SALES_AND_TRAFFIC))
    spec = json_report_spec("repeat_purchase", REPEAT)
    assert spec.column("repeat_purchase_revenue_amount").type == "DECIMAL(18,2)"
    assert spec.column("start_date").type == "DATE" and spec.partition_column == "partition_date"
