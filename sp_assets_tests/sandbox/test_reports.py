"""Reports API 2021-06-30 in the sandbox: Amazon's contract, the lifecycle, documents, persistence.

Every answer comes over real HTTP and is checked against ``reports_2021-06-30.json``; documents are
checked against the synthetic seller and against what the REST APIs return for the same data.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft7Validator

from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.reports import catalog
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import SandboxProcess, SandboxServer
from sp_assets_tests.support import Sandbox, SandboxCaller

from .contract import models_dir, validate_response

MODEL = "reports_2021-06-30.json"
BASE = "/reports/2021-06-30"
US = by_code("us").marketplace_id
DE = by_code("de").marketplace_id
JP = by_code("jp").marketplace_id
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
SPEED = 2000.0  # queue 15-45 ms, processing 30-150 ms (document URLs would live 150 ms: see the fixture)


# ------------------------------------------------------------------------------------------ helpers
class Api:
    """A tiny Reports API caller over plain ``requests`` (sandbox tests never use the project's client)."""

    def __init__(self, sb: Sandbox, refresh_token: str) -> None:
        self.base_url = sb.base_url
        self.caller = SandboxCaller(sb, refresh_token)  # a new access token whenever the sandbox says so

    def create(self, report_type: str, marketplace_ids: list[str] | None = None, **body: Any) -> requests.Response:
        payload = {"reportType": report_type, "marketplaceIds": marketplace_ids or [US], **body}
        return self.caller.post(f"{BASE}/reports", json=payload)

    def create_id(self, report_type: str, marketplace_ids: list[str] | None = None, **body: Any) -> str:
        answer = self.create(report_type, marketplace_ids, **body)
        assert answer.status_code == 202, answer.text
        validate_response(MODEL, "createReport", 202, answer.json())
        return answer.json()["reportId"]

    def report(self, report_id: str) -> requests.Response:
        return self.caller.get(f"{BASE}/reports/{report_id}")

    def reports(self, **params: Any) -> requests.Response:
        return self.caller.get(f"{BASE}/reports", params=params)

    def cancel(self, report_id: str) -> requests.Response:
        return self.caller.delete(f"{BASE}/reports/{report_id}")

    def document(self, document_id: str) -> requests.Response:
        return self.caller.get(f"{BASE}/documents/{document_id}")

    def wait(self, report_id: str, timeout: float = 20.0) -> dict:
        """Poll getReport until a terminal status; every answer is checked against the model."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.report(report_id)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            validate_response(MODEL, "getReport", 200, body, strict=True)
            if body["processingStatus"] in ("DONE", "CANCELLED", "FATAL"):
                return body
            assert time.monotonic() < deadline, f"report {report_id} still {body['processingStatus']}"
            time.sleep(0.01)

    def download(self, report: dict) -> tuple[requests.Response, bytes]:
        """getReportDocument, then the presigned URL with NO access token; returns the raw answer and body.

        A URL that expired before it was used (150 ms at speed 2000 on a busy machine) is fetched anew,
        as a client must.
        """
        for _ in range(3):
            answer = self.document(report["reportDocumentId"])
            assert answer.status_code == 200, answer.text
            validate_response(MODEL, "getReportDocument", 200, answer.json(), strict=True)
            download = requests.get(answer.json()["url"], timeout=30)
            if download.status_code != 403:
                break
        assert download.status_code == 200, download.text
        raw = download.content
        body = gzip.decompress(raw) if answer.json().get("compressionAlgorithm") == "GZIP" else raw
        return download, body


def api(sb: Any, name: str, region: str = "na") -> Api:
    """An API caller with this test's own refresh token, so its buckets are full."""
    return Api(sb, f"Atzr|sandbox-{region}-{name}")


def tsv(body: bytes, charset: str) -> list[list[str]]:
    return [line.split("\t") for line in body.decode(charset).splitlines()]


def day(days_ago: int) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


def window(days_ago: int) -> dict[str, str]:
    start = day(days_ago)
    return {"dataStartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "dataEndTime": (start + timedelta(days=1, seconds=-1)).strftime("%Y-%m-%dT%H:%M:%SZ")}


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def fast(sandbox_factory: Callable[..., SandboxServer], **config: Any) -> SandboxServer:
    """A sandbox at SPEED whose document URLs live 5 s (unless the test sets its own extras)."""
    extra = {"report_url_ttl_seconds": 5.0, **config.pop("extra", {})}
    return sandbox_factory(speed=SPEED, extra=extra, **config)


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    """One fast sandbox for the tests that only need their own buckets (each uses its own token)."""
    # Document URLs live 5 s here (not 150 ms) so a busy machine cannot expire one between the two calls.
    config = SandboxConfig(seed=7, speed=SPEED, orders_per_day=40, extra={"report_url_ttl_seconds": 5.0})
    with SandboxServer(config) as server:
        yield server


# ------------------------------------------------------------------------------------------ lifecycle
def test_create_then_poll_through_queue_and_processing_to_done(sandbox_factory) -> None:
    """The status follows the sandbox's clock, which the test moves: no phase is missed on a slow machine."""
    sb = fast(sandbox_factory, orders_per_day=40,
              extra={"report_queue_seconds": 0.8, "report_processing_seconds": 0.8})
    created = datetime.now(UTC)
    sb.seller.clock = lambda: created
    caller = api(sb, "lifecycle")
    report_id = caller.create_id(ALL_ORDERS, **window(3))
    assert report_id.isdigit() and len(report_id) == 11, "report ids are digits like Amazon's"
    seen = []
    for moment in (0.0, 1.0):  # in the queue, then processing
        sb.seller.clock = lambda moment=moment: created + timedelta(seconds=moment)
        answer = caller.report(report_id)
        validate_response(MODEL, "getReport", 200, answer.json(), strict=True)
        seen.append(answer.json())
    sb.seller.clock = lambda: created + timedelta(seconds=2.0)
    seen.append(caller.wait(report_id))  # done once the document is written
    assert [s["processingStatus"] for s in seen] == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    queued, processing, done = seen
    assert "reportDocumentId" not in queued and "processingStartTime" not in queued
    assert "reportDocumentId" not in processing and "processingStartTime" in processing
    assert done["reportDocumentId"].startswith("amzn1.spdoc.") and done["processingEndTime"] >= done["createdTime"]
    assert done["dataStartTime"] == window(3)["dataStartTime"] and done["marketplaceIds"] == [US]
    assert sb.stats.get(f"createReport.{ALL_ORDERS}") == 1
    assert answer.headers["x-amzn-RateLimit-Limit"] == f"{2.0 * SPEED:g}"


def test_cancel_only_while_in_queue(sandbox_factory) -> None:
    sb = fast(sandbox_factory, extra={"report_queue_seconds": 60.0})
    caller = api(sb, "cancel")
    report_id = caller.create_id(ALL_ORDERS, **window(4))
    answer = caller.cancel(report_id)
    assert answer.status_code == 200, answer.text
    validate_response(MODEL, "cancelReport", 200, answer.json())
    report = caller.report(report_id).json()
    assert report["processingStatus"] == "CANCELLED" and "reportDocumentId" not in report
    again = caller.cancel(report_id)
    assert again.status_code == 400 and "IN_QUEUE" in again.json()["errors"][0]["details"]
    validate_response(MODEL, "cancelReport", 400, again.json(), strict=True)
    assert caller.cancel("12345678901").status_code == 404

    quick = fast(sandbox_factory)
    done_caller = api(quick, "cancel-done")
    done = done_caller.wait(done_caller.create_id(ALL_ORDERS, **window(4)))
    refused = done_caller.cancel(done["reportId"])
    assert refused.status_code == 400 and "DONE" in refused.json()["errors"][0]["details"]


def test_no_data_ends_cancelled_without_document(sandbox_factory) -> None:
    empty = fast(sandbox_factory, orders_per_day=0)
    caller = api(empty, "empty")
    report = caller.wait(caller.create_id(ALL_ORDERS, **window(2)))
    assert report["processingStatus"] == "CANCELLED" and "reportDocumentId" not in report
    old = caller.wait(caller.create_id("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", **window(1200)))
    assert old["processingStatus"] == "CANCELLED", "windows older than Amazon's two years have no data"
    future_start = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = caller.wait(caller.create_id(ALL_ORDERS, dataStartTime=future_start, dataEndTime=future_start))
    assert future["processingStatus"] == "CANCELLED"


def test_fatal_first_then_a_new_request_succeeds_with_error_document(sandbox_factory) -> None:
    sb = fast(sandbox_factory, faults="fatal=first")
    caller = api(sb, "fatal")
    fatal = caller.wait(caller.create_id(ALL_ORDERS, **window(5)))
    assert fatal["processingStatus"] == "FATAL"
    download, body = caller.download(fatal)
    assert "errorDetails" in json.loads(body) and "new report" in json.loads(body)["errorDetails"]
    assert caller.document(fatal["reportDocumentId"]).json().get("compressionAlgorithm") is None
    again = caller.wait(caller.create_id(ALL_ORDERS, **window(5)))
    assert again["processingStatus"] == "DONE"
    other_window = caller.wait(caller.create_id(ALL_ORDERS, **window(6)))
    assert other_window["processingStatus"] == "FATAL", "fatal=first applies to each window's first request"


# ------------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(("body", "status", "needle"), [
    ({"reportType": "GET_NO_SUCH_REPORT"}, 400, "GET_NO_SUCH_REPORT"),
    ({"reportType": docs.SETTLEMENT_V2}, 400, "cannot be requested"),
    ({"reportType": docs.SETTLEMENT_V1}, 400, "cannot be requested"),
    ({"reportType": "GET_FBA_SNS_FORECAST_DATA"}, 400, "removed it on 2025-12-11"),
    ({"marketplaceIds": []}, 400, "marketplaceIds"),
    ({"marketplaceIds": [US] * 26}, 400, "at most 25"),
    ({"reportOptions": {"custom": True}}, 400, "custom (bool)"),
    ({"reportOptions": ["custom"]}, 400, "reportOptions"),
    ({"reportType": docs.SALES_AND_TRAFFIC, "reportOptions": {"dateGranularity": "YEAR"}}, 400, "DAY, WEEK"),
    ({"dataStartTime": "2024-02-01T00:00:00Z", "dataEndTime": "2024-01-01T00:00:00Z"}, 400, "dataStartTime"),
    ({"dataStartTime": "yesterday"}, 400, "dataStartTime"),
    ({"marketplaceIds": [DE]}, 403, "EU"),
])
def test_create_report_rejects_bad_input_naming_the_field(sb: SandboxServer, body: dict, status: int,
                                                          needle: str) -> None:
    caller = api(sb, "validation")
    payload = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [US], **body}
    answer = caller.caller.post(f"{BASE}/reports", json=payload)
    assert answer.status_code == status, answer.text
    validate_response(MODEL, "createReport", status, answer.json(), strict=True)
    assert needle in answer.json()["errors"][0]["details"]


