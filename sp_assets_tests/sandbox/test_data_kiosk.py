"""Data Kiosk 2023-11-15 in the sandbox: Amazon's contract, the query lifecycle, documents, the data.

Every answer comes over real HTTP and is checked against ``dataKiosk_2023-11-15.json``; documents are
checked against the selection of the query and against the synthetic seller's orders.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox import report_documents as docs
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller

from .contract import validate_response

MODEL = "dataKiosk_2023-11-15.json"
BASE = "/dataKiosk/2023-11-15"
US = by_code("us").marketplace_id
SPEED = 2000.0


def past(days_ago: int) -> date:
    return (datetime.now(UTC) - timedelta(days=days_ago)).date()


def economics_query(day: date, selection: str = "startDate msku childAsin sales { unitsOrdered "
                                                  "orderedProductSales { amount currencyCode } } "
                                                  "netProceeds { total { amount } }") -> str:
    return (f'query {{ analytics_economics_2024_03_15 {{ economics(startDate: "{day}", endDate: "{day}", '
            f'marketplaceIds: ["{US}"], aggregateBy: {{date: DAY, productId: MSKU}}) {{ {selection} }} }} }}')


def by_date_query(day: date) -> str:
    return (f'query {{ analytics_salesAndTraffic_2024_04_24 {{ salesAndTrafficByDate(startDate: "{day}", '
            f'endDate: "{day}", marketplaceIds: ["{US}"], aggregateBy: DAY) {{ startDate endDate marketplaceId '
            f"sales {{ unitsOrdered orderedProductSales {{ amount currencyCode }} }} traffic {{ sessions }} }} }} }}")


class Api:
    """A tiny Data Kiosk caller over plain ``requests`` (sandbox tests never use the project's client)."""

    def __init__(self, sb: SandboxServer, name: str) -> None:
        self.caller = SandboxCaller(sb, f"Atzr|sandbox-na-dk-{name}")

    def create(self, query: str) -> str:
        answer = self.caller.post(f"{BASE}/queries", json={"query": query})
        assert answer.status_code == 202, answer.text
        validate_response(MODEL, "createQuery", 202, answer.json(), strict=True)
        return answer.json()["queryId"]

    def query(self, query_id: str) -> dict[str, Any]:
        answer = self.caller.get(f"{BASE}/queries/{query_id}")
        assert answer.status_code == 200, answer.text
        validate_response(MODEL, "getQuery", 200, answer.json(), strict=True)
        return answer.json()

    def document(self, document_id: str) -> tuple[requests.Response, bytes]:
        answer = self.caller.get(f"{BASE}/documents/{document_id}")
        assert answer.status_code == 200, answer.text
        validate_response(MODEL, "getDocument", 200, answer.json(), strict=True)
        assert answer.json()["documentId"] == document_id
        download = requests.get(answer.json()["documentUrl"], timeout=30)  # no access token: presigned
        assert download.status_code == 200, download.text
        return download, download.content

    def lines(self, document_id: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.document(document_id)[1].decode("utf-8").splitlines()]


@pytest.fixture(scope="module")
def sb() -> Any:
    """Queries finish at once (no queue, no processing time): for the tests about answers and data."""
    from sp_assets.sandbox.config import SandboxConfig

    config = SandboxConfig(seed=7, speed=SPEED, orders_per_day=40,
                           extra={"datakiosk_queue_seconds": 0.0, "datakiosk_processing_seconds": 0.0})
    with SandboxServer(config) as server:
        yield server


# ------------------------------------------------------------------------------------------ lifecycle
def test_a_query_moves_through_queue_and_processing_to_done_on_the_sandbox_clock(sandbox_factory) -> None:
    sb = sandbox_factory(speed=SPEED, orders_per_day=40,
                         extra={"datakiosk_queue_seconds": 10.0, "datakiosk_processing_seconds": 10.0})
    created = datetime.now(UTC)
    sb.seller.clock = lambda: created
    api = Api(sb, "lifecycle")
    query_id = api.create(economics_query(past(3)))
    seen = []
    for moment in (0.0, 15.0, 25.0):
        sb.seller.clock = lambda moment=moment: created + timedelta(seconds=moment)
        seen.append(api.query(query_id))
    assert [s["processingStatus"] for s in seen] == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    queued, processing, done = seen
    assert "processingStartTime" not in queued and "dataDocumentId" not in processing
    assert done["dataDocumentId"] and done["processingEndTime"] >= done["processingStartTime"]
    assert done["query"] == economics_query(past(3))


def test_a_query_that_fails_schema_validation_ends_fatal_with_an_error_document(sb) -> None:
    api = Api(sb, "fatal")
    query = economics_query(past(3), selection="startDate noSuchField")
    done = api.query(api.create(query))
    assert done["processingStatus"] == "FATAL" and "dataDocumentId" not in done
    download, body = api.document(done["errorDocumentId"])
    assert "noSuchField" in json.loads(body)["errorMessage"]
    broken = api.query(api.create("query { analytics_economics_2024_03_15 { economics( } }"))
    assert broken["processingStatus"] == "FATAL"


def test_create_refuses_a_missing_or_overlong_query_naming_the_field(sb) -> None:
    api = Api(sb, "refuse")
    for body in ({}, {"query": ""}, {"query": "query { x }" + " a" * 8000}):
        answer = api.caller.post(f"{BASE}/queries", json=body)
        assert answer.status_code == 400, answer.text
        validate_response(MODEL, "createQuery", 400, answer.json(), strict=True)
        assert "query" in answer.json()["errors"][0]["details"]


def test_cancel_while_queued_then_not_after_done(sandbox_factory) -> None:
    sb = sandbox_factory(speed=SPEED, orders_per_day=40, extra={"datakiosk_queue_seconds": 600.0})
    api = Api(sb, "cancel")
    query_id = api.create(economics_query(past(4)))
    answer = api.caller.delete(f"{BASE}/queries/{query_id}")
    assert answer.status_code == 204 and answer.content == b""
    cancelled = api.query(query_id)
    assert cancelled["processingStatus"] == "CANCELLED" and "dataDocumentId" not in cancelled
    assert api.caller.delete(f"{BASE}/queries/{query_id}").status_code == 204, "cancelling again is a no-op"
    missing = api.caller.delete(f"{BASE}/queries/123")
    assert missing.status_code == 404
    validate_response(MODEL, "cancelQuery", 404, missing.json(), strict=True)


def test_a_finished_query_cannot_be_cancelled(sb) -> None:
    api = Api(sb, "cancel-done")
    query_id = api.create(economics_query(past(4)))
    assert api.query(query_id)["processingStatus"] == "DONE"
    refused = api.caller.delete(f"{BASE}/queries/{query_id}")
    assert refused.status_code == 400 and "DONE" in refused.json()["errors"][0]["details"]
    validate_response(MODEL, "cancelQuery", 400, refused.json(), strict=True)


def test_get_queries_pages_and_filters_by_status(sb) -> None:
    api = Api(sb, "list")
    ids = {api.create(economics_query(past(5 + n))) for n in range(3)}
    answer = api.caller.get(f"{BASE}/queries", params={"pageSize": 2, "processingStatuses": "DONE"})
    assert answer.status_code == 200, answer.text
    validate_response(MODEL, "getQueries", 200, answer.json(), strict=True)
    first = answer.json()
    token = first["pagination"]["nextToken"]
    second = api.caller.get(f"{BASE}/queries", params={"paginationToken": token})
    validate_response(MODEL, "getQueries", 200, second.json(), strict=True)
    listed = {q["queryId"] for q in first["queries"] + second.json()["queries"]}
    assert listed == ids and "pagination" not in second.json()
    none = api.caller.get(f"{BASE}/queries", params={"processingStatuses": "FATAL"}).json()
    assert none == {"queries": []}


def test_unknown_query_and_document_are_404(sb) -> None:
    api = Api(sb, "missing")
    for path in (f"{BASE}/queries/999", f"{BASE}/documents/amzn1.tortuga.4.na.nothing"):
        answer = api.caller.get(path)
        assert answer.status_code == 404
        validate_response(MODEL, "getQuery" if "queries" in path else "getDocument", 404, answer.json(), strict=True)


def test_document_urls_expire_and_need_their_signature(sandbox_factory) -> None:
    sb = sandbox_factory(speed=SPEED, orders_per_day=40, extra={
        "datakiosk_queue_seconds": 0.0, "datakiosk_processing_seconds": 0.0, "datakiosk_url_ttl_seconds": -1.0})
    api = Api(sb, "expired")
    done = api.query(api.create(economics_query(past(3))))
    url = api.caller.get(f"{BASE}/documents/{done['dataDocumentId']}").json()["documentUrl"]
    expired = requests.get(url, timeout=30)
    assert expired.status_code == 403 and b"expired" in expired.content
    forged = requests.get(url.replace("signature=", "signature=0"), timeout=30)
    assert forged.status_code == 403 and b"SignatureDoesNotMatch" in forged.content


# ------------------------------------------------------------------------------------------ documents
def test_documents_are_json_lines_shaped_by_the_selection(sb) -> None:
    api = Api(sb, "shape")
    day = past(3)
    done = api.query(api.create(economics_query(day)))
    lines = api.lines(done["dataDocumentId"])
    assert lines and all(set(line) == {"startDate", "msku", "childAsin", "sales", "netProceeds"} for line in lines)
    assert all(set(line["sales"]) == {"unitsOrdered", "orderedProductSales"} for line in lines)
    assert {line["startDate"] for line in lines} == {day.isoformat()}


def test_big_documents_are_gzip_and_small_ones_plain(sandbox_factory) -> None:
    extra = {"datakiosk_queue_seconds": 0.0, "datakiosk_processing_seconds": 0.0}
    zipped = Api(sandbox_factory(speed=SPEED, orders_per_day=40, extra={**extra, "datakiosk_gzip_min_bytes": 1}),
                 "gzip")
    done = zipped.query(zipped.create(economics_query(past(3))))
    download, body = zipped.document(done["dataDocumentId"])  # requests undoes Content-Encoding
    assert download.headers["content-encoding"] == "gzip" and json.loads(body.splitlines()[0])
    raw = requests.get(zipped.caller.get(f"{BASE}/documents/{done['dataDocumentId']}").json()["documentUrl"],
                       stream=True, timeout=30).raw.read(decode_content=False)
    assert gzip.decompress(raw) == body
    plain = Api(sandbox_factory(speed=SPEED, orders_per_day=40, extra={**extra, "datakiosk_gzip_min_bytes": 10**9}),
                "plain")
    done = plain.query(plain.create(economics_query(past(3))))
    download, body = plain.document(done["dataDocumentId"])
    assert "content-encoding" not in download.headers and json.loads(body.splitlines()[0])


def test_economics_agree_with_the_sellers_orders(sb) -> None:
    api = Api(sb, "economics")
    day = past(6)
    done = api.query(api.create(economics_query(day)))
    lines = api.lines(done["dataDocumentId"])
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    units: dict[str, int] = {}
    sales: dict[str, Decimal] = {}
    now = sb.seller.now()
    for plan in docs.plans_purchased(sb.seller, US, start, start + timedelta(days=1)):
        order = plan.at(now)
        if order is None or order.status == "Canceled":
            continue
        for item in plan.items:
            units[item.sku] = units.get(item.sku, 0) + item.quantity
            sales[item.sku] = sales.get(item.sku, Decimal(0)) + item.item_price
    by_sku = {line["msku"]: line for line in lines if line["sales"]["unitsOrdered"]}
    assert {sku: line["sales"]["unitsOrdered"] for sku, line in by_sku.items()} == units
    assert {sku: Decimal(repr(line["sales"]["orderedProductSales"]["amount"])) for sku, line in by_sku.items()} == sales
    assert all(line["netProceeds"]["total"]["amount"] < line["sales"]["orderedProductSales"]["amount"]
               for line in by_sku.values()), "fees come off the sales"


def test_economics_fees_use_the_settlement_reports_rates(sb) -> None:
    api = Api(sb, "fees")
    selection = ("msku sales { orderedProductSales { amount } netProductSales { amount } } netProceeds { total "
                 "{ amount } } fees { feeTypeName charges { identifier aggregatedDetail { totalAmount { amount } } } }")
    lines = api.lines(api.query(api.create(economics_query(past(6), selection)))["dataDocumentId"])
    cent = Decimal("0.01")
    for line in lines:
        charges = {c["identifier"]: Decimal(repr(c["aggregatedDetail"]["totalAmount"]["amount"]))
                   for fee in line["fees"] for c in fee["charges"]}
        sales = Decimal(repr(line["sales"]["orderedProductSales"]["amount"]))
        if sales:  # the settlement report's Commission: 15 % of the item price
            assert charges["REFERRAL_FEE"] == (sales * Decimal("0.15")).quantize(cent, rounding=ROUND_HALF_UP)
        net = Decimal(repr(line["sales"]["netProductSales"]["amount"]))
        assert Decimal(repr(line["netProceeds"]["total"]["amount"])) == net - sum(charges.values(), Decimal(0))
    assert any("FBA_FULFILLMENT_FEE" in {c["identifier"] for f in line["fees"] for c in f["charges"]}
               for line in lines), "FBA items pay the fulfillment fee"


def test_sales_and_traffic_by_date_agree_with_the_report_generator(sb) -> None:
    api = Api(sb, "by-date")
    day = past(6)
    done = api.query(api.create(by_date_query(day)))
    (line,) = api.lines(done["dataDocumentId"])
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    report = docs.sales_and_traffic(sb.seller, docs.DocumentSpec(
        docs.SALES_AND_TRAFFIC, (US,), start, start + timedelta(days=1, seconds=-1), {}, sb.seller.now()))
    assert report is not None
    (entry,) = report["salesAndTrafficByDate"]
    assert line["startDate"] == line["endDate"] == day.isoformat() and line["marketplaceId"] == US
    assert line["sales"]["unitsOrdered"] == entry["salesByDate"]["unitsOrdered"] > 0
    assert line["sales"]["orderedProductSales"] == entry["salesByDate"]["orderedProductSales"]
    assert line["traffic"]["sessions"] == entry["trafficByDate"]["sessions"]


def test_results_page_through_pagination_tokens_as_of_the_first_page(sandbox_factory) -> None:
    sb = sandbox_factory(speed=SPEED, orders_per_day=40, extra={
        "datakiosk_queue_seconds": 0.0, "datakiosk_processing_seconds": 0.0, "datakiosk_page_rows": 4})
    api = Api(sb, "pages")
    query = economics_query(past(3))
    whole = Api(sandbox_factory(speed=SPEED, orders_per_day=40, extra={
        "datakiosk_queue_seconds": 0.0, "datakiosk_processing_seconds": 0.0}), "whole")
    expected = whole.lines(whole.query(whole.create(query))["dataDocumentId"])
    assert len(expected) > 8, "enough lines for three pages"
    lines, pages = [], 0
    done = api.query(api.create(query))
    while True:
        pages += 1
        lines += api.lines(done["dataDocumentId"])
        token = done.get("pagination", {}).get("nextToken")
        if token is None:
            break
        answer = api.caller.post(f"{BASE}/queries", json={"query": query, "paginationToken": token})
        assert answer.status_code == 202, answer.text
        done = api.query(answer.json()["queryId"])
    assert lines == expected and pages == -(-len(expected) // 4)
    first = api.query(api.create(query))
    other = api.caller.post(f"{BASE}/queries", json={"query": by_date_query(past(3)),
                                                     "paginationToken": first["pagination"]["nextToken"]})
    assert other.status_code == 400 and "another query" in other.json()["errors"][0]["details"]
    validate_response(MODEL, "createQuery", 400, other.json(), strict=True)
