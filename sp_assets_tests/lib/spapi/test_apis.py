"""The per-API functions against the sandbox: pricing, inventory, catalog, reports (and their paging)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sp_assets.lib.reports.api import (
    TERMINAL_STATUSES,
    cancel_report,
    create_report,
    get_report,
    get_report_document,
    get_reports,
)
from sp_assets.lib.spapi import AccessDeniedError, InvalidInputError, NotFoundError, RetryPolicy
from sp_assets.lib.spapi.catalog import list_catalog_categories, search_catalog_items
from sp_assets.lib.spapi.inbound import get_shipment_items, get_shipment_items_by_shipment_id, get_shipments
from sp_assets.lib.spapi.inventory import get_inventory_summaries
from sp_assets.lib.spapi.outbound import list_all_fulfillment_orders
from sp_assets.lib.spapi.pricing import InvalidItem, PricedItem, get_competitive_pricing, get_pricing
from sp_assets.lib.spapi.sellers import get_marketplace_participations

from .support import US, client_for, wait_until

TRICKY = ["MUG 12oz BLUE", "CABLE+USB/C-1M", 'TEE "VINTAGE" L', "KIT#7 SET"]


# ------------------------------------------------------------------------------------------------
# pricing


def test_pricing_batches_of_20_and_tricky_skus_round_trip(sandbox_factory) -> None:
    sb = sandbox_factory()
    skus = [p.sku for p in sb.seller.products(US)]
    assert set(TRICKY) <= set(skus)
    unknown = ['NO SUCH "SKU" +/#', "missing-1"]
    with client_for(sb) as client:
        results = list(get_pricing(client, US, "Sku", skus + unknown))
    assert sb.stats.get("getPricing.served") == -(-(len(skus) + 2) // 20)  # each batch once, <= 20 each
    priced = {r.identifier: r for r in results if isinstance(r, PricedItem)}
    invalid = {r.identifier: r for r in results if isinstance(r, InvalidItem)}
    assert set(priced) == set(skus)  # every SKU, the tricky ones included, came back as sent
    assert set(invalid) == set(unknown) and all(r.status == "ClientError" and not r.ok for r in invalid.values())
    offer = priced["CABLE+USB/C-1M"].record["Product"]["Offers"][0]
    assert offer["SellerSKU"] == "CABLE+USB/C-1M"


def test_competitive_pricing_by_asin(sandbox) -> None:
    asins = [p.asin for p in sandbox.seller.products(US)[:5]]
    with client_for(sandbox) as client:
        results = list(get_competitive_pricing(client, US, "Asin", asins + ["B000000000"]))
    assert [r.identifier for r in results if r.ok] == asins
    assert "CompetitivePricing" in results[0].record["Product"]
    assert [r.status for r in results if not r.ok] == ["ClientError"]


def test_pricing_rejects_bad_arguments_before_calling(sandbox) -> None:
    client = client_for(sandbox)
    with pytest.raises(ValueError, match="item_type"):
        list(get_pricing(client, US, "Upc", ["x"]))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        list(get_pricing(client, US, "Sku", ["x"], batch_size=21))
    assert client.stats.total().calls == 0


# ------------------------------------------------------------------------------------------------
# inventory: pagination.nextToken at the top level, startDateTime sent again


def test_inventory_pages_with_start_date_time(sandbox_factory) -> None:
    # Speed 50, not 1000: Amazon's nextToken lives 30 s, scaled by the speed; 30 ms would be shorter
    # than a loaded test machine's round trip.
    sb = sandbox_factory(speed=50.0, extra={"page_sizes": {"inventory": 7}})
    since = datetime.now(UTC) - timedelta(days=30)
    with client_for(sb) as client:
        everything = list(get_inventory_summaries(client, US, details=True))
        changed = list(get_inventory_summaries(client, US, start_date_time=since))
    skus = [s["sellerSku"] for s in everything]
    assert len(skus) > 7 and len(set(skus)) == len(skus)
    assert "inventoryDetails" in everything[0]
    assert changed and {s["sellerSku"] for s in changed} <= set(skus)
    expected_pages = -(-len(everything) // 7) + -(-len(changed) // 7)
    assert sb.stats.get("getInventorySummaries.served") == expected_pages


def test_inventory_by_seller_skus(sandbox) -> None:
    wanted = [p.sku for p in sandbox.seller.products(US)][:60]
    with client_for(sandbox) as client:
        found = list(get_inventory_summaries(client, US, seller_skus=wanted, details=False))
    assert {s["sellerSku"] for s in found} <= set(wanted)
    with pytest.raises(ValueError, match="start_date_time"):
        list(get_inventory_summaries(client, US, seller_skus=wanted, start_date_time=datetime.now(UTC)))


# ------------------------------------------------------------------------------------------------
# catalog


def test_catalog_search_pages_with_page_token(sandbox_factory) -> None:
    sb = sandbox_factory()
    with client_for(sb) as client:
        items = list(search_catalog_items(client, US, keywords=["Brightline"], page_size=5,
                                          included_data=["summaries", "salesRanks"]))
    asins = [i["asin"] for i in items]
    assert len(asins) > 5 and len(set(asins)) == len(asins)
    assert sb.stats.get("searchCatalogItems.served") == -(-len(asins) // 5)
    assert "summaries" in items[0]


def test_catalog_categories_and_errors(sandbox) -> None:
    product = sandbox.seller.products(US)[0]
    with client_for(sandbox) as client:
        categories = list_catalog_categories(client, US, seller_sku=product.sku)
        assert categories and "ProductCategoryId" in categories[0]
        with pytest.raises(InvalidInputError):
            list_catalog_categories(client, US, asin="B000000000")
        with pytest.raises(ValueError, match="exactly one"):
            list_catalog_categories(client, US)


# ------------------------------------------------------------------------------------------------
# reports: the calls (the lifecycle is sp_assets/lib/reports/lifecycle.py's)


def test_report_calls_and_document_download(sandbox_factory, tmp_path: Path) -> None:
    sb = sandbox_factory(faults="")
    with client_for(sb) as client:
        report_id = create_report(client, "GET_MERCHANT_LISTINGS_ALL_DATA", [US], report_options={"custom": True})
        assert wait_until(lambda: get_report(client, report_id)["processingStatus"] in TERMINAL_STATUSES, 20)
        report = get_report(client, report_id)
        assert report["processingStatus"] == "DONE"
        document = get_report_document(client, report["reportDocumentId"])
        result = client.download_to(document["url"], tmp_path / "doc.bin")
        raw = result.path.read_bytes()
        data = gzip.decompress(raw) if document.get("compressionAlgorithm") == "GZIP" else raw
        assert result.bytes == len(raw) > 0 and result.charset
        header = data.decode(result.charset).splitlines()[0]
        assert "seller-sku" in header
        # Streaming gives the same bytes.
        assert b"".join(client.iter_download(document["url"])) == raw
        with pytest.raises(NotFoundError):
            get_report(client, "999999999999")


def test_document_download_survives_faults(sandbox_factory, tmp_path: Path) -> None:
    sb = sandbox_factory(faults="5xx=0.3,drop=0.3")
    with client_for(sb, retry=RetryPolicy(max_attempts=12)) as client:
        report_id = create_report(client, "GET_AFN_INVENTORY_DATA", [US])
        assert wait_until(lambda: get_report(client, report_id)["processingStatus"] in TERMINAL_STATUSES, 20)
        document_id = get_report(client, report_id)["reportDocumentId"]

        def fresh_url() -> str:  # a presigned URL lives 5 min / speed = 0.3 s here: fetch one per download
            return get_report_document(client, document_id)["url"]

        copies = [client.download_to(fresh_url(), tmp_path / f"{n}.bin").path.read_bytes() for n in range(6)]
        streamed = [b"".join(client.iter_download(fresh_url())) for _ in range(2)]
    assert len(copies[0]) > 20 and all(c == copies[0] for c in copies + streamed)
    faults = sb.stats.snapshot()
    assert sum(v for k, v in faults.items() if k.startswith("downloadReportDocument.fault")) > 0
    downloads = client.stats.family("downloads")
    assert downloads.calls == 8 and downloads.retries > 0 and downloads.failed_calls == 0


def test_expired_document_url_is_access_denied(sandbox_factory, tmp_path: Path) -> None:
    sb = sandbox_factory()
    with client_for(sb) as client:
        report_id = create_report(client, "GET_AFN_INVENTORY_DATA", [US])
        assert wait_until(lambda: get_report(client, report_id)["processingStatus"] in TERMINAL_STATUSES, 20)
        url = get_report_document(client, get_report(client, report_id)["reportDocumentId"])["url"]

        def expired() -> bool:  # the URL lives 5 min / speed 1000 = 0.3 s
            try:
                client.download_to(url, tmp_path / "doc")
            except AccessDeniedError as error:
                assert "Request has expired" in str(error) and "signature" not in str(error).lower()
                return True
            return False

        assert wait_until(expired, 10, 0.05)


def test_get_reports_sends_next_token_alone(sandbox_factory) -> None:
    sb = sandbox_factory()
    with client_for(sb) as client:
        reports = list(get_reports(client, ["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"], page_size=2))
    ids = [r["reportId"] for r in reports]
    assert len(ids) > 2 and len(set(ids)) == len(ids)
    assert sb.stats.get("getReports.served") == -(-len(ids) // 2)
    assert sb.stats.get("getReports.400") == 0


def test_cancel_report(sandbox_factory) -> None:
    sb = sandbox_factory(speed=1.0)  # slow: the report stays IN_QUEUE long enough to cancel
    with client_for(sb) as client:
        report_id = create_report(client, "GET_AFN_INVENTORY_DATA", [US])
        assert cancel_report(client, report_id) is None
        assert get_report(client, report_id)["processingStatus"] == "CANCELLED"


# ------------------------------------------------------------------------------------------------
# inbound (QueryType=NEXT_TOKEN + NextToken), outbound (payload.nextToken), sellers


def test_inbound_shipments_and_items_page_through(sandbox_factory) -> None:
    sb = sandbox_factory(extra={"page_sizes": {"inbound_shipments": 3, "inbound_items": 4}})
    now = datetime.now(UTC)
    after, before = now - timedelta(days=50), now - timedelta(days=20)
    truth = sb.backend("inbound").shipments_updated_between(US, after, before)
    with client_for(sb) as client:
        by_date = list(get_shipments(client, US, last_updated_after=after, last_updated_before=before))
        items = list(get_shipment_items(client, US, last_updated_after=after, last_updated_before=before))
        wanted = [s.shipment_id for s in truth[:5]]
        by_ids = list(get_shipments(client, US, shipment_ids=wanted))
        closed = list(get_shipments(client, US, shipment_ids=wanted, statuses=["CLOSED"]))
        first = by_date[0]["ShipmentId"]
        by_id = get_shipment_items_by_shipment_id(client, first)
    assert len(truth) > 3 and [s["ShipmentId"] for s in by_date] == [s.shipment_id for s in truth]
    assert sb.stats.get("getShipments.400") == 0 and sb.stats.get("getShipmentItems.400") == 0
    assert len(items) > 4 and sum(len(s.items_json()) for s in truth) == len(items)
    assert [s["ShipmentId"] for s in by_ids] == wanted
    assert [s["ShipmentId"] for s in closed] == [s.shipment_id for s in truth[:5] if s.status == "CLOSED"]
    assert by_id and all(i["ShipmentId"] == first for i in by_id)
    with pytest.raises(ValueError, match="statuses"):
        list(get_shipments(client, US))


def test_outbound_fulfillment_orders_page_through(sandbox_factory) -> None:
    sb = sandbox_factory(extra={"page_sizes": {"outbound": 10}})
    with client_for(sb) as client:
        orders = list(list_all_fulfillment_orders(client, datetime.now(UTC) - timedelta(days=5)))
    ids = [o["sellerFulfillmentOrderId"] for o in orders]
    assert len(ids) > 10 and len(set(ids)) == len(ids)
    assert sb.stats.get("listAllFulfillmentOrders.served") == -(-len(ids) // 10)


def test_marketplace_participations(sandbox) -> None:
    with client_for(sandbox, "EU") as client:
        participations = get_marketplace_participations(client)
    assert participations and all(p["marketplace"]["id"] for p in participations)
    assert "DE" in {p["marketplace"]["countryCode"] for p in participations}
