"""Catalog Items in the sandbox: listCatalogCategories v0 (catalogItemsV0.json) and searchCatalogItems /
getCatalogItem 2022-04-01 (catalogItems_2022-04-01.json, no wrapper), checked against Amazon's models
and against the seller's catalog (categories, keyword matches in any language, pages, sales ranks).
"""

from __future__ import annotations

import time

import pytest
import requests

from sp_assets.lib.marketplaces import by_code
from sp_assets.sandbox.backends.catalog import classification_json
from sp_assets.sandbox.server import SandboxServer
from sp_assets_tests.support import SandboxCaller, caller

from .contract import validate_response

V0 = "catalogItemsV0.json"
V2022 = "catalogItems_2022-04-01.json"
CATEGORIES = "/catalog/v0/categories"
ITEMS = "/catalog/2022-04-01/items"
US = by_code("us").marketplace_id
JP = by_code("jp").marketplace_id


def get(sb: SandboxServer, token: SandboxCaller, path: str, **params: object) -> requests.Response:
    """One call; a 429 (burst 2) is retried by polling until the bucket has a token again."""
    deadline = time.monotonic() + 5.0
    while True:
        answer = token.get(path, params=params)
        if answer.status_code != 429 or time.monotonic() > deadline:
            return answer
        time.sleep(0.002)