def test_get_reports_pages_and_next_token_must_be_alone(sb: SandboxServer) -> None:
    caller = api(sb, "listing")
    ids = [caller.create_id("GET_MERCHANT_LISTINGS_ALL_DATA") for _ in range(3)]
    first = caller.reports(reportTypes="GET_MERCHANT_LISTINGS_ALL_DATA", pageSize=2)
    assert first.status_code == 200, first.text
    validate_response(MODEL, "getReports", 200, first.json(), strict=True)
    token = first.json()["nextToken"]
    second = caller.reports(nextToken=token)
    validate_response(MODEL, "getReports", 200, second.json(), strict=True)
    listed = [r["reportId"] for r in first.json()["reports"] + second.json()["reports"]]
    assert listed == sorted(ids, reverse=True), "newest first, every report once"
    assert "nextToken" not in second.json()

    mixed = caller.reports(nextToken=token, reportTypes="GET_MERCHANT_LISTINGS_ALL_DATA")
    assert mixed.status_code == 400
    validate_response(MODEL, "getReports", 400, mixed.json(), strict=True)
    assert "NextToken cannot be specified with other input parameters" in mixed.json()["errors"][0]["details"]
    assert caller.reports().status_code == 400, "reportTypes is required without nextToken"
    assert caller.reports(reportTypes="X", processingStatuses="BAD_VALUE").status_code == 400
    assert caller.reports(reportTypes="X", pageSize=101).status_code == 400
    caller.wait(ids[0])
    done = caller.reports(reportTypes="GET_MERCHANT_LISTINGS_ALL_DATA", processingStatuses="DONE").json()
    assert ids[0] in [r["reportId"] for r in done["reports"]]
    other = api(sb, "listing-other-seller").reports(reportTypes="GET_MERCHANT_LISTINGS_ALL_DATA").json()
    assert other["reports"] == [], "reports belong to the seller that requested them"


