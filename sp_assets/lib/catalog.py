"""Catalog Items: product categories per SKU and keyword search results (calls, rows, specs, fetch).

**Amazon calls.** Catalog Items: ``listCatalogCategories`` (v0) and ``searchCatalogItems`` (2022-04-01).

**Rows.** ``product_categories`` has one row per (SKU, leaf browse category) per snapshot day, from Catalog
2022-04-01 ``classifications`` (default) or v0 ``listCatalogCategories``. Both APIs give a leaf with
a chain of parents; the row carries the leaf, its parent, the root and the whole path, so the two
sources fill the same columns (``source_api`` says which one answered). ``catalog_matches`` has one
row per ASIN a keyword search found, per snapshot day, with its position in Amazon's results.

**Fetch.** Product categories come from Catalog 2022-04-01 ``classifications`` by default. That API finds items
by ASIN (a search by SKU also needs the seller id, which the configuration does not carry), so the
SKUs are first resolved to ASINs with getPricing (ItemType=Sku), which also tells which SKUs Amazon
does not know, exactly as the pricing assets see them. With ``catalog_categories_api: v0`` each SKU
is asked directly (listCatalogCategories, SellerSKU); Amazon answers an unknown SKU with HTTP 400.

The module reads top to bottom as the data flows: the Amazon calls, the record-to-row mapping, the table
specs, then the fetch functions the assets call (pages -> records -> rows). Nothing here touches
DuckDB or Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sp_assets.lib.pricing import fetch_priced, get_pricing
from sp_assets.lib.spapi.errors import InvalidInputError, NotFoundError
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.spapi.pages import CATALOG_2022, iter_records, top_list
from sp_assets.lib.tablespec import BIGINT, DATE, JSON, TIMESTAMPTZ, VARCHAR, Column, TableSpec

# ------------------------------------------------------------------------------------------------
# Amazon calls
# ------------------------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------------------------
# Record-to-row mapping
# ------------------------------------------------------------------------------------------------

PATH_SEPARATOR = " > "
SOURCE_2022 = "2022-04-01"
SOURCE_V0 = "v0"


def _chain(node: Any, id_key: str, name_key: str) -> list[tuple[str, str | None]]:
    """(id, name) from the leaf up to the root; an empty ``parent`` ({} in v0) ends the chain."""
    out: list[tuple[str, str | None]] = []
    while isinstance(node, dict) and node.get(id_key) is not None:
        out.append((str(node[id_key]), node.get(name_key)))
        node = node.get("parent")
    return out


def _category_row(sku: str, asin: str | None, chain: list[tuple[str, str | None]], source: str,
                  snapshot_date: date, snapshot_time: datetime) -> dict[str, Any]:
    leaf, root = chain[0], chain[-1]
    parent = chain[1] if len(chain) > 1 else (None, None)
    downward = list(reversed(chain))
    return {
        "snapshot_date": snapshot_date,
        "seller_sku": sku,
        "category_id": leaf[0],
        "asin": asin,
        "category_name": leaf[1],
        "parent_category_id": parent[0],
        "parent_category_name": parent[1],
        "root_category_id": root[0],
        "root_category_name": root[1],
        "category_path": PATH_SEPARATOR.join(name or "" for _, name in downward),
        "category_id_path": PATH_SEPARATOR.join(cid for cid, _ in downward),
        "depth": len(chain),
        "source_api": source,
        "snapshot_time": snapshot_time,
    }


def category_rows_2022(sku: str, item: dict[str, Any], marketplace_id: str, snapshot_date: date,
                       snapshot_time: datetime) -> list[dict[str, Any]]:
    """A Catalog 2022-04-01 item's ``classifications`` in ``marketplace_id`` as rows for ``sku``."""
    rows = []
    for entry in item.get("classifications") or []:
        if not isinstance(entry, dict) or entry.get("marketplaceId") not in (None, marketplace_id):
            continue
        for node in entry.get("classifications") or []:
            chain = _chain(node, "classificationId", "displayName")
            if chain:
                rows.append(_category_row(sku, item.get("asin"), chain, SOURCE_2022, snapshot_date, snapshot_time))
    return rows


