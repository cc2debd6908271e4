"""Product Fees v0 in the sandbox: Amazon's contract (productFeesV0.json), the settlement's fee rule behind
every estimate, the per-item ``ClientError`` for an identifier the seller does not list, and the
20-item limit.

getMyFeesEstimates allows a burst of 1, so these tests use their own fast sandbox (a token every 2 ms)
and retry a 429 by polling until the bucket refills, as the pricing tests do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox.backends.product_fees import estimated_fees
from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.report_documents import item_fees
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller, caller

from .contract import validate_response
from .test_pricing import retrying_429

MODEL = "productFeesV0.json"
PATH = "/products/fees/v0/feesEstimate"
US = by_code("us").marketplace_id
JP = by_code("jp").marketplace_id


@pytest.fixture(scope="module")
def fast() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(seed=7, speed=1000.0, orders_per_day=60)) as server:
        now = datetime.now(UTC)
        server.seller.clock = lambda: now
        yield server


@pytest.fixture
def na(fast: SandboxServer) -> SandboxCaller:
    return caller(fast, "Atzr|sandbox-na-fees-tests")


def post(token: SandboxCaller, body: Any) -> requests.Response:
    return retrying_429(lambda: token.post(PATH, json=body, timeout=10))


def item(id_value: str, price: Any, currency: str = "USD", *, fba: bool = False, id_type: str = "SellerSKU",
         marketplace_id: str = US, identifier: str | None = None) -> dict[str, Any]:
    return {"IdType": id_type, "IdValue": id_value, "FeesEstimateRequest": {
        "MarketplaceId": marketplace_id, "IsAmazonFulfilled": fba, "Identifier": identifier or id_value,
        "PriceToEstimateFees": {"ListingPrice": {"CurrencyCode": currency, "Amount": price},
                                "Shipping": {"CurrencyCode": currency, "Amount": 0}}}}


def test_estimates_charge_what_the_settlement_charges_for_a_sale_at_that_price(fast: SandboxServer,
                                                                               na: SandboxCaller) -> None:
    products = fast.seller.products(US)[:20]
    body = [item(p.sku, float(p.price), fba=p.fulfillment_channel == "AFN", identifier=f"req-{i}")
            for i, p in enumerate(products)]
    answer = post(na, body)
    assert answer.status_code == 200, answer.text
    results = answer.json()
    validate_response(MODEL, "getMyFeesEstimates", 200, results, strict=True)
    assert [r["FeesEstimateIdentifier"]["SellerInputIdentifier"] for r in results] == [f"req-{i}" for i in
                                                                                       range(20)]
    assert {p.fulfillment_channel for p in products} == {"AFN", "MFN"}
    for result, product in zip(results, products, strict=True):
        assert result["Status"] == "Success" and "Error" not in result
        fba = product.fulfillment_channel == "AFN"
        # The settlement's postings for one unit sold at this price, negated: what the estimate must say.
        settled = {name: -amount for name, amount in
                   item_fees(product.price, product.price, 1, product.fulfillment_channel, "USD")}
        fees = {d["FeeType"]: Decimal(str(d["FinalFee"]["Amount"])) for d in result["FeesEstimate"]["FeeDetailList"]}
        assert fees["ReferralFee"] == settled["Commission"] == (product.price * Decimal("0.15")).quantize(
            Decimal("0.01"))
        assert fees.get("FBAFees") == settled.get("FBAPerUnitFulfillmentFee")
        assert ("FBAFees" in fees) is fba and fees["VariableClosingFee"] == fees["PerItemFee"] == 0
        total = Decimal(str(result["FeesEstimate"]["TotalFeesEstimate"]["Amount"]))
        assert total == sum(settled.values()) == sum(fees.values())
        assert result["FeesEstimateIdentifier"]["IsAmazonFulfilled"] is fba


def test_the_request_decides_fba_not_the_listing(fast: SandboxServer, na: SandboxCaller) -> None:
    mfn = next(p for p in fast.seller.products(US) if p.fulfillment_channel == "MFN")
    results = post(na, [item(mfn.sku, 20.0, fba=False), item(mfn.sku, 20.0, fba=True, identifier="what-if")]).json()
    assert [sorted(d["FeeType"] for d in r["FeesEstimate"]["FeeDetailList"]) for r in results] == [
        ["PerItemFee", "ReferralFee", "VariableClosingFee"],
        ["FBAFees", "PerItemFee", "ReferralFee", "VariableClosingFee"]]
    assert results[1]["FeesEstimate"]["TotalFeesEstimate"]["Amount"] == 5.4  # 15% + 12% of 20.00


def test_unknown_identifiers_are_a_client_error_per_item_inside_a_200(fast: SandboxServer,
                                                                      na: SandboxCaller) -> None:
    known = fast.seller.products(US)[0]
    answer = post(na, [item("NO-SUCH-SKU", 10), item(known.sku, 10), item("B000000000", 10, id_type="ASIN"),
                       item(known.asin, 10, id_type="ASIN"), item(known.sku, 10, currency="EUR")])
    assert answer.status_code == 200, answer.text
    results = answer.json()
    validate_response(MODEL, "getMyFeesEstimates", 200, results, strict=True)
    assert [r["Status"] for r in results] == ["ClientError", "Success", "ClientError", "Success", "ClientError"]
    for bad in (results[0], results[2], results[4]):
        assert "FeesEstimate" not in bad
        assert (bad["Error"]["Type"], bad["Error"]["Code"]) == ("Sender", "InvalidParameterValue")
    assert "'NO-SUCH-SKU' is not a valid listing" in results[0]["Error"]["Message"]
    assert results[0]["FeesEstimateIdentifier"]["IdValue"] == "NO-SUCH-SKU"
    assert "CurrencyCode must be USD" in results[4]["Error"]["Message"]


def test_yen_fees_are_whole_numbers(fast: SandboxServer) -> None:
    fe = caller(fast, "Atzr|sandbox-fe-fees-tests")
    product = next(p for p in fast.seller.products(JP) if p.fulfillment_channel == "AFN")
    results = post(fe, [item(product.sku, int(product.price), "JPY", fba=True, marketplace_id=JP)]).json()
    validate_response(MODEL, "getMyFeesEstimates", 200, results, strict=True)
    total = results[0]["FeesEstimate"]["TotalFeesEstimate"]
    assert isinstance(total["Amount"], int) and total["CurrencyCode"] == "JPY"
    assert Decimal(total["Amount"]) == sum(estimated_fees(product.price, True, "JPY").values())


@pytest.mark.parametrize(("body", "detail"), [
    ([item(f"S{i}", 10) for i in range(21)], "at most 20 FeesEstimateByIdRequest items"),
    ([], "JSON array of 1 to 20"),
    ({"IdType": "SellerSKU"}, "JSON array"),
    ([{**item("X", 10), "IdType": "UPC"}], "[0].IdType must be one of ASIN, SellerSKU"),
    ([item("X", 10), {"IdType": "ASIN"}], "[1].IdValue is required"),
    ([item("X", -1)], "ListingPrice is required"),
    ([item("X", 10, marketplace_id="XYZ")], "marketplace"),
])
def test_bad_input_is_a_400_naming_the_field(na: SandboxCaller, body: Any, detail: str) -> None:
    answer = post(na, body)
    assert answer.status_code == 400, answer.text
    assert detail in answer.json()["errors"][0]["details"]
    validate_response(MODEL, "getMyFeesEstimates", 400, answer.json(), strict=True)


def test_a_token_of_another_region_is_denied(fast: SandboxServer) -> None:
    eu = caller(fast, "Atzr|sandbox-eu-fees-tests")
    answer = post(eu, [item("KIT-00-BLK", 10)])
    assert answer.status_code == 403
    validate_response(MODEL, "getMyFeesEstimates", 403, answer.json(), strict=True)


def test_burst_of_one_at_amazons_rate(sandbox_factory) -> None:
    sb = sandbox_factory(speed=1.0)
    token = caller(sb, "Atzr|sandbox-na-fees-burst")
    first = token.post(PATH, json=[item("KIT-00-BLK", 10)], timeout=10)
    second = token.post(PATH, json=[item("KIT-00-BLK", 10)], timeout=10)
    assert (first.status_code, second.status_code) == (200, 429)
    assert first.headers["x-amzn-RateLimit-Limit"] == "0.5"
    validate_response(MODEL, "getMyFeesEstimates", 429, second.json(), strict=True)