def test_settlement_reports_are_listed_with_documents(sb: SandboxServer) -> None:
    caller = api(sb, "settlement")
    answer = caller.reports(reportTypes=docs.SETTLEMENT_V2, marketplaceIds=US, pageSize=100)
    assert answer.status_code == 200
    validate_response(MODEL, "getReports", 200, answer.json(), strict=True)
    reports = answer.json()["reports"]
    assert 5 <= len(reports) <= 8, "one per 14-day period over the 90 days getReports covers"
    assert all(r["processingStatus"] == "DONE" and r["reportType"] == docs.SETTLEMENT_V2 for r in reports)
    latest = reports[0]
    assert caller.report(latest["reportId"]).json() == latest
    download, body = caller.download(latest)
    rows = tsv(body, "cp1252")
    assert tuple(rows[0]) == catalog.lookup(docs.SETTLEMENT_V2).columns
    summary, postings = dict(zip(rows[0], rows[1], strict=True)), rows[2:]
    assert summary["transaction-type"] == "" and summary["currency"] == "USD"
    total = sum(Decimal(r[rows[0].index("amount")].replace(",", "")) for r in postings)
    assert Decimal(summary["total-amount"].replace(",", "")) == total and len(postings) > 100, \
        "US amounts are written 1,234.56"