def category_rows_v0(sku: str, categories: Sequence[dict[str, Any]], snapshot_date: date,
                     snapshot_time: datetime) -> list[dict[str, Any]]:
    """v0 ``listCatalogCategories`` answer for ``sku`` as rows (no ASIN: v0 does not return it)."""
    rows = []
    for node in categories:
        chain = _chain(node, "ProductCategoryId", "ProductCategoryName")
        if chain:
            rows.append(_category_row(sku, None, chain, SOURCE_V0, snapshot_date, snapshot_time))
    return rows


def _for_marketplace(item: dict[str, Any], dataset: str, marketplace_id: str) -> dict[str, Any]:
    """The entry of a per-marketplace dataset (``summaries``...) for ``marketplace_id``, or {}."""
    entries = [e for e in item.get(dataset) or [] if isinstance(e, dict)]
    return next((e for e in entries if e.get("marketplaceId") == marketplace_id), {})


def catalog_match_row(item: dict[str, Any], position: int, keywords: Sequence[str], marketplace_id: str,
                      snapshot_date: date, snapshot_time: datetime) -> dict[str, Any]:
    """One searchCatalogItems item (summaries, identifiers, salesRanks, productTypes) as a row."""
    summary = _for_marketplace(item, "summaries", marketplace_id)
    browse = summary.get("browseClassification") or {}
    identifiers = [i for i in _for_marketplace(item, "identifiers", marketplace_id).get("identifiers") or []
                   if isinstance(i, dict)]
    by_type: dict[str, Any] = {}
    for identifier in identifiers:
        by_type.setdefault(str(identifier.get("identifierType", "")).upper(), identifier.get("identifier"))
    ranks = _for_marketplace(item, "salesRanks", marketplace_id)
    classification_ranks = [r for r in ranks.get("classificationRanks") or [] if isinstance(r, dict)]
    group_ranks = [r for r in ranks.get("displayGroupRanks") or [] if isinstance(r, dict)]
    first_class = classification_ranks[0] if classification_ranks else {}
    first_group = group_ranks[0] if group_ranks else {}
    return {
        "snapshot_date": snapshot_date,
        "asin": item.get("asin"),
        "search_position": position,
        "keywords": ",".join(keywords),
        "item_name": summary.get("itemName"),
        "brand": summary.get("brand"),
        "manufacturer": summary.get("manufacturer"),
        "model_number": summary.get("modelNumber"),
        "part_number": summary.get("partNumber"),
        "color": summary.get("color"),
        "size": summary.get("size"),
        "style": summary.get("style"),
        "item_classification": summary.get("itemClassification"),
        "browse_classification_id": browse.get("classificationId"),
        "browse_classification_name": browse.get("displayName"),
        "website_display_group": summary.get("websiteDisplayGroup"),
        "product_type": _for_marketplace(item, "productTypes", marketplace_id).get("productType"),
        "classification_rank": first_class.get("rank"),
        "classification_rank_title": first_class.get("title"),
        "display_group_rank": first_group.get("rank"),
        "display_group_rank_title": first_group.get("title"),
        "ean": by_type.get("EAN"),
        "upc": by_type.get("UPC"),
        "gtin": by_type.get("GTIN"),
        "identifiers": identifiers,
        "snapshot_time": snapshot_time,
    }


# ------------------------------------------------------------------------------------------------
# Table specs
# ------------------------------------------------------------------------------------------------

