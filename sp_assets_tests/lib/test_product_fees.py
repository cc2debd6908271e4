"""Product Fees: estimates at each SKU's own price against the sandbox (batches of 20, the settlement's
fee rule, per-SKU errors kept as rows), and answer parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from sp_assets.lib.product_fees import (
    FEE_ESTIMATES,
    NO_FEE,
    FeeEstimateItemError,
    FeeOutcome,
    FeeRequest,
    fee_outcomes,
    fee_rows,
    fetch_fee_estimates,
    get_my_fees_estimates,
)
from sp_assets.lib.tablespec import frame_from_records
from sp_assets.sandbox.report_documents import item_fees
from sp_assets_tests.lib.spapi.support import US, client_for

DAY, MOMENT = date(2026, 3, 2), datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_45_skus_take_3_calls_and_every_fee_is_the_settlement_rule_at_the_own_price(sandbox_factory) -> None:
    sb = sandbox_factory()
    products = sb.seller.products(US)[:45]
    with client_for(sb) as client:
        estimates = fetch_fee_estimates(client, US, [p.sku for p in products])
    assert sb.stats.get("getMyFeesEstimates.served") == 3 and sb.stats.get("getPricing.served") == 3
    assert client.stats.as_dict()["fees"]["calls"] == 3
    assert [o.sku for o in estimates.outcomes] == [p.sku for p in products]
    assert estimates.invalid == {} and estimates.errors == 0
    rows = estimates.rows(DAY, MOMENT)
    frame = frame_from_records(FEE_ESTIMATES, rows)  # the spec takes every row, keys unique
    assert frame.select(["sku", "fee_type"]).is_duplicated().sum() == 0
    pricing = sb.backend("pricing")
    for product in products:
        mine = {r["fee_type"]: r for r in rows if r["sku"] == product.sku}
        # What the seller is charged in its settlement for one unit sold at this price, as positive fees.
        settled = {name: -amount for name, amount in
                   item_fees(product.price, product.price, 1, product.fulfillment_channel, "USD")}
        assert Decimal(str(mine["ReferralFee"]["final_fee"])) == settled["Commission"]
        fba = product.fulfillment_channel == "AFN"
        assert ("FBAFees" in mine) is fba
        if fba:
            assert Decimal(str(mine["FBAFees"]["final_fee"])) == settled["FBAPerUnitFulfillmentFee"]
        for row in mine.values():
            assert row["price_amount"] == product.price and row["is_amazon_fulfilled"] is fba
            assert row["shipping_amount"] == pricing.shipping(product) and row["asin"] == product.asin
            assert Decimal(str(row["total_fees_estimate"])) == sum(settled.values())
            assert (row["status"], row["error_code"], row["currency"]) == ("Success", None, "USD")


def test_unknown_skus_are_kept_as_error_rows_and_listed_invalid(sandbox_factory) -> None:
    sb = sandbox_factory()
    known = [p.sku for p in sb.seller.products(US)[:3]]
    with client_for(sb) as client:
        estimates = fetch_fee_estimates(client, US, [known[0], "NO-SUCH-SKU", *known[1:], known[0]])
    assert [o.sku for o in estimates.outcomes] == [known[0], "NO-SUCH-SKU", *known[1:]]  # duplicates once
    assert estimates.invalid == {"NO-SUCH-SKU": "ClientError"} and estimates.errors == 1
    (row,) = [r for r in estimates.rows(DAY, MOMENT) if r["sku"] == "NO-SUCH-SKU"]
    assert (row["fee_type"], row["status"], row["error_code"]) == (NO_FEE, "ClientError", "NoPrice")
    assert row["price_amount"] is None and "getPricing answered ClientError" in row["error_message"]


def test_an_estimate_amazon_refuses_is_its_client_error_row(sandbox_factory) -> None:
    sb = sandbox_factory()
    product = sb.seller.products(US)[0]
    requests = [FeeRequest(product.sku, US, product.price, None, "USD", False),
                FeeRequest("GONE-1", US, Decimal("9.99"), Decimal(0), "USD", True)]
    with client_for(sb) as client:
        good, bad = get_my_fees_estimates(client, requests)
    assert good.ok and good.estimate["TotalFeesEstimate"]["CurrencyCode"] == "USD"
    assert (bad.sku, bad.status, bad.error_code) == ("GONE-1", "ClientError", "InvalidParameterValue")
    (row,) = fee_rows_of(bad)
    assert (row["fee_type"], row["price_amount"], row["is_amazon_fulfilled"]) == (NO_FEE, Decimal("9.99"), True)
    assert "not a valid listing" in row["error_message"]


def fee_rows_of(outcome: FeeOutcome) -> list[dict[str, Any]]:
    return fee_rows(outcome, DAY, MOMENT)


def test_answers_are_matched_by_identifier_and_missing_ones_are_no_result() -> None:
    requests = [FeeRequest(s, US, Decimal("10"), None, "USD", False) for s in ("A", "B", "C")]
    body = [{"Status": "Success", "FeesEstimateIdentifier": {"SellerInputIdentifier": "B", "IdValue": "B"},
             "FeesEstimate": {"TotalFeesEstimate": {"Amount": 1.5}, "FeeDetailList": [
                 {"FeeType": "ReferralFee", "FeeAmount": {"Amount": 1.5}, "FinalFee": {"Amount": 1.5}}]}},
            {"Status": "ClientError", "FeesEstimateIdentifier": {"IdValue": "A"},
             "Error": {"Type": "Sender", "Code": "InvalidParameterValue", "Message": "no", "Detail": []}},
            "garbage"]
    result = {o.sku: o for o in fee_outcomes(body, requests)}
    assert result["B"].ok and result["A"].error_code == "InvalidParameterValue"
    assert (result["C"].status, result["C"].error_code) == ("NoResult", "NoResult")
    (row,) = fee_rows_of(result["B"])
    assert (row["fee_type"], row["final_fee"], row["fee_promotion"]) == ("ReferralFee", 1.5, None)


def test_request_bodies_and_limits(sandbox) -> None:
    yen = FeeRequest("J-1", "A1VC38T7YXB528", Decimal("1980"), Decimal("0"), "JPY", True).body()
    assert yen["FeesEstimateRequest"]["PriceToEstimateFees"]["ListingPrice"] == {"CurrencyCode": "JPY",
                                                                                 "Amount": 1980}
    assert yen["IdType"] == "SellerSKU" and yen["FeesEstimateRequest"]["Identifier"] == "J-1"
    cents = FeeRequest("U-1", US, Decimal("12.50"), None, "USD", False).body()["FeesEstimateRequest"]
    assert cents["PriceToEstimateFees"] == {"ListingPrice": {"CurrencyCode": "USD", "Amount": 12.5}}
    client = client_for(sandbox)
    with pytest.raises(ValueError, match="batch_size must be 1..20"):
        list(get_my_fees_estimates(client, [], batch_size=21))
    assert client.stats.total().calls == 0


def test_a_service_error_fails_the_fetch_naming_the_sku(sandbox_factory, monkeypatch) -> None:
    """Amazon's third per-item status: a retry may cure it, so it is no error row but a failed fetch."""
    from sp_assets.lib import product_fees

    def service_error(body: Any, batch: list[FeeRequest]) -> Any:
        for request in batch:
            yield FeeOutcome(request.sku, request, "ServiceError")

    monkeypatch.setattr(product_fees, "fee_outcomes", service_error)
    sb = sandbox_factory()
    with client_for(sb) as client, pytest.raises(FeeEstimateItemError, match="status 'ServiceError'"):
        fetch_fee_estimates(client, US, [sb.seller.products(US)[0].sku])
