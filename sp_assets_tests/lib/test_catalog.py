"""Catalog Items: searchCatalogItems pages with pageToken; listCatalogCategories and its errors."""

from __future__ import annotations

import pytest

from sp_assets.lib.catalog import list_catalog_categories, search_catalog_items
from sp_assets.lib.spapi import InvalidInputError
from sp_assets_tests.lib.spapi.support import US, client_for


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