@pytest.fixture
def na(sandbox: SandboxServer, request: pytest.FixtureRequest) -> SandboxCaller:
    """A caller of this test's own refresh token: burst 2 is per seller, so tests never share a bucket."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[-50:]
    return caller(sandbox, f"Atzr|sandbox-na-{name}")


# ------------------------------------------------------------------------------- listCatalogCategories
def test_categories_by_asin_and_by_tricky_sku(sandbox: SandboxServer, na: SandboxCaller) -> None:
    product = sandbox.seller.product(US, "KIT#7 SET")
    by_sku = get(sandbox, na, CATEGORIES, MarketplaceId=US, SellerSKU="KIT#7 SET")
    by_asin = get(sandbox, na, CATEGORIES, MarketplaceId=US, ASIN=product.asin)
    assert by_sku.status_code == by_asin.status_code == 200, by_sku.text
    validate_response(V0, "listCatalogCategories", 200, by_sku.json(), strict=True)
    assert by_sku.json() == by_asin.json()
    (leaf,) = by_sku.json()["payload"]
    assert (leaf["ProductCategoryId"], leaf["ProductCategoryName"]) == (product.category_id, product.category_name)
    assert leaf["parent"]["ProductCategoryName"] == product.parent_category
    assert leaf["parent"]["parent"] == {}, "the department is the root of the chain"


@pytest.mark.parametrize(("params", "status", "detail"), [
    ({}, 400, "ASIN or SellerSKU"),
    ({"ASIN": "B0F3IWQE7L", "SellerSKU": "KIT-00-BLK"}, 400, "ASIN or SellerSKU"),
    ({"SellerSKU": "NO-SUCH-SKU"}, 400, "NO-SUCH-SKU"),
    ({"MarketplaceId": JP, "ASIN": "B0F3IWQE7L"}, 403, "region"),
])
def test_categories_errors(sandbox: SandboxServer, na: SandboxCaller, params: dict, status: int,
                           detail: str) -> None:
    answer = get(sandbox, na, CATEGORIES, **{"MarketplaceId": US, **params})
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["errors"][0]["details"]
    validate_response(V0, "listCatalogCategories", status, answer.json(), strict=True)


# ---------------------------------------------------------------------------------- searchCatalogItems
def test_keyword_search_matches_titles_case_insensitively(sandbox: SandboxServer, na: SandboxCaller) -> None:
    answer = get(sandbox, na, ITEMS, marketplaceIds=US, keywords="COFFEE,mug",
                 includedData="summaries,classifications,identifiers,salesRanks,images,productTypes,"
                              "relationships,dimensions,attributes")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    validate_response(V2022, "searchCatalogItems", 200, body, strict=True)
    expected = [p for p in sandbox.seller.products(US) if "coffee mug" in p.title.lower()]
    assert [i["asin"] for i in body["items"]] == [p.asin for p in expected] and len(expected) == 5
    assert body["numberOfResults"] == 5 and "pagination" not in body
    assert body["refinements"]["classifications"] == [
        {"numberOfResults": 5, "displayName": expected[0].category_name, "classificationId": expected[0].category_id}]
    item, product = body["items"][0], expected[0]
    assert item["summaries"][0]["itemName"] == product.title
    assert item["classifications"][0]["classifications"] == [
        classification_json(sandbox.backend("catalog").category_chain(product))]
    assert {i["identifierType"] for i in item["identifiers"][0]["identifiers"]} == {"EAN", "UPC", "GTIN"}
    assert len({i["relationships"][0]["relationships"][0]["parentAsins"][0] for i in body["items"]}) == 1, \
        "the colour variants of one product share a variation parent"


def test_japanese_keywords_find_japanese_titles(sandbox: SandboxServer) -> None:
    fe = caller(sandbox, "Atzr|sandbox-fe-catalog-japanese")
    body = get(sandbox, fe, ITEMS, marketplaceIds=JP, keywords="マグカップ").json()
    validate_response(V2022, "searchCatalogItems", 200, body, strict=True)
    assert body["numberOfResults"] == 5
    assert all("マグカップ" in i["summaries"][0]["itemName"] for i in body["items"])


def test_search_pages_forward_and_back(sandbox: SandboxServer, na: SandboxCaller) -> None:
    everything = [p.asin for p in sandbox.seller.products(US)]
    first = get(sandbox, na, ITEMS, marketplaceIds=US, keywords="brightline", pageSize=20).json()
    assert first["numberOfResults"] == len(everything) == 60
    pages = [first]
    while "nextToken" in pages[-1].get("pagination", {}):
        pages.append(get(sandbox, na, ITEMS, marketplaceIds=US,
                         pageToken=pages[-1]["pagination"]["nextToken"]).json())
    for page in pages:
        validate_response(V2022, "searchCatalogItems", 200, page, strict=True)
    assert [i["asin"] for page in pages for i in page["items"]] == everything
    assert len(pages) == 3 and "previousToken" not in first.get("pagination", {})
    back = get(sandbox, na, ITEMS, marketplaceIds=US, pageToken=pages[2]["pagination"]["previousToken"]).json()
    assert back["items"] == pages[1]["items"]


def test_identifier_searches(sandbox: SandboxServer, na: SandboxCaller) -> None:
    catalog = sandbox.backend("catalog")
    products = sandbox.seller.products(US)[:3]
    by_asin = get(sandbox, na, ITEMS, marketplaceIds=US, identifiersType="ASIN",
                  identifiers=",".join(p.asin for p in products), includedData="classifications").json()
    validate_response(V2022, "searchCatalogItems", 200, by_asin, strict=True)
    assert [i["asin"] for i in by_asin["items"]] == [p.asin for p in products]
    ean = catalog.identifiers(products[1])["EAN"]
    by_ean = get(sandbox, na, ITEMS, marketplaceIds=US, identifiersType="EAN", identifiers=ean).json()
    assert [i["asin"] for i in by_ean["items"]] == [products[1].asin]
    sku = "CABLE+USB/C-1M"
    seller_id = sandbox.backend("sellers").seller_id
    by_sku = get(sandbox, na, ITEMS, marketplaceIds=US, identifiersType="SKU", identifiers=sku, sellerId=seller_id)
    assert [i["asin"] for i in by_sku.json()["items"]] == [sandbox.seller.product(US, sku).asin]
    other_seller = get(sandbox, na, ITEMS, marketplaceIds=US, identifiersType="SKU", identifiers=sku,
                       sellerId="A000000000000").json()
    assert other_seller["items"] == [] and other_seller["numberOfResults"] == 0


@pytest.mark.parametrize(("params", "status", "detail"), [
    ({"keywords": "mug", "identifiers": "B0F3IWQE7L", "identifiersType": "ASIN"}, 400, "same request"),
    ({}, 400, "keywords or identifiers"),
    ({"identifiers": "B0F3IWQE7L"}, 400, "identifiersType"),
    ({"identifiers": "KIT-00-BLK", "identifiersType": "SKU"}, 400, "sellerId"),
    ({"keywords": "mug", "includedData": "summaries,prices"}, 400, "includedData"),
    ({"keywords": "mug", "pageSize": 21}, 400, "pageSize"),
    ({"keywords": "mug", "marketplaceIds": f"{US},A2EUQ1WTGCTBG2"}, 400, "at most 1"),
    ({"keywords": "mug", "marketplaceIds": JP}, 403, "region"),
    ({"pageToken": "AAAA"}, 400, "pageToken"),
])
def test_search_errors(sandbox: SandboxServer, na: SandboxCaller, params: dict, status: int,
                       detail: str) -> None:
    answer = get(sandbox, na, ITEMS, **{"marketplaceIds": US, **params})
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["errors"][0]["details"]
    validate_response(V2022, "searchCatalogItems", status, answer.json(), strict=True)


# ------------------------------------------------------------------------------------- getCatalogItem
def test_get_catalog_item_and_its_sales_ranks(sandbox: SandboxServer, na: SandboxCaller) -> None:
    product = sandbox.seller.product(US, "MUG 12oz BLUE")
    before = sandbox.seller.now().date()
    answer = get(sandbox, na, f"{ITEMS}/{product.asin}", marketplaceIds=f"{US},A2EUQ1WTGCTBG2",
                 includedData="summaries,salesRanks")
    assert answer.status_code == 200, answer.text
    item = answer.json()
    validate_response(V2022, "getCatalogItem", 200, item, strict=True)
    assert [s["marketplaceId"] for s in item["summaries"]] == [US, "A2EUQ1WTGCTBG2"], "one entry per marketplace"
    catalog = sandbox.backend("catalog")
    ranks = {catalog.sales_ranks(US, product, day).classification_rank  # a UTC midnight may pass meanwhile
             for day in (before, sandbox.seller.now().date())}
    assert item["salesRanks"][0]["classificationRanks"][0]["rank"] in ranks

    missing = get(sandbox, na, f"{ITEMS}/B000000000", marketplaceIds=US)
    assert missing.status_code == 404
    validate_response(V2022, "getCatalogItem", 404, missing.json(), strict=True)
