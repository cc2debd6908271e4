"""Product Pricing v0 in the sandbox: Amazon's contract (productPricingV0.json), per-identifier
``status`` with ``ClientError`` inside a 200, the 20-identifier limit, SKUs that need percent-encoding,
and agreement with the catalog (my price) and the daily buy box / sales ranks.

Both operations allow a burst of 1, so these tests use their own sandbox (one module-wide, a fresh
access token per test) and retry a 429 by polling until the bucket refills (2 ms at speed 1000).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller, caller

from .contract import validate_response

MODEL = "productPricingV0.json"
PRICE = "/products/pricing/v0/price"
COMPETITIVE = "/products/pricing/v0/competitivePrice"
OPS = {PRICE: "getPricing", COMPETITIVE: "getCompetitivePricing"}
US = by_code("us").marketplace_id
JP = by_code("jp").marketplace_id
TRICKY = ["MUG 12oz BLUE", "CABLE+USB/C-1M", 'TEE "VINTAGE" L', "KIT#7 SET"]


@pytest.fixture(scope="module")
def fast() -> Iterator[SandboxServer]:
    """Burst 1 at 0.5/s x 1000: a token every 2 ms. (A higher speed would also shorten access tokens.)

    Its clock is frozen so that a UTC midnight during the run cannot move the daily buy box.
    """
    with SandboxServer(SandboxConfig(seed=7, speed=1000.0, orders_per_day=120)) as server:
        now = datetime.now(UTC)
        server.seller.clock = lambda: now
        yield server


@pytest.fixture
def na(fast: SandboxServer) -> SandboxCaller:
    return caller(fast, "Atzr|sandbox-na-pricing-tests")


def get(sb: SandboxServer, token: SandboxCaller, path: str, **params: object) -> requests.Response:
    """One call; a 429 (burst 1) is retried by polling until the bucket has a token again."""
    return retrying_429(lambda: token.get(path, params=params))


def retrying_429(call: Callable[[], requests.Response]) -> requests.Response:
    deadline = time.monotonic() + 5.0
    while True:
        answer = call()
        if answer.status_code != 429 or time.monotonic() > deadline:
            return answer
        time.sleep(0.002)


def test_get_pricing_by_sku_is_my_catalog_price(fast: SandboxServer, na: SandboxCaller) -> None:
    products = fast.seller.products(US)[:20]
    answer = get(fast, na, PRICE, MarketplaceId=US, ItemType="Sku", Skus=",".join(p.sku for p in products))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    validate_response(MODEL, "getPricing", 200, body, strict=True)
    assert "errors" not in body
    assert [e["SellerSKU"] for e in body["payload"]] == [p.sku for p in products]
    for entry, product in zip(body["payload"], products, strict=True):
        assert entry["status"] == "Success"
        identifiers = entry["Product"]["Identifiers"]
        assert identifiers["MarketplaceASIN"] == {"MarketplaceId": US, "ASIN": product.asin}
        assert identifiers["SKUIdentifier"]["SellerSKU"] == product.sku
        (offer,) = entry["Product"]["Offers"]
        assert Decimal(str(offer["RegularPrice"]["Amount"])) == product.price
        assert isinstance(offer["BuyingPrice"]["ListingPrice"]["Amount"], float), "Amount is a number here"
        assert offer["FulfillmentChannel"] == ("Amazon" if product.fulfillment_channel == "AFN" else "Merchant")
        landed = offer["BuyingPrice"]["LandedPrice"]["Amount"]
        assert landed == pytest.approx(offer["BuyingPrice"]["ListingPrice"]["Amount"]
                                       + offer["BuyingPrice"]["Shipping"]["Amount"])


def test_unknown_sku_is_a_client_error_inside_a_200(fast: SandboxServer, na: SandboxCaller) -> None:
    answer = get(fast, na, PRICE, MarketplaceId=US, ItemType="Sku", Skus="KIT-00-BLK,NO-SUCH-SKU")
    assert answer.status_code == 200
    body = answer.json()
    validate_response(MODEL, "getPricing", 200, body, strict=True)
    good, bad = body["payload"]
    assert good["status"] == "Success"
    assert bad == {"status": "ClientError", "SellerSKU": "NO-SUCH-SKU"}
    assert [e["details"] for e in body["errors"]] == ["SellerSKU=NO-SUCH-SKU"]
    assert "NO-SUCH-SKU is an invalid SellerSKU" in body["errors"][0]["message"]

    asins = get(fast, na, COMPETITIVE, MarketplaceId=US, ItemType="Asin", Asins="B000000000")
    validate_response(MODEL, "getCompetitivePricing", 200, asins.json(), strict=True)
    assert asins.json()["payload"] == [{"status": "ClientError", "ASIN": "B000000000"}]


def test_tricky_skus_round_trip_when_percent_encoded(fast: SandboxServer, na: SandboxCaller) -> None:
    for path in (PRICE, COMPETITIVE):
        body = get(fast, na, path, MarketplaceId=US, ItemType="Sku", Skus=",".join(TRICKY)).json()
        assert [(e["SellerSKU"], e["status"]) for e in body["payload"]] == [(s, "Success") for s in TRICKY]
        assert [e["Product"]["Identifiers"]["SKUIdentifier"]["SellerSKU"] for e in body["payload"]] == TRICKY
    # Sent raw, "+" arrives as a space and the SKU is unknown, as on Amazon.
    raw = retrying_429(lambda: na.get(f"{fast.base_url}{PRICE}?MarketplaceId={US}&ItemType=Sku"
                                      "&Skus=CABLE+USB/C-1M", timeout=10))
    assert raw.json()["payload"] == [{"status": "ClientError", "SellerSKU": "CABLE USB/C-1M"}]


def test_competitive_pricing_agrees_with_the_buy_box_and_the_catalog_ranks(fast: SandboxServer,
                                                                           na: SandboxCaller) -> None:
    products = fast.seller.products(US)[20:40]
    before = fast.seller.now()
    body = get(fast, na, COMPETITIVE, MarketplaceId=US, ItemType="Asin",
               Asins=",".join(p.asin for p in products), CustomerType="Business").json()
    validate_response(MODEL, "getCompetitivePricing", 200, body, strict=True)
    pricing, catalog = fast.backend("pricing"), fast.backend("catalog")
    for entry, product in zip(body["payload"], products, strict=True):
        assert entry["ASIN"] == product.asin and "SKUIdentifier" not in entry["Product"]["Identifiers"]
        snap = pricing.competitive(US, product, before)
        buy_box = entry["Product"]["CompetitivePricing"]["CompetitivePrices"][0]
        assert buy_box["CompetitivePriceId"] == "1" and buy_box["offerType"] == "B2B"
        assert Decimal(str(buy_box["Price"]["LandedPrice"]["Amount"])) == snap.landed_price
        assert buy_box["belongsToRequester"] == snap.belongs_to_requester
        counts = {c["condition"]: c["Count"] for c in entry["Product"]["CompetitivePricing"]["NumberOfOfferListings"]}
        assert counts["New"] == snap.new_offers
        ranks = catalog.sales_ranks(US, product, before.date())
        assert {r["ProductCategoryId"]: r["Rank"] for r in entry["Product"]["SalesRankings"]} == {
            catalog.display_group(product): ranks.display_group_rank, product.category_id: ranks.classification_rank}


def test_yen_amounts_are_whole_numbers(fast: SandboxServer) -> None:
    fe = caller(fast, "Atzr|sandbox-fe-pricing-tests")
    product = fast.seller.products(JP)[1]
    body = get(fast, fe, PRICE, MarketplaceId=JP, ItemType="Sku", Skus=product.sku, OfferType="B2B").json()
    validate_response(MODEL, "getPricing", 200, body, strict=True)
    (offer,) = body["payload"][0]["Product"]["Offers"]
    assert offer["RegularPrice"] == {"CurrencyCode": "JPY", "Amount": int(product.price)}
    assert offer["offerType"] == "B2B" and isinstance(offer["businessPrice"]["Amount"], int)


def test_an_item_condition_the_seller_does_not_offer_returns_no_offers(fast: SandboxServer,
                                                                       na: SandboxCaller) -> None:
    body = get(fast, na, PRICE, MarketplaceId=US, ItemType="Sku", Skus="KIT-00-BLK", ItemCondition="Used").json()
    assert body["payload"][0]["status"] == "Success" and body["payload"][0]["Product"]["Offers"] == []


@pytest.mark.parametrize("path", [PRICE, COMPETITIVE])
@pytest.mark.parametrize(("params", "detail"), [
    ({"ItemType": "Sku", "Skus": ",".join(f"S{i}" for i in range(21))}, "at most 20"),
    ({"ItemType": "Asin", "Asins": ",".join(f"B0{i:08d}" for i in range(21))}, "at most 20"),
    ({"Skus": "KIT-00-BLK"}, "ItemType"),
    ({"ItemType": "SKU", "Skus": "KIT-00-BLK"}, "ItemType"),
    ({"ItemType": "Sku"}, "Skus"),
    ({"ItemType": "Sku", "Skus": "KIT-00-BLK", "MarketplaceId": "XYZ"}, "marketplace"),
])
def test_bad_input_is_a_400(fast: SandboxServer, na: SandboxCaller, path: str, params: dict,
                            detail: str) -> None:
    answer = get(fast, na, path, **{"MarketplaceId": US, **params})
    assert answer.status_code == 400, answer.text
    assert detail in answer.json()["errors"][0]["details"]
    validate_response(MODEL, OPS[path], 400, answer.json(), strict=True)


def test_sku_list_missing_says_which_parameter_as_amazon_does(fast: SandboxServer, na: SandboxCaller) -> None:
    answer = get(fast, na, COMPETITIVE, MarketplaceId=US, ItemType="Sku")
    assert answer.json()["errors"][0]["message"] == "Required parameter SellerSKU not found"


def test_enum_parameters_are_validated(fast: SandboxServer, na: SandboxCaller) -> None:
    for path, name in ((PRICE, "ItemCondition"), (PRICE, "OfferType"), (COMPETITIVE, "CustomerType")):
        answer = get(fast, na, path, MarketplaceId=US, ItemType="Sku", Skus="KIT-00-BLK", **{name: "Bogus"})
        assert answer.status_code == 400 and name in answer.json()["errors"][0]["details"]


def test_a_token_of_another_region_is_denied(fast: SandboxServer) -> None:
    eu = caller(fast, "Atzr|sandbox-eu-pricing-tests")
    answer = get(fast, eu, PRICE, MarketplaceId=US, ItemType="Sku", Skus="KIT-00-BLK")
    assert answer.status_code == 403
    validate_response(MODEL, "getPricing", 403, answer.json(), strict=True)


def test_burst_of_one_at_amazons_rate(sandbox_factory) -> None:
    sb = sandbox_factory(speed=1.0)
    token = caller(sb, "Atzr|sandbox-na-pricing-burst")
    params = {"MarketplaceId": US, "ItemType": "Sku", "Skus": "KIT-00-BLK"}
    first = token.get(PRICE, params=params, timeout=10)
    second = token.get(PRICE, params=params, timeout=10)
    assert (first.status_code, second.status_code) == (200, 429)
    assert first.headers["x-amzn-RateLimit-Limit"] == "0.5"
    validate_response(MODEL, "getPricing", 429, second.json(), strict=True)
    other = token.get(COMPETITIVE, params=params, timeout=10)
    assert other.status_code == 200, "each operation has its own bucket"
