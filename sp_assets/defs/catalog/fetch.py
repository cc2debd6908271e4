"""API answers to rows for Catalog Items: plain functions the assets call before writing.

Product categories come from Catalog 2022-04-01 ``classifications`` by default. That API finds items
by ASIN (a search by SKU also needs the seller id, which the configuration does not carry), so the
SKUs are first resolved to ASINs with getPricing (ItemType=Sku), which also tells which SKUs Amazon
does not know, exactly as the pricing assets see them. With ``catalog_categories_api: v0`` each SKU
is asked directly (listCatalogCategories, SellerSKU); Amazon answers an unknown SKU with HTTP 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sp_assets.defs.pricing.fetch import fetch_priced
from sp_assets.lib.spapi import catalog as catalog_api
from sp_assets.lib.spapi import pricing as pricing_api
from sp_assets.lib.spapi.errors import InvalidInputError, NotFoundError
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.tables.catalog import catalog_match_row, category_rows_2022, category_rows_v0

SEARCH_BATCH = 20  # identifiers per searchCatalogItems call (Amazon's maximum)
MATCH_DATASETS = ("summaries", "identifiers", "salesRanks", "productTypes")


@dataclass
class CategoryRows:
    rows: list[dict[str, Any]] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)  # SKU -> Amazon's status or error code
    without_categories: list[str] = field(default_factory=list)  # valid SKUs Amazon gave no category for


def fetch_category_rows(client: SPAPIClient, marketplace_id: str, skus: Sequence[str], api: str,
                        snapshot_date: date, snapshot_time: datetime) -> CategoryRows:
    """Category rows of ``skus`` from ``api`` ("2022-04-01" or "v0")."""
    if api == "v0":
        return _categories_v0(client, marketplace_id, skus, snapshot_date, snapshot_time)
    return _categories_2022(client, marketplace_id, skus, snapshot_date, snapshot_time)


def _categories_2022(client: SPAPIClient, marketplace_id: str, skus: Sequence[str], snapshot_date: date,
                     snapshot_time: datetime) -> CategoryRows:
    priced = fetch_priced(client, marketplace_id, skus, pricing_api.get_pricing)
    asin_of = {sku: _asin(record) for sku, record in priced.valid.items()}
    asins = sorted({asin for asin in asin_of.values() if asin})
    items: dict[str, dict[str, Any]] = {}
    for index in range(0, len(asins), SEARCH_BATCH):
        for item in catalog_api.search_catalog_items(
                client, marketplace_id, identifiers=asins[index:index + SEARCH_BATCH], identifiers_type="ASIN",
                included_data=("classifications",), page_size=SEARCH_BATCH):
            items[str(item.get("asin"))] = item
    out = CategoryRows(invalid=dict(priced.invalid))
    for sku in sorted(asin_of):
        item = items.get(asin_of[sku] or "")
        rows = category_rows_2022(sku, item, marketplace_id, snapshot_date, snapshot_time) if item else []
        out.rows.extend(rows)
        if not rows:
            out.without_categories.append(sku)
    return out


def _asin(record: dict[str, Any]) -> str | None:
    return (((record.get("Product") or {}).get("Identifiers") or {}).get("MarketplaceASIN") or {}).get("ASIN")


def _categories_v0(client: SPAPIClient, marketplace_id: str, skus: Sequence[str], snapshot_date: date,
                   snapshot_time: datetime) -> CategoryRows:
    out = CategoryRows()
    for sku in dict.fromkeys(skus):
        try:
            categories = catalog_api.list_catalog_categories(client, marketplace_id, seller_sku=sku)
        except (InvalidInputError, NotFoundError) as error:
            out.invalid[sku] = f"HTTP {error.status}"
            continue
        rows = category_rows_v0(sku, categories, snapshot_date, snapshot_time)
        out.rows.extend(rows)
        if not rows:
            out.without_categories.append(sku)
    return out


def fetch_catalog_match_rows(client: SPAPIClient, marketplace_id: str, keywords: Sequence[str],
                             snapshot_date: date, snapshot_time: datetime) -> list[dict[str, Any]]:
    """Every item of the keyword search (Amazon pages through at most 1,000), in Amazon's order."""
    items = catalog_api.search_catalog_items(client, marketplace_id, keywords=list(keywords),
                                             included_data=MATCH_DATASETS, page_size=catalog_api.MAX_PAGE_SIZE)
    return [catalog_match_row(item, position, keywords, marketplace_id, snapshot_date, snapshot_time)
            for position, item in enumerate(items, start=1)]