PRODUCT_CATEGORIES = TableSpec(
    name="product_categories",
    columns=(
        Column("snapshot_date", DATE, nullable=False, description="the seller's local day of the snapshot"),
        Column("seller_sku", VARCHAR, nullable=False),
        Column("category_id", VARCHAR, nullable=False, description="the leaf browse category (classification) id"),
        Column("asin", VARCHAR, description="null from v0 (listCatalogCategories does not return it)"),
        Column("category_name", VARCHAR),
        Column("parent_category_id", VARCHAR),
        Column("parent_category_name", VARCHAR),
        Column("root_category_id", VARCHAR),
        Column("root_category_name", VARCHAR),
        Column("category_path", VARCHAR, description="root to leaf names joined with ' > '"),
        Column("category_id_path", VARCHAR, description="root to leaf ids joined with ' > '"),
        Column("depth", BIGINT, description="levels in the chain (1: the leaf is a root)"),
        Column("source_api", VARCHAR, description="2022-04-01 (classifications) or v0 (listCatalogCategories)"),
        Column("snapshot_time", TIMESTAMPTZ, nullable=False, description="when the API was asked (UTC)"),
    ),
    primary_key=("snapshot_date", "seller_sku", "category_id"),
    partition_column="snapshot_date",
    description="The browse categories of each SKU (the seed's Product Categories for SKU); one row per SKU "
                "and leaf category per snapshot day.",
)

CATALOG_MATCHES = TableSpec(
    name="catalog_matches",
    columns=(
        Column("snapshot_date", DATE, nullable=False, description="the seller's local day of the snapshot"),
        Column("asin", VARCHAR, nullable=False),
        Column("search_position", BIGINT, description="1-based position in Amazon's results"),
        Column("keywords", VARCHAR, description="the configured query (catalog_keywords), comma-separated"),
        Column("item_name", VARCHAR),
        Column("brand", VARCHAR),
        Column("manufacturer", VARCHAR),
        Column("model_number", VARCHAR),
        Column("part_number", VARCHAR),
        Column("color", VARCHAR),
        Column("size", VARCHAR),
        Column("style", VARCHAR),
        Column("item_classification", VARCHAR),
        Column("browse_classification_id", VARCHAR),
        Column("browse_classification_name", VARCHAR),
        Column("website_display_group", VARCHAR),
        Column("product_type", VARCHAR),
        Column("classification_rank", BIGINT, description="the first classificationRanks rank"),
        Column("classification_rank_title", VARCHAR),
        Column("display_group_rank", BIGINT, description="the first displayGroupRanks rank"),
        Column("display_group_rank_title", VARCHAR),
        Column("ean", VARCHAR),
        Column("upc", VARCHAR),
        Column("gtin", VARCHAR),
        Column("identifiers", JSON, description="every identifier of the marketplace"),
        Column("snapshot_time", TIMESTAMPTZ, nullable=False, description="when the API was asked (UTC)"),
    ),
    primary_key=("snapshot_date", "asin"),
    partition_column="snapshot_date",
    description="Catalog items matching the configured keywords (the seed's List Matching Products: "
                "searchCatalogItems); one row per ASIN per snapshot day.",
)


# ------------------------------------------------------------------------------------------------
# Fetch: Amazon's pages to rows
# ------------------------------------------------------------------------------------------------

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
    priced = fetch_priced(client, marketplace_id, skus, get_pricing)
    asin_of = {sku: _asin(record) for sku, record in priced.valid.items()}
    asins = sorted({asin for asin in asin_of.values() if asin})
    items: dict[str, dict[str, Any]] = {}
    for index in range(0, len(asins), SEARCH_BATCH):
        for item in search_catalog_items(
                client, marketplace_id, identifiers=asins[index:index + SEARCH_BATCH], identifiers_type="ASIN",
                included_data=("classifications",), page_size=SEARCH_BATCH):
            items[str(item.get("asin"))] = item
    out = CategoryRows(invalid=dict(priced.invalid))
    for sku in sorted(asin_of):
        found = items.get(asin_of[sku] or "")
        rows = category_rows_2022(sku, found, marketplace_id, snapshot_date, snapshot_time) if found else []
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
            categories = list_catalog_categories(client, marketplace_id, seller_sku=sku)
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
    items = search_catalog_items(client, marketplace_id, keywords=list(keywords),
                                 included_data=MATCH_DATASETS, page_size=MAX_PAGE_SIZE)
    return [catalog_match_row(item, position, keywords, marketplace_id, snapshot_date, snapshot_time)
            for position, item in enumerate(items, start=1)]
