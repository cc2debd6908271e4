"""Catalog Items: ``listCatalogCategories`` (v0) and ``searchCatalogItems`` (2022-04-01)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .http import SPAPIClient
from .pages import CATALOG_2022, iter_records, top_list

CATEGORIES_PATH = "/catalog/v0/categories"
ITEMS_2022_PATH = "/catalog/2022-04-01/items"
INCLUDED_DATA = ("attributes", "classifications", "dimensions", "identifiers", "images", "productTypes",
                 "relationships", "salesRanks", "summaries", "vendorDetails")
MAX_PAGE_SIZE = 20


def list_catalog_categories(
    client: SPAPIClient, marketplace_id: str, *, asin: str | None = None, seller_sku: str | None = None
) -> list[dict[str, Any]]:
    """The browse categories of one ASIN or SKU (give exactly one); ``parent`` chains are kept as-is.

    Deprecated by Amazon (replacement: ``searchCatalogItems`` with ``includedData=classifications``)
    but still in the 2026-08 model.
    """
    if (asin is None) == (seller_sku is None):
        raise ValueError("give exactly one of asin or seller_sku")
    body = client.request("listCatalogCategories", "GET", CATEGORIES_PATH,
                          params={"MarketplaceId": marketplace_id, "ASIN": asin, "SellerSKU": seller_sku})
    payload = body.get("payload") if isinstance(body, dict) else None
    return payload if isinstance(payload, list) else []


def search_catalog_items(
    client: SPAPIClient,
    marketplace_id: str,
    *,
    keywords: Sequence[str] | None = None,
    identifiers: Sequence[str] | None = None,
    identifiers_type: str | None = None,
    seller_id: str | None = None,
    included_data: Sequence[str] = ("summaries",),
    page_size: int = MAX_PAGE_SIZE,
    locale: str | None = None,
    max_pages: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every item (``items``) of a keyword or identifier search, following ``pageToken``.

    Amazon pages through at most 1,000 results. ``identifiers`` (<= 20) needs ``identifiers_type``
    and excludes ``keywords``; ``identifiers_type="SKU"`` also needs ``seller_id``.
    """
    if (keywords is None) == (identifiers is None):
        raise ValueError("give exactly one of keywords or identifiers")
    if identifiers is not None and not identifiers_type:
        raise ValueError("identifiers_type is required with identifiers (ASIN, EAN, GTIN, ISBN, JAN, MINSAN, SKU, UPC)")
    if identifiers_type == "SKU" and not seller_id:
        raise ValueError("seller_id is required when identifiers_type is SKU")
    bad = [d for d in included_data if d not in INCLUDED_DATA]
    if bad:
        raise ValueError(f"included_data has unknown value(s) {bad}; allowed: {', '.join(INCLUDED_DATA)}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
    params: dict[str, Any] = {
        "marketplaceIds": [marketplace_id],
        "keywords": list(keywords) if keywords is not None else None,
        "identifiers": list(identifiers) if identifiers is not None else None,
        "identifiersType": identifiers_type,
        "sellerId": seller_id,
        "includedData": list(included_data),
        "pageSize": page_size,
        "locale": locale,
    }
    yield from iter_records(client, "searchCatalogItems", ITEMS_2022_PATH, params, CATALOG_2022,
                            top_list("items"), max_pages=max_pages)