# ------------------------------------------------------------------------------------------ documents
def test_document_url_expires_and_a_fresh_one_works(sandbox_factory) -> None:
    sb = fast(sandbox_factory, extra={"report_url_ttl_seconds": 1.0})
    caller = api(sb, "expiry")
    report = caller.wait(caller.create_id("GET_MERCHANT_LISTINGS_ALL_DATA"))
    document = caller.document(report["reportDocumentId"]).json()
    assert document["url"].startswith(sb.base_url + "/_documents/"), "the link points at this sandbox"
    assert wait_until(lambda: requests.get(document["url"], timeout=10).status_code == 403, timeout=5)
    expired = requests.get(document["url"], timeout=10)
    assert "Request has expired" in expired.text and expired.headers["content-type"].startswith("application/xml")
    download, body = caller.download(report)
    assert body.decode("cp1252").startswith("item-name\titem-description")
    tampered = document["url"].replace("signature=", "signature=0")
    assert requests.get(tampered, timeout=10).status_code == 403
    assert caller.document("amzn1.spdoc.1.4.na.nope").status_code == 404


def test_flat_files_have_amazons_headers(sb: SandboxServer) -> None:
    """Every flat file the sandbox generates has exactly the header its catalog row declares."""
    expected = {t: catalog.lookup(t).columns for t in docs.FLAT_FILE_GENERATORS}
    assert all(expected.values()), "every generated type declares its columns in the catalog"
    assert {ALL_ORDERS, "GET_LEDGER_SUMMARY_VIEW_DATA", catalog.STORAGE_FEES} <= set(expected)
    start = day(40).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = day(10).strftime("%Y-%m-%dT%H:%M:%SZ")
    # One caller per type: more types than createReport's and getReportDocument's burst of 15.
    callers = {t: api(sb, f"headers-{n}") for n, t in enumerate(expected)}
    ids = {t: callers[t].create_id(t, dataStartTime=start, dataEndTime=end) for t in expected}
    for report_type, columns in expected.items():
        caller = callers[report_type]
        report = caller.wait(ids[report_type])
        assert report["processingStatus"] == "DONE", report_type
        download, body = caller.download(report)
        assert download.headers["content-type"] == "text/tab-separated-values; charset=Cp1252"
        rows = tsv(body, "cp1252")
        assert tuple(rows[0]) == columns and len(rows) > 2, report_type
        assert all(len(r) == len(columns) for r in rows), report_type


