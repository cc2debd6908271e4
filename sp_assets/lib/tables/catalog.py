"""Catalog Items: product categories per SKU and keyword search results (table specs and row mapping).

``product_categories`` has one row per (SKU, leaf browse category) per snapshot day, from Catalog
2022-04-01 ``classifications`` (default) or v0 ``listCatalogCategories``. Both APIs give a leaf with
a chain of parents; the row carries the leaf, its parent, the root and the whole path, so the two
sources fill the same columns (``source_api`` says which one answered). ``catalog_matches`` has one
row per ASIN a keyword search found, per snapshot day, with its position in Amazon's results.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sp_assets.lib.tables.base import BIGINT, DATE, JSON, TIMESTAMPTZ, VARCHAR, Column, TableSpec

PATH_SEPARATOR = " > "
SOURCE_2022 = "2022-04-01"
SOURCE_V0 = "v0"

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
    by_type = {}
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
