"""Catalog Items: listCatalogCategories v0 ``GET /catalog/v0/categories`` (1/s, burst 2) and, in
2022-04-01, searchCatalogItems ``GET /catalog/2022-04-01/items`` and getCatalogItem
``GET /catalog/2022-04-01/items/{asin}`` (2/s, burst 2 each).

v0 wraps its answer in ``payload``; 2022-04-01 has no wrapper and pages with ``pageToken`` set to
``pagination.nextToken`` (``previousToken`` goes back).
"""

from __future__ import annotations

from starlette.routing import Route

from sp_assets.sandbox.backends.catalog import (
    IDENTIFIER_TYPES,
    INCLUDED_DATA,
    CatalogBackend,
    category_json,
)
from sp_assets.sandbox.backends.paging import InvalidPageToken, PageTokens, from_moment, to_moment
from sp_assets.sandbox.backends.sellers import seller_id
from sp_assets.sandbox.operations import ApiError, ApiRequest, ApiResult, Operation, api_route, invalid
from sp_assets.sandbox.state import SandboxState

LIST_CATALOG_CATEGORIES = Operation("listCatalogCategories", 1.0, 2)
SEARCH_CATALOG_ITEMS = Operation("searchCatalogItems", 2.0, 2)
GET_CATALOG_ITEM = Operation("getCatalogItem", 2.0, 2)
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 20
MAX_LIST = 20


def build(state: SandboxState) -> list[Route]:
    state.backends.setdefault("catalog", CatalogBackend(state.seller))
    return [
        api_route("GET", "/catalog/v0/categories", LIST_CATALOG_CATEGORIES, list_catalog_categories, state),
        api_route("GET", "/catalog/2022-04-01/items", SEARCH_CATALOG_ITEMS, search_catalog_items, state),
        api_route("GET", "/catalog/2022-04-01/items/{asin}", GET_CATALOG_ITEM, get_catalog_item, state),
    ]


def list_catalog_categories(req: ApiRequest, state: SandboxState) -> ApiResult:
    marketplace_id = req.required("MarketplaceId")
    req.check_marketplace(marketplace_id)
    asin, sku = req.get("ASIN"), req.get("SellerSKU")
    if (asin is None) == (sku is None):
        raise invalid("Send exactly one of ASIN or SellerSKU")
    backend: CatalogBackend = state.backends["catalog"]
    categories = backend.categories(marketplace_id, asin=asin, sku=sku)
    if categories is None:
        name, value = ("ASIN", asin) if asin is not None else ("SellerSKU", sku)
        raise invalid(f"{name} {value!r} is not in the seller's catalog for marketplace {marketplace_id}",
                      f"{value} is an invalid {name} for marketplace {marketplace_id}")
    return ApiResult({"payload": [category_json(c) for c in categories]})


def search_catalog_items(req: ApiRequest, state: SandboxState) -> ApiResult:
    backend: CatalogBackend = state.backends["catalog"]
    tokens = PageTokens(state.config.seed, "catalog-search")
    token = req.get("pageToken")
    if token is not None:
        try:
            query = tokens.decode(token, "pageToken")
        except InvalidPageToken as error:
            raise invalid(str(error)) from None
        if req.list("marketplaceIds", 1) != [query["mp"]]:
            raise invalid(f"marketplaceIds is required with pageToken and must be the query's ({query['mp']})")
    else:
        query = _search_query(req, state)
    marketplace_id = query["mp"]
    req.check_marketplace(marketplace_id)
    found = backend.search(marketplace_id, query["keywords"], query["identifiers"], query["identifiers_type"],
                           query["brands"], query["classifications"])
    if query["identifiers_type"] == "SKU" and query["seller_id"] != seller_id(state.config.seed):
        found = []  # SKUs belong to a seller: another seller's id finds none of ours
    offset, size = query["o"], query["size"]
    as_of = to_moment(query["as_of"])
    base = {k: v for k, v in query.items() if k != "o"}
    pagination = {}
    if offset + size < len(found):
        pagination["nextToken"] = tokens.encode({**base, "o": offset + size})
    if offset > 0:
        pagination["previousToken"] = tokens.encode({**base, "o": max(0, offset - size)})
    body: dict = {"numberOfResults": len(found)}
    if pagination:
        body["pagination"] = pagination
    body.update({
        "refinements": backend.refinements(marketplace_id, found),
        "items": [backend.render_item(p.asin, [marketplace_id], query["included"], as_of)
                  for p in found[offset:offset + size]],
    })
    return ApiResult(body)


def _search_query(req: ApiRequest, state: SandboxState) -> dict:
    marketplace_ids = req.list("marketplaceIds", 1)
    if not marketplace_ids:
        raise invalid("marketplaceIds is required (exactly one marketplace id)")
    keywords = req.list("keywords", MAX_LIST)
    identifiers = req.list("identifiers", MAX_LIST)
    identifiers_type = req.get("identifiersType")
    if keywords and identifiers:
        raise invalid("identifiers and keywords cannot be used in the same request")
    if not keywords and not identifiers:
        raise invalid("Send keywords or identifiers (with identifiersType)")
    if identifiers:
        if identifiers_type is None:
            raise invalid(f"identifiersType is required with identifiers: one of {', '.join(IDENTIFIER_TYPES)}")
        if identifiers_type not in IDENTIFIER_TYPES:
            raise invalid(f"identifiersType must be one of {', '.join(IDENTIFIER_TYPES)}, got {identifiers_type!r}")
        if identifiers_type == "SKU" and not req.get("sellerId"):
            raise invalid("sellerId is required when identifiersType is SKU")
        for name in ("brandNames", "classificationIds", "keywordsLocale"):
            if req.get(name) is not None:
                raise invalid(f"{name} applies only to keyword searches, not with identifiers")
    return {
        "mp": marketplace_ids[0], "keywords": keywords, "identifiers": identifiers,
        "identifiers_type": identifiers_type, "seller_id": req.get("sellerId"),
        "brands": req.list("brandNames"), "classifications": req.list("classificationIds"),
        "included": _included(req),
        "size": req.integer("pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        "as_of": from_moment(state.seller.now()), "o": 0,
    }


def get_catalog_item(req: ApiRequest, state: SandboxState) -> ApiResult:
    asin = req.path_params["asin"]
    marketplace_ids = req.list("marketplaceIds")
    if not marketplace_ids:
        raise invalid("marketplaceIds is required")
    for marketplace_id in marketplace_ids:
        req.check_marketplace(marketplace_id)
    backend: CatalogBackend = state.backends["catalog"]
    item = backend.render_item(asin, marketplace_ids, _included(req), state.seller.now())
    if item is None:
        raise ApiError(404, "NotFound", f"Requested item '{asin}' not found in marketplace(s) "
                                        f"{', '.join(marketplace_ids)}")
    return ApiResult(item)


def _included(req: ApiRequest) -> list[str]:
    return req.list("includedData", allowed=INCLUDED_DATA) or ["summaries"]