def test_ledger_options_shape_the_rows(sb: SandboxServer) -> None:
    caller = api(sb, "ledger")
    start, end = day(20), day(6)
    span = {"dataStartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "dataEndTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")}
    daily = caller.wait(caller.create_id("GET_LEDGER_SUMMARY_VIEW_DATA", reportOptions={
        "aggregatedByTimePeriod": "DAILY", "aggregateByLocation": "FC"}, **span))
    rows = [dict(zip(catalog.lookup(catalog.LEDGER_SUMMARY).columns, r, strict=True)) for r in tsv(caller.download(daily)[1], "cp1252")[1:]]
    assert {r["Date"] for r in rows} == {(start + timedelta(days=n)).strftime("%m/%d/%Y") for n in range(15)}
    assert {r["Location"] for r in rows} <= {"PHX7", "SEA8", "ONT8"}
    by_key = {(r["MSKU"], r["Location"], r["Date"]): r for r in rows}
    for r in rows:  # balances chain from one day to the next and every movement reconciles
        moves = sum(int(r[c]) for c in ("Receipts", "Customer Shipments", "Customer Returns", "Unknown Events"))
        assert int(r["Starting Warehouse Balance"]) + moves == int(r["Ending Warehouse Balance"])
        following = by_key.get((r["MSKU"], r["Location"],
                                (datetime.strptime(r["Date"], "%m/%d/%Y") + timedelta(days=1)).strftime("%m/%d/%Y")))
        if following:
            assert following["Starting Warehouse Balance"] == r["Ending Warehouse Balance"]
    assert any(int(r["Customer Shipments"]) < 0 for r in rows)


def test_inventory_report_agrees_with_get_inventory_summaries(sb: SandboxServer) -> None:
    caller = api(sb, "myi")
    report = caller.wait(caller.create_id("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"))
    rows = tsv(caller.download(report)[1], "cp1252")
    by_sku = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    created = datetime.fromisoformat(report["createdTime"].replace("Z", "+00:00"))
    summaries = sb.backend("inventory").inventory_summaries(US, created + timedelta(seconds=1))
    assert set(by_sku) == {s.seller_sku for s in summaries}
    for summary in summaries:
        row = by_sku[summary.seller_sku]
        assert int(row["afn-fulfillable-quantity"]) == summary.fulfillable
        assert int(row["afn-inbound-shipped-quantity"]) == summary.inbound_shipped


def test_japanese_document_is_shift_jis(sb: SandboxServer) -> None:
    caller = api(sb, "charset", region="fe")
    report = caller.wait(caller.create_id("GET_MERCHANT_LISTINGS_ALL_DATA", [JP]))
    download, body = caller.download(report)
    assert download.headers["content-type"] == "text/tab-separated-values; charset=Shift_JIS"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    rows = tsv(body, "shift_jis")
    titles = [r[0] for r in rows[1:]]
    assert titles == [p.title for p in sb.seller.products(JP)]
    assert any("ステンレス" in t for t in titles)


def test_charset_and_truncate_faults_change_what_a_download_declares_and_holds(sandbox_factory) -> None:
    """``charset=`` declares another charset over the same bytes; ``truncate=`` cuts the gzip stream short."""
    answers = {}
    for name, faults in (("clean", ""), ("wrong", "charset=Shift_JIS,truncate=0.5")):
        caller = api(sandbox_factory(seed=5, faults=faults), "faults")
        report = caller.wait(caller.create_id("GET_MERCHANT_LISTINGS_ALL_DATA"))
        answers[name] = requests.get(caller.document(report["reportDocumentId"]).json()["url"], timeout=30)
    clean, wrong = answers["clean"], answers["wrong"]
    assert clean.status_code == wrong.status_code == 200
    assert clean.headers["content-type"] == "text/tab-separated-values; charset=Cp1252"
    assert wrong.headers["content-type"] == "text/tab-separated-values; charset=Shift_JIS"
    assert len(clean.content) > 100 and len(wrong.content) == len(clean.content) // 2
    with pytest.raises(EOFError):
        gzip.decompress(wrong.content)
    partial = zlib.decompressobj(wbits=31).decompress(wrong.content)  # what a reader gets before the cut
    assert partial and gzip.decompress(clean.content).startswith(partial)
    with pytest.raises(ValueError, match="charset must be a charset name"):
        SandboxConfig(faults="charset=")
    with pytest.raises(ValueError, match="truncate must be a fraction"):
        SandboxConfig(faults="truncate=2")


# ------------------------------------------------------------------------------------------ agreement
def _get_all_orders(sb: SandboxServer, caller: Api, start: datetime, end: datetime) -> list[dict]:
    params: dict[str, Any] = {"MarketplaceIds": US, "CreatedAfter": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "CreatedBefore": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "MaxResultsPerPage": 100}
    orders: list[dict] = []
    while True:
        answer = caller.caller.get("/orders/v0/orders", params=params)
        assert answer.status_code == 200, answer.text
        payload = answer.json()["payload"]
        orders += payload["Orders"]
        if "NextToken" not in payload:
            return orders
        params = {"MarketplaceIds": US, "NextToken": payload["NextToken"]}


def _get_items(sb: SandboxServer, caller: Api, order_id: str) -> list[dict]:
    items: list[dict] = []
    params: dict[str, str] = {}
    while True:
        answer = caller.caller.get(f"/orders/v0/orders/{order_id}/orderItems", params=params)
        assert answer.status_code == 200, answer.text
        items += answer.json()["payload"]["OrderItems"]
        if "NextToken" not in answer.json()["payload"]:
            return items
        params = {"NextToken": answer.json()["payload"]["NextToken"]}


def test_all_orders_report_agrees_with_get_orders_and_items(sb: SandboxServer) -> None:
    caller = api(sb, "agreement")
    start = day(8)
    report = caller.wait(caller.create_id(ALL_ORDERS, **window(8)))
    rows = tsv(caller.download(report)[1], "cp1252")
    header, rows = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert tuple(header) == catalog.lookup(ALL_ORDERS).columns

    orders = _get_all_orders(sb, caller, start, start + timedelta(days=1))
    assert orders, "the day must have orders"
    assert sorted({r["amazon-order-id"] for r in rows}) == sorted(o["AmazonOrderId"] for o in orders)
    rest: dict[tuple[str, str], dict] = {}
    for order in orders:
        for item in _get_items(sb, caller, order["AmazonOrderId"]):
            rest[(order["AmazonOrderId"], item["SellerSKU"])] = {**item, "_order": order}
    assert len(rest) == len(rows), "one report row per order item"
    for row in rows:
        item = rest[(row["amazon-order-id"], row["sku"])]
        order = item["_order"]
        assert row["order-status"] == order["OrderStatus"]
        assert row["purchase-date"][:19] == order["PurchaseDate"][:19]
        assert row["last-updated-date"][:19] == order["LastUpdateDate"][:19]
        assert row["asin"] == item["ASIN"] and int(row["quantity"]) == item["QuantityOrdered"]
        for column, field in (("item-price", "ItemPrice"), ("item-tax", "ItemTax"),
                              ("shipping-price", "ShippingPrice"), ("item-promotion-discount", "PromotionDiscount")):
            assert Decimal(row[column]) == Decimal(item[field]["Amount"]), (column, row["amazon-order-id"])
        assert row["currency"] == item["ItemPrice"]["CurrencyCode"]


def test_pending_orders_have_empty_prices(sb: SandboxServer) -> None:
    now = datetime.now(UTC)
    order = next(o for o in sb.seller.orders_created_between(US, now - timedelta(hours=6), now) if not o.has_prices)
    row = docs.all_orders_row(order, order.items[0], with_cpf=True)
    assert row["order-status"] == "Pending" and row["item-price"] == "" and row["currency"] == ""
    assert row["quantity"] == str(order.items[0].quantity)


def test_sales_and_traffic_follows_its_schema_and_the_orders(sb: SandboxServer) -> None:
    caller = api(sb, "sales-traffic")
    day_ids = {"orders": caller.create_id(ALL_ORDERS, **window(9)),
               "sales": caller.create_id(docs.SALES_AND_TRAFFIC, reportOptions={
                   "dateGranularity": "DAY", "asinGranularity": "SKU"}, **window(9))}
    orders_rows = tsv(caller.download(caller.wait(day_ids["orders"]))[1], "cp1252")
    download, body = caller.download(caller.wait(day_ids["sales"]))
    assert download.headers["content-type"] == "application/json"
    document = json.loads(body)
    schema = json.loads((models_dir() / "report-schemas" / "sellerSalesAndTrafficReport.json").read_text())
    errors = list(Draft7Validator(schema).iter_errors(document))
    assert not errors, errors[0]
    header = orders_rows[0]
    sold = [dict(zip(header, r, strict=True)) for r in orders_rows[1:]]
    expected = sum(Decimal(r["item-price"]) for r in sold if r["order-status"] != "Canceled")
    (by_date,) = document["salesAndTrafficByDate"]
    assert by_date["date"] == day(9).date().isoformat()
    assert Decimal(str(by_date["salesByDate"]["orderedProductSales"]["amount"])) == expected
    assert by_date["salesByDate"]["unitsOrdered"] == sum(int(r["quantity"]) for r in sold
                                                         if r["order-status"] != "Canceled")
    by_sku = sum(Decimal(str(a["salesByAsin"]["orderedProductSales"]["amount"]))
                 for a in document["salesAndTrafficByAsin"])
    assert by_sku == expected and all("sku" in a for a in document["salesAndTrafficByAsin"])


# ------------------------------------------------------------------------------------------ persistence
def test_reports_survive_a_sandbox_process_restart(tmp_path: Path) -> None:
    args = ["--speed", str(SPEED), "--orders-per-day", "20", "--state-dir", str(tmp_path)]
    with SandboxProcess(args) as first:
        caller = api(first, "restart")
        report = caller.wait(caller.create_id(ALL_ORDERS, **window(3)))
        pending_id = caller.create_id("GET_MERCHANT_LISTINGS_ALL_DATA")
        _, before = caller.download(report)
    assert list((tmp_path / "reports" / "reports").glob("*.json")), "report state is on disk"
    with SandboxProcess(args) as second:
        caller = api(second, "restart")
        again = caller.wait(report["reportId"])
        assert again["reportDocumentId"] == report["reportDocumentId"]
        assert again["processingStatus"] == "DONE" and again["createdTime"] == report["createdTime"]
        _, after = caller.download(again)
        assert after == before
        assert caller.wait(pending_id)["processingStatus"] == "DONE"
        new_id = caller.create_id(ALL_ORDERS, **window(3))
        assert new_id not in (report["reportId"], pending_id) and int(new_id) > int(pending_id)


def test_last_update_report_selects_by_last_update_date(sb: SandboxServer) -> None:
    caller = api(sb, "last-update")
    report = caller.wait(caller.create_id("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", **window(2)))
    rows = tsv(caller.download(report)[1], "cp1252")
    ids = {dict(zip(rows[0], r, strict=True))["amazon-order-id"] for r in rows[1:]}
    created = datetime.fromisoformat(report["createdTime"].replace("Z", "+00:00"))
    start = day(2)
    truth = sb.seller.orders_updated_between(US, start, start + timedelta(days=1), as_of=created + timedelta(seconds=1))
    assert ids == {o.amazon_order_id for o in truth} and ids
    assert "cpf" not in rows[0]
