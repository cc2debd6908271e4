"""Product Pricing v0: getPricing ``GET /products/pricing/v0/price`` and getCompetitivePricing
``GET /products/pricing/v0/competitivePrice`` (0.5/s, burst 1 each).

``ItemType`` (Asin|Sku) chooses which list is read; each list takes at most 20 identifiers. Every
requested identifier gets its own entry in ``payload``; an unknown one is ``status: ClientError`` in
a 200 answer (and named in the answer's top-level ``errors``), so a client must look at each entry's
status and must not treat ``errors`` beside a ``payload`` as a failed call.
"""

from __future__ import annotations

from starlette.routing import Route

from sp_assets.sandbox.backends.catalog import CatalogBackend
from sp_assets.sandbox.backends.pricing import (
    CUSTOMER_TYPES,
    ITEM_CONDITIONS,
    ITEM_TYPES,
    MAX_IDENTIFIERS,
    OFFER_TYPES,
    PricingBackend,
    client_errors,
)
from sp_assets.sandbox.operations import ApiRequest, ApiResult, Operation, api_route, invalid
from sp_assets.sandbox.state import SandboxState

GET_PRICING = Operation("getPricing", 0.5, 1)
GET_COMPETITIVE_PRICING = Operation("getCompetitivePricing", 0.5, 1)


def build(state: SandboxState) -> list[Route]:
    catalog = state.backends.setdefault("catalog", CatalogBackend(state.seller))
    state.backends["pricing"] = PricingBackend(state.seller, catalog)
    return [
        api_route("GET", "/products/pricing/v0/price", GET_PRICING, get_pricing, state),
        api_route("GET", "/products/pricing/v0/competitivePrice", GET_COMPETITIVE_PRICING,
                  get_competitive_pricing, state),
    ]


def get_pricing(req: ApiRequest, state: SandboxState) -> ApiResult:
    marketplace_id, item_type, identifiers = _identifiers(req)
    condition = _choice(req, "ItemCondition", ITEM_CONDITIONS)
    offer_type = _choice(req, "OfferType", OFFER_TYPES) or "B2C"
    backend: PricingBackend = state.backends["pricing"]
    entries = backend.pricing_entries(marketplace_id, item_type, identifiers, condition, offer_type)
    return _answer(marketplace_id, item_type, entries)


def get_competitive_pricing(req: ApiRequest, state: SandboxState) -> ApiResult:
    marketplace_id, item_type, identifiers = _identifiers(req)
    customer_type = _choice(req, "CustomerType", CUSTOMER_TYPES) or "Consumer"
    backend: PricingBackend = state.backends["pricing"]
    entries = backend.competitive_entries(marketplace_id, item_type, identifiers, customer_type, state.seller.now())
    return _answer(marketplace_id, item_type, entries)


def _answer(marketplace_id: str, item_type: str, entries: list[dict]) -> ApiResult:
    """200 with one entry per identifier; unknown identifiers are also named in the top-level ``errors``."""
    body: dict = {"payload": entries}
    errors = client_errors(marketplace_id, item_type, entries)
    if errors:
        body["errors"] = errors
    return ApiResult(body)


def _identifiers(req: ApiRequest) -> tuple[str, str, list[str]]:
    """MarketplaceId, ItemType and the list ItemType names (Asins or Skus), validated."""
    marketplace_id = req.required("MarketplaceId")
    req.check_marketplace(marketplace_id)
    item_type = _choice(req, "ItemType", ITEM_TYPES)
    if item_type is None:
        raise invalid("ItemType is required: Asin (then send Asins) or Sku (then send Skus)")
    name = "Skus" if item_type == "Sku" else "Asins"
    identifiers = req.list(name, MAX_IDENTIFIERS)
    if not identifiers:
        wanted = "SellerSKU" if item_type == "Sku" else "ASIN"
        raise invalid(f"ItemType={item_type} needs {name} (1 to {MAX_IDENTIFIERS} values)",
                      f"Required parameter {wanted} not found")
    return marketplace_id, item_type, identifiers


def _choice(req: ApiRequest, name: str, allowed: tuple[str, ...]) -> str | None:
    value = req.get(name)
    if value is not None and value not in allowed:
        raise invalid(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value
