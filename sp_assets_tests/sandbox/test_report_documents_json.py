"""The JSON reports of issue 14 in the sandbox: seller performance and three Brand Analytics reports follow
Amazon's report schemas, and a reportPeriod request Amazon does not allow is refused naming the rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from jsonschema import Draft7Validator

from sp_assets.lib.reports import catalog
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox import report_documents_json as ba
from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import SandboxServer

from .contract import models_dir
from .test_reports import SPEED, US, api

SCHEMAS = {ba.SELLER_PERFORMANCE: "accountHealthReport-2020-11-18.json",
           ba.SEARCH_TERMS: "sellingPartnerSearchTermsReport.json",
           ba.MARKET_BASKET: "sellingPartnerMarketBasketAnalysisReport.json",
           ba.REPEAT_PURCHASE: "sellingPartnerRepeatPurchaseReport.json"}


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    config = SandboxConfig(seed=7, speed=SPEED, orders_per_day=40, extra={"report_url_ttl_seconds": 5.0})
    with SandboxServer(config) as server:
        yield server


def _schema(report_type: str) -> Draft7Validator:
    return Draft7Validator(json.loads((models_dir() / "report-schemas" / SCHEMAS[report_type]).read_text()))


def _days(first: date, last: date) -> dict[str, str]:
    return {"dataStartTime": f"{first.isoformat()}T00:00:00Z", "dataEndTime": f"{last.isoformat()}T23:59:59Z"}


@pytest.mark.parametrize(("report_type", "body", "rows"), [
    (ba.SELLER_PERFORMANCE, {}, "performanceMetrics"),
    (ba.SEARCH_TERMS, {"reportOptions": {"reportPeriod": "WEEK"}, **_days(date(2026, 11, 1), date(2026, 11, 7))},
     "dataByDepartmentAndSearchTerm"),
    (ba.MARKET_BASKET, {"reportOptions": {"reportPeriod": "MONTH"},
                        **_days(date(2026, 9, 1), date(2026, 10, 31))}, "dataByAsin"),
    (ba.REPEAT_PURCHASE, {"reportOptions": {"reportPeriod": "QUARTER"},
                          **_days(date(2026, 4, 1), date(2026, 6, 30))}, "dataByAsin"),
])
def test_documents_follow_amazons_schema(sb: SandboxServer, report_type: str, body: dict[str, Any],
                                         rows: str) -> None:
    assert catalog.lookup(report_type).fmt == catalog.JSON and report_type in docs.served_types()
    caller = api(sb, f"json-{report_type.lower()}")
    report = caller.wait(caller.create_id(report_type, **body))
    assert report["processingStatus"] == "DONE", report
    download, raw = caller.download(report)
    assert download.headers["content-type"] == "application/json"
    document = json.loads(raw)
    errors = list(_schema(report_type).iter_errors(document))
    assert not errors, errors[0]
    assert document[rows]
    if report_type == ba.MARKET_BASKET:  # two months, each its own period
        assert {(r["startDate"], r["endDate"]) for r in document[rows]} == {("2026-09-01", "2026-09-30"),
                                                                               ("2026-10-01", "2026-10-31")}
        assert document["reportSpecification"]["reportOptions"] == {"reportPeriod": "MONTH"}
    if report_type == ba.SELLER_PERFORMANCE:
        assert [m["marketplaceId"] for m in document["performanceMetrics"]] == [US]


@pytest.mark.parametrize(("report_type", "options", "first", "last", "rule"), [
    (ba.SEARCH_TERMS, {"reportPeriod": "WEEK"}, date(2026, 11, 2), date(2026, 11, 8), "must be a Sunday"),
    (ba.SEARCH_TERMS, {"reportPeriod": "WEEK"}, date(2026, 11, 1), date(2026, 11, 6), "must be a Saturday"),
    (ba.SEARCH_TERMS, {"reportPeriod": "WEEK"}, date(2026, 11, 1), date(2026, 11, 14), "cannot span more than one"),
    (ba.SEARCH_TERMS, {"reportPeriod": "DAY"}, date(2026, 11, 1), date(2026, 11, 2), "cannot span more than one"),
    (ba.MARKET_BASKET, {"reportPeriod": "MONTH"}, date(2026, 9, 2), date(2026, 9, 30),
     "must be the first day of a month"),
    (ba.REPEAT_PURCHASE, {"reportPeriod": "QUARTER"}, date(2026, 4, 1), date(2026, 5, 31),
     "must be the last day of a quarter"),
    (ba.REPEAT_PURCHASE, {"reportPeriod": "DAY"}, date(2026, 4, 1), date(2026, 4, 1), "reportPeriod"),
    (ba.MARKET_BASKET, {}, date(2026, 4, 1), date(2026, 4, 1), "needs reportOptions.reportPeriod"),
])
def test_a_period_amazon_does_not_allow_is_refused_naming_the_rule(sb: SandboxServer, report_type: str,
                                                                   options: dict[str, str], first: date,
                                                                   last: date, rule: str) -> None:
    caller = api(sb, "json-periods")
    answer = caller.create(report_type, reportOptions=options, **_days(first, last))
    assert answer.status_code == 400, answer.text
    assert rule in answer.json()["errors"][0]["details"]


def test_periods_and_their_bounds() -> None:
    assert ba.period_start(date(2026, 11, 4), "WEEK") == date(2026, 11, 1)  # a Sunday
    assert ba.period_end(date(2026, 11, 4), "WEEK") == date(2026, 11, 7)
    assert ba.period_end(date(2026, 11, 4), "QUARTER") == date(2026, 12, 31)
    assert ba.period_start(date(2026, 2, 14), "QUARTER") == date(2026, 1, 1)
    assert list(ba.periods(date(2026, 1, 1), date(2026, 3, 31), "MONTH")) == [
        (date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 31))]
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    assert ba.period_problem(ba.SELLER_PERFORMANCE, {}, moment, moment) is None
